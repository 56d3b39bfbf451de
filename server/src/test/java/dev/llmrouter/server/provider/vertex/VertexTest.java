package dev.llmrouter.server.provider.vertex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Reasoning;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.config.ConfigException;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.VertexWire;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The `vertex` type beside its conformance exchanges: the host each location gets, how a model name chooses its
 * publisher (and so its capabilities and the tag of its reasoning), which reasoning goes back to which publisher, and
 * the config checks of its fields.
 */
class VertexTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theHostFollowsTheLocationUnlessABaseUrlIsGiven() {
    List<ProviderConfig> providers = ConfigLoader.parse("""
        providers:
          - { name: regional, type: vertex, project: my-project, location: europe-west4 }
          - { name: global, type: vertex, project: my-project, location: global }
          - { name: express, type: vertex, api_key: "${KEY}" }
          - { name: local, type: vertex, project: my-project, location: us-central1, base_url: "http://127.0.0.1:8089/" }
        """, Map.of("KEY", "k")::get).providers();
    assertEquals(List.of("https://europe-west4-aiplatform.googleapis.com", "https://aiplatform.googleapis.com",
        "https://aiplatform.googleapis.com", "http://127.0.0.1:8089"),
        providers.stream().map(ProviderConfig::baseUrl).toList());
    assertEquals("/v1/projects/my-project/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4@20250514",
        providers.get(0).googleCloud().orElseThrow().modelPath("anthropic", "claude-sonnet-4@20250514"));
    assertEquals("/v1/publishers/google/models/gemini%202.5%2F..%3Fx", providers.get(2).googleCloud().orElseThrow()
        .modelPath("google", "gemini 2.5/..?x"), "a caller's model name stays inside its path segment");
  }

  @Test
  void claudeModelsAreAnthropicsAndTheOthersGooglesWithTheirPublishersCapabilities() throws Exception {
    try (RouterWithUpstream setup = RouterWithUpstream.start("""
        cassettes: { mode: "off" }
        providers:
          - { name: vertex, type: vertex, base_url: "%1$s", project: p, location: global, access_token: "${TEST_API_KEY}", models: [gemini-2.5-flash, claude-sonnet-4@20250514, claude-3-5-haiku@20241022] }
        """)) {
      Map<String, Model> models = setup.router().models().listModels(ListModelsRequest.getDefaultInstance())
          .getModelsList().stream().collect(Collectors.toMap(Model::getName, m -> m));
      Model gemini = models.get("vertex/gemini-2.5-flash");
      Model claude = models.get("vertex/claude-sonnet-4@20250514");
      assertEquals("vertex", gemini.getProviderType());
      assertTrue(gemini.getCapabilities().getSettingsList().contains("settings.seed"), "Gemini takes a seed");
      assertTrue(gemini.getCapabilities().getJsonObject());
      assertFalse(claude.getCapabilities().getSettingsList().contains("settings.seed"), "Messages has no seed");
      assertFalse(claude.getCapabilities().getJsonObject(), "nor a schema-less JSON mode");
      assertTrue(claude.getCapabilities().getReasoning());
      assertFalse(models.get("vertex/claude-3-5-haiku@20241022").getCapabilities().getReasoning(),
          "no extended thinking before Claude 3.7");
    }
  }

  @Test
  void reasoningGoesBackOnlyToThePublisherWhoseModelsSignedItOnVertex() throws Exception {
    try (RouterWithUpstream setup = RouterWithUpstream.start("""
        cassettes: { mode: "off" }
        retry: { max_attempts: 1 }
        providers:
          - { name: vertex, type: vertex, base_url: "%1$s", project: p, location: global, access_token: "${TEST_API_KEY}" }
        """)) {
      setup.upstream().reply(500, "application/json", "{\"error\":{\"code\":500,\"message\":\"not answered\"}}");
      List<String> signers = List.of("vertex/anthropic", "vertex/google", "vertex", "anthropic", "gemini");
      for (String model : List.of("claude-sonnet-4@20250514", "gemini-2.5-flash")) {
        assertThrows(StatusRuntimeException.class, () -> setup.router().chat().chat(withReasoning(model, signers)));
        String sent = setup.upstream().lastRequest().body();
        String own = VertexAdapter.reasoningSigner(model);
        for (String signer : signers) {
          assertEquals(signer.equals(own), sent.contains(signatureOf(signer)), signer + " to " + model + ": " + sent);
        }
      }
      JsonNode claudeBody = JSON.readTree(setup.upstream().received().get(0).body());
      assertEquals("thinking", claudeBody.path("messages").path(1).path("content").path(0).path("type").asText());
    }
  }

  /** What each publisher's models sign on Vertex is tagged with the publisher, whatever the deployment's type. */
  @Test
  void aPublishersReasoningIsTaggedWithThePublisher() throws Exception {
    VertexWire wire = new VertexWire();
    try (RouterWithUpstream setup = RouterWithUpstream.start("cassettes: { mode: \"off\" }\nproviders:\n"
        + wire.providersYaml("%1$s"))) {
      Map<String, String> signerOfSample = Map.of("anthropic-stream-thinking-tool-use", "vertex/anthropic",
          "gemini-nonstream-function-call-enum-int", "vertex/google");
      for (Map.Entry<String, String> sample : signerOfSample.entrySet()) {
        WireExchange exchange = WireExchange.own("vertex").stream()
            .filter(e -> e.name().endsWith("/" + sample.getKey() + ".json")).findFirst().orElseThrow();
        setup.upstream().replay(exchange);
        ChatResponse answer = setup.router().chat().chat(wire.requestFor(exchange));
        List<Reasoning> signed = answer.getMessage().getPartsList().stream().filter(Part::hasReasoning)
            .map(Part::getReasoning).filter(r -> !r.getSignature().isEmpty()).toList();
        assertFalse(signed.isEmpty(), sample.getKey() + " holds signed reasoning");
        signed.forEach(r -> assertEquals(sample.getValue(), r.getProvider(), sample.getKey()));
      }
    }
  }

  private static String signatureOf(String signer) {
    return "sig-from-" + signer.replace('/', '-') + "-end";
  }

  /** A second turn after an answer whose reasoning several providers signed (as a fallback history could hold). */
  private static ChatRequest withReasoning(String model, List<String> signers) {
    Message.Builder answer = Message.newBuilder().setRole(Role.ROLE_ASSISTANT);
    for (String signer : signers) {
      answer.addParts(Part.newBuilder().setReasoning(Reasoning.newBuilder().setText("91 = 7 x 13.")
          .setSignature(signatureOf(signer)).setProvider(signer)));
    }
    answer.addParts(Part.newBuilder().setText("No."));
    return ChatRequest.newBuilder().setModel("vertex/" + model)
        .addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Is 91 prime?")))
        .addMessages(answer)
        .addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("And 97?")))
        .build();
  }

  @Test
  void anUnsetAccessTokenVariableRefusesTheCallNamingIt() throws Exception {
    try (RouterWithUpstream setup = RouterWithUpstream.start("""
        cassettes: { mode: "off" }
        providers:
          - { name: vertex, type: vertex, base_url: "%1$s", project: p, location: global, access_token: "${VERTEX_TOKEN}" }
        """)) {
      StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> setup.router().chat().chat(
          ChatRequest.newBuilder().setModel("vertex/gemini-2.5-flash").addMessages(Message.newBuilder()
              .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hi"))).build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
      assertTrue(error.getStatus().getDescription().contains("set VERTEX_TOKEN"), error.getStatus().getDescription());
      assertEquals(0, setup.upstream().received().size());
    }
  }

  @Test
  void aProjectNeedsItsLocationAndOnlyAnApiKeyGoesWithout() {
    String noProject = refused("providers: [{ name: v, type: vertex, location: us-central1 }]");
    assertTrue(noProject.contains("providers.0.project: is required for type vertex"), noProject);
    String noLocation = refused("providers: [{ name: v, type: vertex, project: p }]");
    assertTrue(noLocation.contains("providers.0.location: is required with a project"), noLocation);
    String expressWithLocation = refused("providers: [{ name: v, type: vertex, api_key: \"${KEY}\", location: global }]");
    assertTrue(expressWithLocation.contains("providers.0.location (line 1): goes with a project"), expressWithLocation);
    String badProject = refused("providers: [{ name: v, type: vertex, project: \"My Project\", location: global }]");
    assertTrue(badProject.contains("providers.0.project (line 1): must be a Google Cloud project id"), badProject);
    String badLocation = refused("providers: [{ name: v, type: vertex, project: p, location: us-central1/x }]");
    assertTrue(badLocation.contains("providers.0.location (line 1): must be a region"), badLocation);
  }

  @Test
  void oneKindOfCredentialAtMostAndTokensFromTheEnvironmentOnly() {
    String two = refused("""
        providers: [{ name: v, type: vertex, project: p, location: global, access_token: "${TOKEN}", credentials_file: sa.json }]
        """);
    assertTrue(two.contains("providers.0.credentials_file (line 1): give one of api_key, access_token and "
        + "credentials_file (or none, for Application Default Credentials), not access_token and credentials_file"), two);
    String literal = refused("providers: [{ name: v, type: vertex, project: p, location: global, access_token: ya29.abc }]");
    assertTrue(literal.contains("providers.0.access_token (line 1): must name an environment variable"), literal);
    assertFalse(literal.contains("ya29.abc"), "the secret is not repeated: " + literal);
    String missingFile = refused("""
        providers: [{ name: v, type: vertex, project: p, location: global, credentials_file: /no/such/sa.json }]
        """);
    assertTrue(missingFile.contains("providers.0.credentials_file (line 1): no file /no/such/sa.json"), missingFile);
  }

  @Test
  void vertexFieldsOnAnotherTypeAreRefused() {
    String error = refused("""
        providers:
          - { name: gemini, type: gemini, base_url: "https://generativelanguage.googleapis.com", project: p, location: global, access_token: "${TOKEN}" }
        """);
    for (String field : List.of("project", "location", "access_token")) {
      assertTrue(error.contains("providers.0." + field + " (line 2): is for type vertex only"), error);
    }
    assertTrue(refused("providers: [{ name: g, type: gemini }]").contains("providers.0.base_url"),
        "base_url stays required for the other types");
  }

  @Test
  void theDeploymentDescribesItselfWithoutItsToken() {
    ProviderConfig vertex = ConfigLoader.parse("""
        providers: [{ name: v, type: vertex, project: p, location: global, access_token: "${TOKEN}" }]
        """, Map.of("TOKEN", "ya29.secret")::get).providers().get(0);
    assertEquals(Optional.of("ya29.secret"), vertex.googleCloud().flatMap(ProviderConfig.GoogleCloud::accessToken)
        .map(ProviderConfig.ApiKey::value));
    assertFalse(vertex.toString().contains("ya29.secret"), vertex.toString());
    assertTrue(vertex.toString().contains("${TOKEN}"), vertex.toString());
  }

  private static String refused(String yaml) {
    return assertThrows(ConfigException.class,
        () -> ConfigLoader.parse(yaml, Map.of("KEY", "k", "TOKEN", "t")::get)).getMessage();
  }
}
