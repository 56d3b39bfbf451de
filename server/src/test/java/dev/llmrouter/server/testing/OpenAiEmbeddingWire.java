package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Test-side reading of OpenAI embeddings wire data (`POST /embeddings`), which the OpenAI-compatible hosts (Mistral)
 * share: vectors as numbers or base64, placed by `index`; `usage.prompt_tokens`. The router always asks for base64
 * (exact and compact) whatever the recording's client asked, and always sends its inputs as an array: a recorded
 * single string is the array of that one string.
 */
public final class OpenAiEmbeddingWire implements EmbeddingWire {

  /** The folder of each host's recordings, and the path under the mock upstream that stands for its base URL. */
  private static final Map<String, String> BASE_PATH_OF_FOLDER = new LinkedHashMap<>();

  static {
    BASE_PATH_OF_FOLDER.put("embeddings-openai", "/v1");
    BASE_PATH_OF_FOLDER.put("embeddings-mistral", "/v1");
  }

  @Override
  public String type() {
    return "openai";
  }

  @Override
  public List<String> folders() {
    return List.copyOf(BASE_PATH_OF_FOLDER.keySet());
  }

  @Override
  public String providersYaml(String baseUrl) {
    StringBuilder yaml = new StringBuilder();
    BASE_PATH_OF_FOLDER.forEach((folder, path) -> yaml.append("  - { name: ").append(providerOf(folder))
        .append(", type: openai, base_url: \"").append(baseUrl).append(path)
        .append("\", api_key: \"${TEST_API_KEY}\" }\n"));
    return yaml.toString();
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return providerOf(exchange.folder());
  }

  private static String providerOf(String folder) {
    return folder.substring("embeddings-".length());
  }

  @Override
  public EmbeddingWire.Answer answerOf(WireExchange exchange) {
    JsonNode body = EmbeddingWire.readExact(exchange.body());
    TreeMap<Integer, List<Integer>> byIndex = new TreeMap<>();
    int position = 0;
    for (JsonNode item : body.path("data")) {
      byIndex.put(item.path("index").asInt(position++), EmbeddingWire.bitsOf(item.path("embedding")));
    }
    JsonNode tokens = body.path("usage").path("prompt_tokens");
    return new EmbeddingWire.Answer(new ArrayList<>(byIndex.values()), body.path("model").asText(),
        tokens.isNumber() ? tokens.asLong() : null);
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    JsonNode body = OpenAiWire.read(exchange.body());
    return body.path("error").isTextual() ? body.path("error").asText()
        : body.path("error").path("message").asText(body.path("message").asText());
  }

  @Override
  public EmbedRequest requestFor(WireExchange exchange) {
    return requestFor(exchange.request(), providerFor(exchange) + "/" + exchange.request().path("model").asText());
  }

  /** The request of a recorded body for {@code model}: its text inputs and dimensions. */
  static EmbedRequest requestFor(JsonNode body, String model) {
    EmbedRequest.Builder request = EmbedRequest.newBuilder().setModel(model);
    inputs(body).forEach(text -> request.addInputs(EmbedInput.newBuilder().setText(text.asText())));
    if (body.hasNonNull("dimensions")) {
      request.setDimensions(body.path("dimensions").asInt());
    }
    return request.build();
  }

  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent) {
    assertEquals(exchange.path(), sent.uri());
    assertEquals("Bearer " + RunningRouter.TEST_KEY, sent.headers().get("authorization"));
    assertSentBody(exchange.request(), OpenAiWire.read(sent.body()), false);
  }

  /**
   * Asserts a sent body is the recorded one, but for the router's own choices: base64 vectors, inputs as an array
   * (and, for Azure, no `model`: the deployment in the URL names it).
   */
  static void assertSentBody(JsonNode recorded, JsonNode sent, boolean withoutModel) {
    assertEquals("base64", sent.path("encoding_format").asText(), "the router asks for exact vectors");
    ObjectNode expected = recorded.deepCopy();
    expected.remove("encoding_format");
    ArrayNode input = expected.putArray("input");
    inputs(recorded).forEach(input::add);
    if (withoutModel) {
      expected.remove("model");
    }
    ObjectNode actual = sent.deepCopy();
    actual.remove("encoding_format");
    assertEquals(expected, actual, "the adapter sends the recorded request");
  }

  private static List<JsonNode> inputs(JsonNode body) {
    JsonNode input = body.path("input");
    List<JsonNode> texts = new ArrayList<>();
    if (input.isArray()) {
      input.forEach(texts::add);
    } else {
      texts.add(input);
    }
    return texts;
  }
}
