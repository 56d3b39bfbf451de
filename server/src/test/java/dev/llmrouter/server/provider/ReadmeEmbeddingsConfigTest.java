package dev.llmrouter.server.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.testing.BedrockEmbeddingWire;
import dev.llmrouter.server.testing.GeminiEmbeddingWire;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.VertexEmbeddingWire;
import dev.llmrouter.server.testing.WireExchange;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's `embeddings.yaml` starts as written (its local upstream's port and cassette folder aside), its alias
 * falls back from OpenAI to Azure, and its Gemini, Cohere, Vertex AI and Bedrock models embed, over gRPC and over
 * `POST /v1/embeddings`.
 */
class ReadmeEmbeddingsConfigTest {

  private static final String README_UPSTREAM = "http://127.0.0.1:8089";
  private static final String OPENAI_ANSWER = "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,"
      + "\"embedding\":[0.25,-0.5]},{\"object\":\"embedding\",\"index\":1,\"embedding\":[0.75,-1.0]}],"
      + "\"model\":\"text-embedding-3-small\",\"usage\":{\"prompt_tokens\":9,\"total_tokens\":9}}";

  @TempDir
  Path cassettes;
  private Vertx vertx;
  private MockUpstream upstream;
  private RunningRouter router;

  @BeforeEach
  void start() throws IOException {
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx);
    String yaml = ReadmeUpstreamsConfigTest.readmeBlock("# embeddings.yaml")
        .replace(README_UPSTREAM, upstream.baseUrl()).replace("dir: cassettes/embeddings", "dir: \"" + cassettes + "\"");
    router = RunningRouter.start(vertx, ConfigLoader.parse(yaml, Map.of("OPENAI_API_KEY", "local-oa",
        "AZURE_OPENAI_API_KEY", "local-az", "GEMINI_API_KEY", "local-ge", "COHERE_API_KEY", "local-co",
        "VERTEX_TOKEN", "local-vt", "AWS_ACCESS_KEY_ID", "AKIDLOCAL", "AWS_SECRET_ACCESS_KEY", "local")::get));
  }

  @AfterEach
  void stop() throws Exception {
    router.close();
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  @Test
  void theAliasFallsBackFromOpenAiToAzureAndRecordsOnce() {
    // OpenAI rate-limits the router: the alias moves to Azure at once.
    upstream.answer(r -> {
      if (r.uri().startsWith("/v1/")) {
        r.response().setStatusCode(429).putHeader("content-type", "application/json")
            .end("{\"error\": {\"message\": \"Rate limit reached\"}}");
      } else {
        r.response().putHeader("content-type", "application/json").end(OPENAI_ANSWER);
      }
    });
    EmbedRequest request = EmbedRequest.newBuilder().setModel("embed").setDimensions(256)
        .addInputs(EmbedInput.newBuilder().setText("The food was delicious"))
        .addInputs(EmbedInput.newBuilder().setText("The waiter was friendly")).build();

    EmbedResponse recorded = router.embeddings().embed(request);

    assertEquals("azure", recorded.getProvider());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, recorded.getOrigin().getCassette());
    assertEquals("/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21",
        upstream.lastRequest().uri());
    assertEquals("local-az", upstream.lastRequest().headers().get("api-key"));
    EmbedResponse replayed = router.embeddings().embed(request);
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, replayed.getOrigin().getCassette(), "auto mode replays");
    assertEquals(recorded.getEmbeddingsList(), replayed.getEmbeddingsList());
  }

  @Test
  void geminiAndCohereEmbed() {
    WireExchange gemini = ownSample("embeddings-gemini", "batch-two-inputs-task-type.json");
    upstream.replay(gemini);
    EmbedResponse vectors = router.embeddings().embed(new GeminiEmbeddingWire().requestFor(gemini));
    assertEquals(2, vectors.getEmbeddingsCount());
    assertEquals("local-ge", upstream.lastRequest().headers().get("x-goog-api-key"));

    upstream.replay(ownSample("embeddings-cohere", "v2-embed-query-dimension.json"));
    IngressClient.Reply reply = new IngressClient(router.port()).post("/v1/embeddings", """
        {"model": "cohere/embed-v4.0", "input": ["What is the capital of France?"], "encoding_format": "base64"}""");
    assertEquals(200, reply.status(), reply.body());
    assertTrue(reply.json().path("data").get(0).path("embedding").isTextual(), reply.body());
    assertEquals("/v2/embed", upstream.lastRequest().uri());
    assertEquals("Bearer local-co", upstream.lastRequest().headers().get("authorization"));
  }

  @Test
  void vertexAndBedrockEmbed() {
    WireExchange vertex = ownSample("embeddings-vertex", "predict-two-inputs-task-type-dimensions.json");
    upstream.replay(vertex);
    assertEquals(2, router.embeddings().embed(new VertexEmbeddingWire().requestFor(vertex)).getEmbeddingsCount());
    assertEquals("/v1/projects/my-project/locations/us-central1/publishers/google/models/text-embedding-005:predict",
        upstream.lastRequest().uri());
    assertEquals("Bearer local-vt", upstream.lastRequest().headers().get("authorization"));

    WireExchange titan = ownSample("embeddings-bedrock", "invoke-titan-v2-dimensions.json");
    upstream.replay(titan);
    EmbedResponse vectors = router.embeddings().embed(new BedrockEmbeddingWire().requestFor(titan));
    assertEquals(9, vectors.getUsage().getInputTokens());
    assertTrue(vectors.getUsage().hasCostUsd(), "Titan v2 has a bundled price");
    assertEquals("/model/amazon.titan-embed-text-v2%3A0/invoke", upstream.lastRequest().uri());
    assertTrue(upstream.lastRequest().headers().get("authorization").startsWith(
        "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/"), upstream.lastRequest().headers().get("authorization"));
  }

  private static WireExchange ownSample(String folder, String file) {
    return WireExchange.own(folder).stream().filter(e -> e.name().endsWith("/" + file)).findFirst().orElseThrow();
  }

}
