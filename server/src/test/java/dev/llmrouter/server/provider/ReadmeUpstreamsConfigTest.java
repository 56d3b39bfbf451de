package dev.llmrouter.server.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.testing.BedrockEventStream;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.WireExchange;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The README's `upstreams.yaml` (Azure OpenAI with a key and with an Entra ID token, Cohere, Mistral, Bedrock),
 * `responses.yaml` (OpenAI's Responses API, falling back to Azure's) and `vertex.yaml` (Vertex AI with a token, with
 * Application Default Credentials, in express mode) start as written, their local upstream's port aside, and each of
 * their providers answers through a local upstream.
 */
class ReadmeUpstreamsConfigTest {

  private static final String README_UPSTREAM = "http://127.0.0.1:8089";
  private static final String CHAT_ANSWER = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
      + "\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi!\"},"
      + "\"finish_reason\":\"stop\"}]}";

  private static final String RESPONSES_ANSWER = "{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1,"
      + "\"status\":\"completed\",\"model\":\"gpt-5-mini\",\"output\":[{\"type\":\"message\",\"role\":\"assistant\","
      + "\"content\":[{\"type\":\"output_text\",\"text\":\"Hi!\"}]}]}";

  private Vertx vertx;
  private MockUpstream upstream;
  private RunningRouter router;

