package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedTaskType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Test-side reading of Bedrock embeddings through InvokeModel (`POST /model/{modelId}/invoke`), in each family's own
 * body: Amazon Titan Text Embeddings (`inputText`, `dimensions` -> `embedding`, `inputTextTokenCount`) and Cohere Embed
 * (Cohere's body without `model` -> `embeddings.float`, no token counts). The router always asks Cohere for float
 * vectors, and names `search_document` as the input type when the caller names none (Cohere's v3 models require one):
 * a recorded `search_document` is read as no task type. Requests are SigV4-signed with the test keys.
 */
public final class BedrockEmbeddingWire implements EmbeddingWire {

  private static final Map<String, EmbedTaskType> INPUT_TYPES = Map.of(
      "search_query", EmbedTaskType.EMBED_TASK_TYPE_SEARCH_QUERY,
      "classification", EmbedTaskType.EMBED_TASK_TYPE_CLASSIFICATION,
      "clustering", EmbedTaskType.EMBED_TASK_TYPE_CLUSTERING);

  @Override
  public String type() {
    return "bedrock";
  }

  @Override
  public List<String> folders() {
    return List.of("embeddings-bedrock", "bedrock");
  }

  // The chat folder's exchanges are Converse calls, and InvokeModel with a chat body.
  @Override
  public boolean speaks(WireExchange exchange) {
    return exchange.path().endsWith("/invoke") && (exchange.request().has("inputText")
        || exchange.request().has("texts"));
  }

  @Override
  public String providersYaml(String baseUrl) {
    return "  - { name: bedrock, type: bedrock, region: us-east-1, base_url: \"" + baseUrl + "\" }\n";
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return "bedrock";
  }

  @Override
  public EmbeddingWire.Answer answerOf(WireExchange exchange) {
    JsonNode body = EmbeddingWire.readExact(exchange.body());
    List<List<Integer>> vectors = new ArrayList<>();
    if (body.has("embedding")) {
      vectors.add(EmbeddingWire.bitsOf(body.path("embedding")));
    }
    body.path("embeddings").path("float").forEach(vector -> vectors.add(EmbeddingWire.bitsOf(vector)));
    JsonNode tokens = body.path("inputTextTokenCount");
    return new EmbeddingWire.Answer(vectors, BedrockWire.modelOf(exchange), tokens.isNumber() ? tokens.asLong() : null);
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    return OpenAiWire.read(exchange.body()).path("message").asText();
  }

  @Override
  public EmbedRequest requestFor(WireExchange exchange) {
    JsonNode body = exchange.request();
    EmbedRequest.Builder request = EmbedRequest.newBuilder().setModel("bedrock/" + BedrockWire.modelOf(exchange));
    if (body.has("inputText")) {
      request.addInputs(EmbedInput.newBuilder().setText(body.path("inputText").asText()));
    }
    body.path("texts").forEach(text -> request.addInputs(EmbedInput.newBuilder().setText(text.asText())));
    EmbedTaskType taskType = INPUT_TYPES.get(body.path("input_type").asText());
    if (taskType != null) {
      request.setTaskType(taskType);
    }
    for (String dimensions : List.of("dimensions", "output_dimension")) {
      if (body.has(dimensions)) {
        request.setDimensions(body.path(dimensions).asInt());
      }
    }
    return request.build();
  }

  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent) {
    assertEquals(exchange.path(), sent.uri());
    String authorization = sent.headers().get("authorization");
    assertNotNull(authorization, "the request is signed");
    assertTrue(authorization.matches("AWS4-HMAC-SHA256 Credential=" + BedrockWire.TEST_ACCESS_KEY_ID
        + "/\\d{8}/us-east-1/bedrock/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}"), authorization);
    assertEquals(exchange.request(), OpenAiWire.read(sent.body()), "the adapter sends the recorded request");
  }
}
