package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedTaskType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Test-side reading of Gemini batch embeddings (`POST /v1beta/models/{model}:batchEmbedContents`): one request per
 * input, with the same `taskType` and `outputDimensionality`; `embeddings[].values` in their order, and no token
 * counts.
 */
public final class GeminiEmbeddingWire implements EmbeddingWire {

  /** Google's names of the task types, which Vertex AI's `:predict` spells alike. */
  static final Map<String, EmbedTaskType> TASK_TYPES = Map.of(
      "RETRIEVAL_QUERY", EmbedTaskType.EMBED_TASK_TYPE_SEARCH_QUERY,
      "RETRIEVAL_DOCUMENT", EmbedTaskType.EMBED_TASK_TYPE_SEARCH_DOCUMENT,
      "CLASSIFICATION", EmbedTaskType.EMBED_TASK_TYPE_CLASSIFICATION,
      "CLUSTERING", EmbedTaskType.EMBED_TASK_TYPE_CLUSTERING);

  @Override
  public String type() {
    return "gemini";
  }

  @Override
  public List<String> folders() {
    return List.of("embeddings-gemini");
  }

  @Override
  public String providersYaml(String baseUrl) {
    return "  - { name: gemini, type: gemini, base_url: \"" + baseUrl + "\", api_key: \"${TEST_API_KEY}\" }\n";
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return "gemini";
  }

  @Override
  public EmbeddingWire.Answer answerOf(WireExchange exchange) {
    List<List<Integer>> vectors = new ArrayList<>();
    EmbeddingWire.readExact(exchange.body()).path("embeddings")
        .forEach(embedding -> vectors.add(EmbeddingWire.bitsOf(embedding.path("values"))));
    return new EmbeddingWire.Answer(vectors, modelOf(exchange), null);
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    return OpenAiWire.read(exchange.body()).path("error").path("message").asText();
  }

  @Override
  public EmbedRequest requestFor(WireExchange exchange) {
    EmbedRequest.Builder request = EmbedRequest.newBuilder().setModel("gemini/" + modelOf(exchange));
    JsonNode requests = exchange.request().path("requests");
    for (JsonNode one : requests) {
      request.addInputs(EmbedInput.newBuilder().setText(one.path("content").path("parts").get(0).path("text")
          .asText()));
    }
    JsonNode first = requests.get(0);
    if (first.has("taskType")) {
      request.setTaskType(TASK_TYPES.get(first.path("taskType").asText()));
    }
    if (first.has("outputDimensionality")) {
      request.setDimensions(first.path("outputDimensionality").asInt());
    }
    return request.build();
  }

  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent) {
    assertEquals(exchange.path(), sent.uri());
    assertEquals(RunningRouter.TEST_KEY, sent.headers().get("x-goog-api-key"));
    assertEquals(exchange.request(), OpenAiWire.read(sent.body()), "the adapter sends the recorded request");
  }

  /** The model named in the path: `/v1beta/models/{model}:batchEmbedContents`. */
  private static String modelOf(WireExchange exchange) {
    String path = exchange.path();
    return path.substring(path.indexOf("/models/") + "/models/".length(), path.lastIndexOf(':'));
  }
}
