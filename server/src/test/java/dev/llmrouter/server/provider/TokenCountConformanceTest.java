package dev.llmrouter.server.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.TokenCountMethod;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.server.testing.AnthropicWire;
import dev.llmrouter.server.testing.BedrockWire;
import dev.llmrouter.server.testing.GeminiWire;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.VertexWire;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The count endpoints of the hosts that have one (Anthropic `count_tokens`, Gemini and Vertex AI `countTokens`,
 * Bedrock `CountTokens`), against each recorded count exchange (the shared corpus of real traffic, and this project's
 * own samples): served byte for byte by a local upstream, through the real router, with `ModelService.CountTokens`.
 * The caller gets the recorded count, said to come from the provider; the adapter sends the recorded input to the
 * host's count path with its credentials; an error answer reaches the caller with its status mapped and the
 * provider's message.
 */
class TokenCountConformanceTest {

  /** A host's count endpoint: its folders, the path it is called on, and where its answer holds the count. */
  private record Host(String type, List<String> folders, Pattern path, String countField) {
  }

  private static final List<Host> HOSTS = List.of(
      new Host("anthropic", List.of("anthropic"), Pattern.compile("/v1/messages/count_tokens"), "input_tokens"),
      new Host("gemini", List.of("gemini"), Pattern.compile("/v1beta/models/([^/:]+):countTokens"), "totalTokens"),
      new Host("vertex", List.of("vertex", "vertex-gemini"),
          Pattern.compile("/v1(?:beta1)?/projects/[^/]+/locations/[^/]+/publishers/google/models/([^/:]+):countTokens"),
          "totalTokens"),
      new Host("bedrock", List.of("bedrock"), Pattern.compile("/model/([^/]+)/count-tokens"), "inputTokens"));

  private static final Map<Integer, Status.Code> STATUS_OF_HTTP = Map.of(400, Status.Code.INVALID_ARGUMENT,
      404, Status.Code.NOT_FOUND);

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("cassettes: { mode: \"off\" }\n"
        + "retry: { max_attempts: 1 }\ncircuit_breaker: { failure_threshold: 1000 }\nproviders:\n"
        + new AnthropicWire().providersYaml("%1$s") + new GeminiWire().providersYaml("%1$s")
        + new VertexWire().providersYaml("%1$s") + new BedrockWire().providersYaml("%1$s"));
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  static Stream<Arguments> exchanges() {
    return HOSTS.stream().flatMap(host -> host.folders().stream()
        .flatMap(folder -> Stream.concat(WireExchange.own(folder).stream(), WireExchange.shared(folder).stream()))
        .filter(exchange -> host.path().matcher(exchange.path()).matches())
        .map(exchange -> Arguments.of(host.type(), exchange)));
  }

  @Test
  void everyHostHasItsOwnSamples() {
    for (Host host : HOSTS) {
      assertTrue(host.folders().stream().flatMap(folder -> WireExchange.own(folder).stream())
          .anyMatch(exchange -> host.path().matcher(exchange.path()).matches()), host.type());
    }
  }

  @Test
  void sharedCorpusIsPresent() {
    assumeTrue(WireExchange.sharedCorpus().isPresent(),
        "../shared/conformance is not beside this checkout: the real-traffic exchanges were skipped, "
            + "only the project's own wire samples ran");
    for (Host host : HOSTS) {
      assertTrue(host.folders().stream().flatMap(folder -> WireExchange.shared(folder).stream())
          .anyMatch(exchange -> host.path().matcher(exchange.path()).matches()), host.type());
    }
  }

