package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test-side reading of Vertex AI wire data: publisher model URLs, Google's models in the generateContent format (read
 * by {@link GeminiWire}) and Anthropic's in the Messages format (read by {@link AnthropicWire}), with the differences
 * Vertex AI makes: finish reasons as numbers for clients that ask for `enum-encoding=int`, a Messages body that names
 * the version `vertex-2023-10-16` instead of the model, and an OAuth2 bearer token (an API key in express mode, whose
 * URLs have no project or location).
 *
 * <p>Recordings name their own project, location and API version (`v1beta1`); the router sends those of its
 * deployment, so the path it must send is that deployment's, with the recorded publisher, model and method.
 */
public final class VertexWire implements ProviderWire {

  /** The project and location of the test deployment. */
  private static final String PROJECT = "test-project";
  private static final String LOCATION = "us-central1";

  private static final Pattern MODEL_PATH = Pattern.compile(
      "/v1(?:beta1)?(/projects/[^/]+/locations/[^/]+)?/publishers/(google|anthropic)/models/([^/:]+)"
          + ":(generateContent|streamGenerateContent|rawPredict|streamRawPredict)");

  /** Vertex AI's `Candidate.FinishReason` names by number (google.cloud.aiplatform.v1). */
  private static final List<String> FINISH_REASON_NAMES = List.of("FINISH_REASON_UNSPECIFIED", "STOP", "MAX_TOKENS",
      "SAFETY", "RECITATION", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "MALFORMED_FUNCTION_CALL",
      "MODEL_ARMOR", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER",
      "UNEXPECTED_TOOL_CALL", "NO_IMAGE");

  private final GeminiWire gemini = new GeminiWire();
  private final AnthropicWire anthropic = new AnthropicWire();

  @Override
  public String type() {
    return "vertex";
  }

  /** This project's own samples are in `vertex`; the shared corpus has Google's models in `vertex-gemini`. */
  @Override
  public List<String> folders() {
    return List.of("vertex", "vertex-gemini");
  }

  // The corpus also holds countTokens, which belongs to the token-counting endpoint, not to chat.
  @Override
  public boolean speaks(WireExchange exchange) {
    return MODEL_PATH.matcher(exchange.path()).matches();
  }

  @Override
  public String requiredSettings() {
    return "project: " + PROJECT + ", location: " + LOCATION;
  }

  /** A deployment with a project and a fixed access token, and one in express mode (an API key, no project). */
  @Override
  public String providersYaml(String baseUrl) {
    return """
          - { name: vertex, type: vertex, base_url: "%1$s", %2$s, access_token: "${TEST_API_KEY}" }
          - { name: vertex-express, type: vertex, base_url: "%1$s", api_key: "${TEST_API_KEY}" }
        """.formatted(baseUrl, requiredSettings());
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return path(exchange).group(1) == null ? "vertex-express" : "vertex";
  }

  @Override
  public Answer answerOf(WireExchange exchange) {
    return isClaude(exchange) ? anthropic.answerOf(exchange) : gemini.answerOf(withNamedFinishReasons(exchange));
  }

  @Override
  public int statusOf(WireExchange exchange) {
    return isClaude(exchange) ? anthropic.statusOf(exchange) : gemini.statusOf(exchange);
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    return isClaude(exchange) ? anthropic.errorMessageOf(exchange) : gemini.errorMessageOf(exchange);
  }