  @BeforeEach
  void start() throws IOException {
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx);
    String yaml = readmeBlock("# upstreams.yaml").replace(README_UPSTREAM, upstream.baseUrl());
    router = RunningRouter.start(vertx, ConfigLoader.parse(yaml,
        Map.of("AZURE_OPENAI_API_KEY", "local-key", "AZURE_AD_TOKEN", "local-token", "COHERE_API_KEY", "local-co",
            "AWS_ACCESS_KEY_ID", "AKIDLOCAL", "AWS_SECRET_ACCESS_KEY", "local")::get));
  }

  @AfterEach
  void stop() throws Exception {
    router.close();
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  @Test
  void azureWithAKeyAndWithAnEntraIdToken() {
    upstream.reply(200, "application/json", CHAT_ANSWER);
    assertEquals("Hi!", text(chat("azure/gpt-4o-mini")));
    assertEquals("/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21", upstream.lastRequest().uri());
    assertEquals("local-key", upstream.lastRequest().headers().get("api-key"));
    assertEquals("Hi!", text(chat("azure-entra/gpt-4o")));
    assertEquals("Bearer local-token", upstream.lastRequest().headers().get("authorization"));
  }

  @Test
  void cohere() {
    upstream.replay(WireExchange.own("cohere").stream().filter(e -> e.name().endsWith("/stream-text.json"))
        .findFirst().orElseThrow());
    assertEquals("Ahoy! The tide waits for no one.", text(chat("cohere/command-a-03-2025")));
    assertEquals("/v2/chat", upstream.lastRequest().uri());
    assertEquals("Bearer local-co", upstream.lastRequest().headers().get("authorization"));
  }

  @Test
  void vertexWithATokenForBothPublishersAndInExpressMode() throws Exception {
    String yaml = readmeBlock("# vertex.yaml").replace(README_UPSTREAM, upstream.baseUrl());
    RunningRouter vertex = RunningRouter.start(vertx, ConfigLoader.parse(yaml,
        Map.of("VERTEX_TOKEN", "local-vertex-token", "VERTEX_API_KEY", "local-vertex-key")::get));
    try {
      upstream.reply(200, "application/json", "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":"
          + "[{\"text\":\"Hi!\"}]},\"finishReason\":\"STOP\"}],\"responseId\":\"r1\"}");
      assertEquals("Hi!", text(vertex.chat().chat(request("vertex/gemini-2.5-flash"))));
      assertEquals("/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash"
          + ":generateContent", upstream.lastRequest().uri());
      assertEquals("Bearer local-vertex-token", upstream.lastRequest().headers().get("authorization"));
      assertEquals("Hi!", text(vertex.chat().chat(request("vertex-express/gemini-2.5-flash"))));
      assertEquals("/v1/publishers/google/models/gemini-2.5-flash:generateContent", upstream.lastRequest().uri());
      assertEquals("local-vertex-key", upstream.lastRequest().headers().get("x-goog-api-key"));
      upstream.reply(200, "application/json", "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
          + "\"model\":\"claude-sonnet-4-20250514\",\"content\":[{\"type\":\"text\",\"text\":\"Hi!\"}],"
          + "\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":8,\"output_tokens\":3}}");
      assertEquals("Hi!", text(vertex.chat().chat(request("vertex/claude-sonnet-4@20250514"))));
      assertEquals("/v1/projects/my-project/locations/us-central1/publishers/anthropic/models/"
          + "claude-sonnet-4@20250514:rawPredict", upstream.lastRequest().uri());
    } finally {
      vertex.close();
    }
  }

  @Test
  void bedrockSignedWithTheKeysInTheEnvironment() {
    upstream.answer(r -> BedrockEventStream.answerText(r, "Bonjour", "!"));
    assertEquals("Bonjour!", text(chat("bedrock/us.amazon.nova-micro-v1:0")));
    assertEquals("/model/us.amazon.nova-micro-v1%3A0/converse", upstream.lastRequest().uri());
    assertTrue(upstream.lastRequest().headers().get("authorization")
        .startsWith("AWS4-HMAC-SHA256 Credential=AKIDLOCAL/"), upstream.lastRequest().headers().get("authorization"));
    Model listed = router.models().listModels(ListModelsRequest.newBuilder().setProvider("bedrock").build())
        .getModels(0);
    assertEquals("bedrock/us.amazon.nova-micro-v1:0", listed.getName());
    assertEquals("bedrock", listed.getProviderType());
    assertFalse(listed.getCapabilities().getVision(), "Nova Micro reads text only");
  }

  @Test
  void mistralInItsOwnSpelling() {
    upstream.reply(200, "application/json", CHAT_ANSWER);
    assertEquals("Hi!", text(router.chat().chat(request("mistral/mistral-small-latest").toBuilder()
        .setSettings(GenerationSettings.newBuilder().setMaxOutputTokens(50).setSeed(3))
        .build())));
    String sent = upstream.lastRequest().body();
    assertTrue(sent.contains("\"max_tokens\":50") && sent.contains("\"random_seed\":3"), sent);
    assertFalse(sent.contains("max_completion_tokens") || sent.contains("stream_options"), sent);
  }

  @Test
  void openAiResponsesFallingBackToAzure() throws Exception {
    String yaml = readmeBlock("# responses.yaml").replace(README_UPSTREAM, upstream.baseUrl());
    RunningRouter responses = RunningRouter.start(vertx, ConfigLoader.parse(yaml,
        Map.of("OPENAI_API_KEY", "local-oai", "AZURE_OPENAI_API_KEY", "local-azure")::get));
    try {
      // OpenAI's base URL fails; Azure's v1 API answers.
      upstream.answer(r -> r.response().setStatusCode(r.path().startsWith("/v1/") ? 503 : 200)
          .putHeader("content-type", "application/json").end(r.path().startsWith("/v1/")
              ? "{\"error\": {\"message\": \"overloaded\", \"type\": \"server_error\"}}" : RESPONSES_ANSWER));
      assertEquals("Hi!", text(responses.chat().chat(request("reasoner"))));
      assertEquals("/v1/responses", upstream.received().get(0).uri());
      assertEquals("Bearer local-oai", upstream.received().get(0).headers().get("authorization"));
      assertEquals("/openai/v1/responses", upstream.lastRequest().uri());
      assertEquals("Bearer local-azure", upstream.lastRequest().headers().get("authorization"));

      List<Model> models = responses.models().listModels(ListModelsRequest.newBuilder().setProvider("oair").build())
          .getModelsList();
      assertEquals(List.of("oair/gpt-4.1-mini", "oair/gpt-5-mini"), models.stream().map(Model::getName).toList());
      assertEquals("openai-responses", models.get(0).getProviderType());
      assertTrue(models.get(0).getCapabilities().getSettingsList().contains(CapabilityCheck.TEMPERATURE));
      assertFalse(models.get(0).getCapabilities().getSettingsList().contains(CapabilityCheck.STOP_SEQUENCES),
          "not on the Responses API");
      assertFalse(models.get(1).getCapabilities().getSettingsList().contains(CapabilityCheck.TEMPERATURE),
          "a reasoning model");
    } finally {
      responses.close();
    }
  }

  private ChatResponse chat(String model) {
    return router.chat().chat(request(model));
  }

  private static ChatRequest request(String model) {
    return ChatRequest.newBuilder().setModel(model).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText("Hi"))).build();
  }

  private static String text(ChatResponse response) {
    return response.getMessage().getParts(0).getText();
  }

  /** The fenced block of the README that begins with {@code firstLine}. */
  static String readmeBlock(String firstLine) throws IOException {
    String readme = Files.readString(Path.of("../README.md"));
    int start = readme.indexOf("```yaml\n" + firstLine + "\n");
    assertTrue(start >= 0, "the README has a yaml block starting " + firstLine);
    int from = start + "```yaml\n".length();
    return readme.substring(from, readme.indexOf("```", from));
  }
}