  @ParameterizedTest(name = "CountTokens {1}")
  @MethodSource("exchanges")
  void countTokens(String type, WireExchange exchange) {
    Host host = HOSTS.stream().filter(h -> h.type().equals(type)).findFirst().orElseThrow();
    setup.upstream().replay(exchange);
    ChatRequest request = requestFor(host, exchange);
    if (exchange.status() != 200) {
      StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
          () -> setup.router().models().countTokens(request));
      assertEquals(STATUS_OF_HTTP.get(exchange.status()), error.getStatus().getCode(), error.getMessage());
      String message = OpenAiWire.read(exchange.body()).path("error").path("message").asText();
      assertTrue(error.getStatus().getDescription().contains(message),
          "the provider's message reaches the caller: " + error.getStatus().getDescription());
    } else {
      CountTokensResponse response = setup.router().models().countTokens(request);
      assertEquals(OpenAiWire.read(exchange.body()).path(host.countField()).asInt(), response.getInputTokens());
      assertEquals(TokenCountMethod.TOKEN_COUNT_METHOD_PROVIDER, response.getMethod());
      assertEquals(type, response.getProvider());
      assertEquals(request.getModel().substring(type.length() + 1), response.getModel());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_LIVE, response.getOrigin().getCassette());
    }
    assertSent(host, exchange, request, setup.upstream().lastRequest());
  }

  /** The request a caller sends to count what the recorded request holds: its messages, system prompt and tools. */
  private static ChatRequest requestFor(Host host, WireExchange exchange) {
    JsonNode body = exchange.request();
    ChatRequest.Builder request = ChatRequest.newBuilder();
    switch (host.type()) {
      case "anthropic" -> {
        request.setModel("anthropic/" + body.path("model").asText());
        JsonNode system = body.path("system");
        if (system.isTextual()) {
          request.addMessages(message(Role.ROLE_SYSTEM, system.asText()));
        }
        system.forEach(block -> request.addMessages(message(Role.ROLE_SYSTEM, block.path("text").asText())));
        for (JsonNode message : body.path("messages")) {
          Role role = message.path("role").asText().equals("assistant") ? Role.ROLE_ASSISTANT : Role.ROLE_USER;
          message.path("content").forEach(block -> request.addMessages(message(role, block.path("text").asText())));
        }
        body.path("tools").forEach(tool -> request.addTools(tool(tool, tool.path("input_schema"))));
      }
      case "gemini", "vertex" -> {
        Matcher path = host.path().matcher(exchange.path());
        assertTrue(path.matches());
        request.setModel(host.type() + "/" + path.group(1));
        JsonNode whole = body.has("generateContentRequest") ? body.path("generateContentRequest") : body;
        whole.path("systemInstruction").path("parts")
            .forEach(part -> request.addMessages(message(Role.ROLE_SYSTEM, part.path("text").asText())));
        for (JsonNode content : whole.path("contents")) {
          Role role = content.path("role").asText().equals("model") ? Role.ROLE_ASSISTANT : Role.ROLE_USER;
          content.path("parts").forEach(part -> request.addMessages(message(role, part.path("text").asText())));
        }
        whole.path("tools").forEach(tools -> tools.path("functionDeclarations")
            .forEach(tool -> request.addTools(tool(tool, tool.path("parameters")))));
      }
      default -> {
        Matcher path = host.path().matcher(exchange.path());
        assertTrue(path.matches());
        request.setModel("bedrock/" + URLDecoder.decode(path.group(1), StandardCharsets.UTF_8));
        JsonNode converse = body.path("input").path("converse");
        converse.path("system").forEach(block -> request.addMessages(message(Role.ROLE_SYSTEM,
            block.path("text").asText())));
        for (JsonNode message : converse.path("messages")) {
          Role role = message.path("role").asText().equals("assistant") ? Role.ROLE_ASSISTANT : Role.ROLE_USER;
          message.path("content").forEach(block -> request.addMessages(message(role, block.path("text").asText())));
        }
        converse.path("toolConfig").path("tools").forEach(tool -> request.addTools(tool(tool.path("toolSpec"),
            tool.path("toolSpec").path("inputSchema").path("json"))));
      }
    }
    return request.build();
  }

  /** The adapter called the host's count path with its credentials, and sent the recorded conversation. */
  private static void assertSent(Host host, WireExchange exchange, ChatRequest request, MockUpstream.Received sent) {
    JsonNode body = OpenAiWire.read(sent.body());
    JsonNode recorded = exchange.request();
    switch (host.type()) {
      case "anthropic" -> {
        assertEquals("/v1/messages/count_tokens", sent.uri());
        assertEquals(RunningRouter.TEST_KEY, sent.headers().get("x-api-key"));
        assertEquals(recorded.path("messages"), body.path("messages"));
        assertFalse(body.has("max_tokens"), "count_tokens refuses generation settings: " + body);
      }
      case "gemini" -> {
        assertEquals(exchange.path(), sent.uri());
        assertEquals(RunningRouter.TEST_KEY, sent.headers().get("x-goog-api-key"));
        assertEquals(contentsOf(recorded), contentsOf(body));
      }
      case "vertex" -> {
        String model = request.getModel().substring("vertex/".length());
        assertEquals("/v1/projects/test-project/locations/us-central1/publishers/google/models/" + model
            + ":countTokens", sent.uri());
        assertEquals("Bearer " + RunningRouter.TEST_KEY, sent.headers().get("authorization"));
        assertEquals(contentsOf(recorded), contentsOf(body));
      }
      default -> {
        assertEquals(exchange.path(), sent.uri());
        assertTrue(sent.headers().get("authorization").startsWith("AWS4-HMAC-SHA256 Credential="
            + BedrockWire.TEST_ACCESS_KEY_ID), "the request is signed");
        assertEquals(recorded.path("input").path("converse").path("messages"),
            body.path("input").path("converse").path("messages"));
      }
    }
  }

  /** A Gemini count request's contents, beside the system instruction or inside a whole generateContent request. */
  private static JsonNode contentsOf(JsonNode body) {
    return body.has("generateContentRequest") ? body.path("generateContentRequest").path("contents")
        : body.path("contents");
  }

  private static Message message(Role role, String text) {
    return Message.newBuilder().setRole(role).addParts(Part.newBuilder().setText(text)).build();
  }

  private static Tool tool(JsonNode tool, JsonNode schema) {
    Struct.Builder parameters = Struct.newBuilder();
    try {
      JsonFormat.parser().merge(schema.toString(), parameters);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    return Tool.newBuilder().setName(tool.path("name").asText()).setDescription(tool.path("description").asText())
        .setParameters(parameters).build();
  }
}