  /**
   * The request of the publisher's own wire reading, for the recorded model at this provider. A Messages body gets
   * its model back from the URL, and loses the version marker (the adapter must add it). A generateContent body the
   * router cannot have written (in the snake_case some SDKs send) gets any sensible request: what it tests is how the
   * answer reaches the caller.
   */
  @Override
  public ChatRequest requestFor(WireExchange exchange) {
    String model = providerFor(exchange) + "/" + path(exchange).group(3);
    if (isClaude(exchange)) {
      ObjectNode body = exchange.request().deepCopy();
      body.remove("anthropic_version");
      body.put("model", path(exchange).group(3));
      return anthropic.requestFor(withRequest(exchange, body)).toBuilder().setModel(model).build();
    }
    if (!routerCanSend(exchange.request())) {
      return ChatRequest.newBuilder().setModel(model).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
          .addParts(Part.newBuilder().setText("Hi"))).build();
    }
    ChatRequest.Builder request = gemini.requestFor(exchange).toBuilder().setModel(model);
    // Thought signatures in the history were Google's models' on Vertex AI: the router tags them so.
    for (Message.Builder message : request.getMessagesBuilderList()) {
      for (Part.Builder part : message.getPartsBuilderList()) {
        if (part.hasReasoning()) {
          part.getReasoningBuilder().setProvider("vertex/google");
        }
      }
    }
    return request.build();
  }

  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent, boolean streamed) {
    Matcher recorded = path(exchange);
    boolean express = recorded.group(1) == null;
    String method = isClaude(exchange) ? (streamed ? "streamRawPredict" : "rawPredict")
        : (streamed ? "streamGenerateContent?alt=sse" : "generateContent");
    assertEquals("/v1" + (express ? "" : "/projects/" + PROJECT + "/locations/" + LOCATION) + "/publishers/"
        + recorded.group(2) + "/models/" + recorded.group(3) + ":" + method, sent.uri());
    if (express) {
      assertEquals(RunningRouter.TEST_KEY, sent.headers().get("x-goog-api-key"));
      assertNull(sent.headers().get("authorization"), "an API key, not a bearer token");
    } else {
      assertEquals("Bearer " + RunningRouter.TEST_KEY, sent.headers().get("authorization"));
      assertNull(sent.headers().get("x-goog-api-key"), "a bearer token, not an API key");
    }
    ObjectNode body = (ObjectNode) OpenAiWire.read(sent.body());
    if (isClaude(exchange)) {
      assertEquals("vertex-2023-10-16", body.path("anthropic_version").asText(), "the Messages version of Vertex AI");
      assertFalse(body.has("model"), "the URL names the model");
      assertEquals(streamed, body.path("stream").asBoolean());
      ObjectNode expected = exchange.request().deepCopy();
      expected.remove("stream");
      body.remove("stream");
      assertEquals(expected, body, "the adapter sends the recorded request");
    } else if (routerCanSend(exchange.request())) {
      assertEquals(GeminiWire.comparable(exchange.request()), GeminiWire.comparable(body),
          "the adapter sends the recorded request");
    }
  }

  private static Matcher path(WireExchange exchange) {
    Matcher matcher = MODEL_PATH.matcher(exchange.path());
    if (!matcher.matches()) {
      throw new IllegalArgumentException("not a Vertex AI model call: " + exchange.endpoint());
    }
    return matcher;
  }

  private static boolean isClaude(WireExchange exchange) {
    return path(exchange).group(2).equals("anthropic");
  }

  /** Whether every field of the body's contents is spelled as the REST API (and the router) spells it: camelCase. */
  private static boolean routerCanSend(JsonNode node) {
    for (var fields = node.fields(); fields.hasNext(); ) {
      var field = fields.next();
      if (field.getKey().contains("_") || !routerCanSend(field.getValue())) {
        return false;
      }
    }
    for (JsonNode item : node.isArray() ? node : List.<JsonNode>of()) {
      if (!routerCanSend(item)) {
        return false;
      }
    }
    return true;
  }

  /** The exchange with every numbered finish reason of its answer (or of each event) replaced by its name. */
  private static WireExchange withNamedFinishReasons(WireExchange exchange) {
    String body;
    if (exchange.headers().getOrDefault("content-type", "").startsWith("text/event-stream")) {
      StringBuilder events = new StringBuilder();
      for (String line : exchange.body().split("(?<=\n)")) {
        String data = line.strip();
        events.append(data.startsWith("data:")
            ? "data: " + named(OpenAiWire.read(data.substring(5))) + line.substring(line.stripTrailing().length())
            : line);
      }
      body = events.toString();
    } else {
      body = named(OpenAiWire.read(exchange.body())).toString();
    }
    return new WireExchange(exchange.name(), exchange.endpoint(), exchange.request(), exchange.status(),
        exchange.headers(), body);
  }

  private static JsonNode named(JsonNode response) {
    for (JsonNode candidate : response.path("candidates")) {
      JsonNode reason = candidate.path("finishReason");
      if (reason.isInt()) {
        ((ObjectNode) candidate).put("finishReason", FINISH_REASON_NAMES.get(reason.intValue()));
      }
    }
    return response;
  }

  private static WireExchange withRequest(WireExchange exchange, JsonNode request) {
    return new WireExchange(exchange.name(), exchange.endpoint(), request, exchange.status(), exchange.headers(),
        exchange.body());
  }
}
