package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedTaskType;
import dev.llmrouter.api.v1.Image;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Test-side reading of Cohere Embed v2 (`POST /v2/embed`): `texts`, or `inputs` whose content is text or an image;
 * `input_type`, `output_dimension`; vectors from `embeddings.float`, the usage from `meta.tokens` or else
 * `meta.billed_units`. The router always asks for float vectors (`embedding_types: ["float"]`), which older clients'
 * recordings leave to the default.
 */
public final class CohereEmbeddingWire implements EmbeddingWire {

  private static final Map<String, EmbedTaskType> INPUT_TYPES = Map.of(
      "search_query", EmbedTaskType.EMBED_TASK_TYPE_SEARCH_QUERY,
      "search_document", EmbedTaskType.EMBED_TASK_TYPE_SEARCH_DOCUMENT,
      "classification", EmbedTaskType.EMBED_TASK_TYPE_CLASSIFICATION,
      "clustering", EmbedTaskType.EMBED_TASK_TYPE_CLUSTERING);

  @Override
  public String type() {
    return "cohere";
  }

  @Override
  public List<String> folders() {
    return List.of("embeddings-cohere");
  }

  @Override
  public String providersYaml(String baseUrl) {
    return "  - { name: cohere, type: cohere, base_url: \"" + baseUrl + "\", api_key: \"${TEST_API_KEY}\" }\n";
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return "cohere";
  }

  @Override
  public EmbeddingWire.Answer answerOf(WireExchange exchange) {
    JsonNode body = EmbeddingWire.readExact(exchange.body());
    List<List<Integer>> vectors = new ArrayList<>();
    body.path("embeddings").path("float").forEach(vector -> vectors.add(EmbeddingWire.bitsOf(vector)));
    JsonNode meta = body.path("meta");
    JsonNode tokens = (meta.has("tokens") ? meta.path("tokens") : meta.path("billed_units")).path("input_tokens");
    return new EmbeddingWire.Answer(vectors, exchange.request().path("model").asText(),
        tokens.isNumber() ? tokens.asLong() : null);
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    return OpenAiWire.read(exchange.body()).path("message").asText();
  }

  @Override
  public EmbedRequest requestFor(WireExchange exchange) {
    JsonNode body = exchange.request();
    EmbedRequest.Builder request = EmbedRequest.newBuilder().setModel("cohere/" + body.path("model").asText());
    body.path("texts").forEach(text -> request.addInputs(EmbedInput.newBuilder().setText(text.asText())));
    for (JsonNode input : body.path("inputs")) {
      JsonNode content = input.path("content").get(0);
      if (content.path("type").asText().equals("text")) {
        request.addInputs(EmbedInput.newBuilder().setText(content.path("text").asText()));
      } else {
        String url = content.path("image_url").path("url").asText();
        request.addInputs(EmbedInput.newBuilder().setImage(Image.newBuilder()
            .setMimeType(url.substring("data:".length(), url.indexOf(';')))
            .setData(ByteString.copyFrom(Base64.getDecoder().decode(url.substring(url.indexOf(',') + 1))))));
      }
    }
    if (body.has("input_type")) {
      request.setTaskType(INPUT_TYPES.get(body.path("input_type").asText()));
    }
    if (body.has("output_dimension")) {
      request.setDimensions(body.path("output_dimension").asInt());
    }
    return request.build();
  }

  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent) {
    assertEquals(exchange.path(), sent.uri());
    assertEquals("Bearer " + RunningRouter.TEST_KEY, sent.headers().get("authorization"));
    ObjectNode actual = (ObjectNode) OpenAiWire.read(sent.body());
    assertEquals(OpenAiWire.read("[\"float\"]"), actual.remove("embedding_types"), "float vectors asked for");
    ObjectNode expected = exchange.request().deepCopy();
    expected.remove("embedding_types");
    assertEquals(expected, actual, "the adapter sends the recorded request");
  }
}
