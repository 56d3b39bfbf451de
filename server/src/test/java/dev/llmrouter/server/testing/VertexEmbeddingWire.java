package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test-side reading of Vertex AI text embeddings (`POST .../publishers/google/models/{model}:predict`): one instance
 * per input (`content`, `task_type`), `parameters.outputDimensionality`; `predictions[].embeddings.values` in their
 * order, the input tokens the sum of their `statistics.token_count`. Recordings name their own project, location and
 * API version (`v1beta1`); the router sends those of its deployment (as {@link VertexWire} says for chat).
 */
public final class VertexEmbeddingWire implements EmbeddingWire {

  private static final String PROJECT = "test-project";
  private static final String LOCATION = "us-central1";

  private static final Pattern PREDICT_PATH = Pattern.compile(
      "/v1(?:beta1)?(/projects/[^/]+/locations/[^/]+)?/publishers/google/models/([^/:]+):predict");

  @Override
  public String type() {
    return "vertex";
  }

  @Override
  public List<String> folders() {
    return List.of("embeddings-vertex");
  }

  /** A deployment with a project and a fixed access token, and one in express mode (an API key, no project). */
  @Override
  public String providersYaml(String baseUrl) {
    return """
          - { name: vertex, type: vertex, base_url: "%1$s", project: %2$s, location: %3$s, access_token: "${TEST_API_KEY}" }
          - { name: vertex-express, type: vertex, base_url: "%1$s", api_key: "${TEST_API_KEY}" }
        """.formatted(baseUrl, PROJECT, LOCATION);
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return path(exchange).group(1) == null ? "vertex-express" : "vertex";
  }

  @Override
  public EmbeddingWire.Answer answerOf(WireExchange exchange) {
    List<List<Integer>> vectors = new ArrayList<>();
    Long tokens = null;
    for (JsonNode prediction : EmbeddingWire.readExact(exchange.body()).path("predictions")) {
      vectors.add(EmbeddingWire.bitsOf(prediction.path("embeddings").path("values")));
      JsonNode count = prediction.path("embeddings").path("statistics").path("token_count");
      if (count.isNumber()) {
        tokens = (tokens == null ? 0 : tokens) + count.asLong();
      }
    }
    return new EmbeddingWire.Answer(vectors, path(exchange).group(2), tokens);
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    return OpenAiWire.read(exchange.body()).path("error").path("message").asText();
  }

  @Override
  public EmbedRequest requestFor(WireExchange exchange) {
    JsonNode body = exchange.request();
    EmbedRequest.Builder request = EmbedRequest.newBuilder()
        .setModel(providerFor(exchange) + "/" + path(exchange).group(2));
    body.path("instances").forEach(instance -> request.addInputs(EmbedInput.newBuilder()
        .setText(instance.path("content").asText())));
    JsonNode taskType = body.path("instances").path(0).path("task_type");
    if (taskType.isTextual()) {
      request.setTaskType(GeminiEmbeddingWire.TASK_TYPES.get(taskType.asText()));
    }
    if (body.path("parameters").has("outputDimensionality")) {
      request.setDimensions(body.path("parameters").path("outputDimensionality").asInt());
    }
    return request.build();
  }

  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent) {
    Matcher recorded = path(exchange);
    boolean express = recorded.group(1) == null;
    assertEquals("/v1" + (express ? "" : "/projects/" + PROJECT + "/locations/" + LOCATION)
        + "/publishers/google/models/" + recorded.group(2) + ":predict", sent.uri());
    if (express) {
      assertEquals(RunningRouter.TEST_KEY, sent.headers().get("x-goog-api-key"));
      assertNull(sent.headers().get("authorization"), "an API key, not a bearer token");
    } else {
      assertEquals("Bearer " + RunningRouter.TEST_KEY, sent.headers().get("authorization"));
      assertNull(sent.headers().get("x-goog-api-key"), "a bearer token, not an API key");
    }
    assertEquals(exchange.request(), OpenAiWire.read(sent.body()), "the adapter sends the recorded request");
  }

  private static Matcher path(WireExchange exchange) {
    Matcher matcher = PREDICT_PATH.matcher(exchange.path());
    if (!matcher.matches()) {
      throw new IllegalArgumentException("not a Vertex AI :predict call: " + exchange.endpoint());
    }
    return matcher;
  }
}
