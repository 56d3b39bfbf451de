package dev.llmrouter.server.ingress.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.RouterWithUpstream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Requests an Anthropic caller may get wrong: each is refused with Anthropic's error shape and status, naming what to
 * fix, before anything is sent upstream or recorded (the router runs in record mode, which would record anything
 * that got through).
 */
class AnthropicMessagesRefusalsTest {

  /** The smallest `max_message_bytes` the config takes. */
  private static final int MAX_BODY_BYTES = 262_144;

  @TempDir
  static Path cassettes;
  private static RouterWithUpstream setup;
  private static IngressClient http;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("max_message_bytes: " + MAX_BODY_BYTES + "\n"
        + "cassettes: { dir: \"" + cassettes + "\", mode: record }\nproviders:\n"
        + "  - { name: anthropic, type: anthropic, base_url: \"%1$s\", api_key: \"${TEST_API_KEY}\" }\n");
    setup.upstream().reply(200, "application/json", "{}");
    http = new IngressClient(setup.router().port());
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  @AfterEach
  void nothingWasSentNorRecorded() throws IOException {
    assertEquals(0, setup.upstream().received().size(), "nothing is sent upstream");
    try (Stream<Path> files = Files.walk(cassettes)) {
      assertEquals(0, files.filter(Files::isRegularFile).count(), "nothing is recorded");
    }
  }

  /** A valid request with {@code field} (a top-level key) set to {@code json}. */
  private static String with(String field, String json) {
    return "{\"model\": \"anthropic/claude-sonnet-4-5\", \"max_tokens\": 1024, \"messages\": [{\"role\": \"user\", "
        + "\"content\": \"Hi\"}], \"" + field + "\": " + json + "}";
  }

  /** A valid request whose messages are {@code json}. */
  private static String messages(String json) {
    return "{\"model\": \"anthropic/claude-sonnet-4-5\", \"max_tokens\": 1024, \"messages\": " + json + "}";
  }

  private static final String IMAGE = "{\"type\": \"image\", \"source\": {\"type\": \"base64\", \"media_type\": "
      + "\"image/png\", \"data\": \"iVBORw0KGgo=\"}}";

  static Stream<Arguments> malformed() {
    return Stream.of(
        Arguments.of("JSON cut short", "{\"model\": ", "body"),
        Arguments.of("an empty body", "", "body"),
        Arguments.of("an array for a body", "[]", "body"),
        Arguments.of("no model", "{\"max_tokens\": 10, \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}",
            "model"),
        Arguments.of("a model that is a number", with("model", "42"), "model"),
        Arguments.of("no max_tokens", "{\"model\": \"anthropic/claude-sonnet-4-5\", \"messages\": [{\"role\": "
            + "\"user\", \"content\": \"Hi\"}]}", "max_tokens"),
        Arguments.of("max_tokens as a string", with("max_tokens", "\"100\""), "max_tokens"),
        Arguments.of("max_tokens 0", with("max_tokens", "0"), "max_tokens"),
        Arguments.of("max_tokens not whole", with("max_tokens", "10.5"), "max_tokens"),
        Arguments.of("no messages", "{\"model\": \"anthropic/claude-sonnet-4-5\", \"max_tokens\": 10}", "messages"),
        Arguments.of("no message at all", messages("[]"), "messages"),
        Arguments.of("messages as an object", messages("{\"role\": \"user\"}"), "messages"),
        Arguments.of("a message that is a string", messages("[\"Hi\"]"), "messages[0]"),
        Arguments.of("a system role", messages("[{\"role\": \"system\", \"content\": \"Be brief\"}]"),
            "messages[0].role"),
        Arguments.of("a tool role", messages("[{\"role\": \"tool\", \"content\": \"18C\"}]"), "messages[0].role"),
        Arguments.of("a message without content", messages("[{\"role\": \"user\"}]"), "messages[0].content"),
        Arguments.of("content that is a number", messages("[{\"role\": \"user\", \"content\": 7}]"),
            "messages[0].content"),
        Arguments.of("empty text", messages("[{\"role\": \"user\", \"content\": \"\"}]"), "messages[0].content"),
        Arguments.of("an unknown block type", messages("[{\"role\": \"user\", \"content\": [{\"type\": \"audio\", "
            + "\"data\": \"AAAA\"}]}]"), "messages[0].content[0].type"),
        Arguments.of("a block without type", messages("[{\"role\": \"user\", \"content\": [{\"text\": \"Hi\"}]}]"),
            "messages[0].content[0].type"),
        Arguments.of("a field a message does not have", messages("[{\"role\": \"user\", \"content\": \"Hi\", "
            + "\"name\": \"Ann\"}]"), "messages[0].name"),
        Arguments.of("a tool result for an unknown id", messages("[{\"role\": \"user\", \"content\": [{\"type\": "
            + "\"tool_result\", \"tool_use_id\": \"toolu_nowhere\", \"content\": \"18C\"}]}]"),
            "messages[0].content[0].tool_use_id"),
        Arguments.of("a tool_use from the user", messages("[{\"role\": \"user\", \"content\": [{\"type\": "
            + "\"tool_use\", \"id\": \"toolu_1\", \"name\": \"f\", \"input\": {}}]}]"), "messages[0].content[0].type"),
        Arguments.of("tool_use input that is not an object", messages("[{\"role\": \"user\", \"content\": \"Hi\"}, "
            + "{\"role\": \"assistant\", \"content\": [{\"type\": \"tool_use\", \"id\": \"toolu_1\", \"name\": "
            + "\"f\", \"input\": \"city=Paris\"}]}]"), "messages[1].content[0].input"),
        Arguments.of("two tool_use blocks with one id", messages("[{\"role\": \"user\", \"content\": \"Hi\"}, "
            + "{\"role\": \"assistant\", \"content\": [{\"type\": \"tool_use\", \"id\": \"toolu_1\", \"name\": \"f\", "
            + "\"input\": {}}, {\"type\": \"tool_use\", \"id\": \"toolu_1\", \"name\": \"f\", \"input\": {}}]}]"),
            "messages[1].content[1].id"),
        Arguments.of("a thinking block without its signature", messages("[{\"role\": \"user\", \"content\": \"Hi\"}, "
            + "{\"role\": \"assistant\", \"content\": [{\"type\": \"thinking\", \"thinking\": \"Hmm\"}]}]"),
            "messages[1].content[0].signature"),
        Arguments.of("image data that is not base64", messages("[{\"role\": \"user\", \"content\": ["
            + IMAGE.replace("iVBORw0KGgo=", "not base64!") + "]}]"), "messages[0].content[0].source.data"),
        Arguments.of("an image type Anthropic does not read", messages("[{\"role\": \"user\", \"content\": ["
            + IMAGE.replace("image/png", "image/bmp") + "]}]"), "messages[0].content[0].source.media_type"),
        Arguments.of("an image uploaded to Anthropic", messages("[{\"role\": \"user\", \"content\": [{\"type\": "
            + "\"image\", \"source\": {\"type\": \"file\", \"file_id\": \"file_1\"}}]}]"),
            "messages[0].content[0].source.type"),
        Arguments.of("a document by URL", messages("[{\"role\": \"user\", \"content\": [{\"type\": \"document\", "
            + "\"source\": {\"type\": \"url\", \"url\": \"https://example.com/a.pdf\"}}]}]"),
            "messages[0].content[0].source.type"),
        Arguments.of("a cache mark of another type", messages("[{\"role\": \"user\", \"content\": [{\"type\": "
            + "\"text\", \"text\": \"Hi\", \"cache_control\": {\"type\": \"persistent\"}}]}]"),
            "messages[0].content[0].cache_control.type"),
        Arguments.of("a field the router does not read", with("frequency_penalty", "0.5"), "frequency_penalty"),
        Arguments.of("a system prompt that is a number", with("system", "1"), "system"),
        Arguments.of("a system block with an image", with("system", "[" + IMAGE + "]"), "system[0].type"),
        Arguments.of("a temperature above Anthropic's range", with("temperature", "1.5"), "temperature"),
        Arguments.of("a temperature that is a string", with("temperature", "\"hot\""), "temperature"),
        Arguments.of("a negative top_k", with("top_k", "-1"), "top_k"),
        Arguments.of("a stop sequence that is a number", with("stop_sequences", "[1]"), "stop_sequences"),
        Arguments.of("stream as a string", with("stream", "\"yes\""), "stream"),
        Arguments.of("a thinking budget below Anthropic's least", with("thinking",
            "{\"type\": \"enabled\", \"budget_tokens\": 100}"), "thinking.budget_tokens"),
        Arguments.of("a thinking budget as large as max_tokens", with("thinking",
            "{\"type\": \"enabled\", \"budget_tokens\": 1024}"), "thinking.budget_tokens"),
        Arguments.of("OpenAI's tool choice", with("tool_choice", "{\"type\": \"required\"}"), "tool_choice.type"),
        Arguments.of("a tool choice naming no tool", with("tool_choice", "{\"type\": \"tool\", \"name\": \"f\"}"),
            "tool_choice.name"),
        Arguments.of("one of Anthropic's server tools", with("tools", "[{\"type\": \"web_search_20250305\", "
            + "\"name\": \"web_search\"}]"), "tools[0].type"),
        Arguments.of("a tool without input_schema", with("tools", "[{\"name\": \"f\"}]"), "tools[0].input_schema"),
        Arguments.of("a tool name Anthropic refuses", with("tools", "[{\"name\": \"get weather!\", "
            + "\"input_schema\": {\"type\": \"object\"}}]"), "tools[0].name"),
        Arguments.of("an output format other than a JSON schema", with("output_config",
            "{\"format\": {\"type\": \"json_object\"}}"), "output_config.format.type"),
        Arguments.of("metadata the router does not read", with("metadata", "{\"session\": \"s1\"}"),
            "metadata.session"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void isRefusedNamingTheProblem(String what, String body, String field) {
    IngressClient.Reply reply = http.post("/v1/messages", body, "anthropic-version", "2023-06-01");
    assertEquals(400, reply.status(), reply.body());
    assertError("invalid_request_error", reply);
    String message = reply.json().path("error").path("message").asText();
    assertTrue(message.contains(field + ":") || message.contains(field + " "), () -> field + " in " + message);
  }

  @Test
  void aBodyAboveMaxMessageBytesIs413() {
    String huge = messages("[{\"role\": \"user\", \"content\": \"" + "a".repeat(MAX_BODY_BYTES) + "\"}]");
    IngressClient.Reply reply = http.post("/v1/messages", huge, "anthropic-version", "2023-06-01");
    assertEquals(413, reply.status(), reply.body());
    assertError("request_too_large", reply);
    assertTrue(reply.json().path("error").path("message").asText().contains("max_message_bytes"), reply.body());
  }

  /** The body is never read: the refusal goes at once, and the connection with it. */
  @Test
  void aBodyDeclaredAboveMaxMessageBytesIsRefusedAndTheConnectionClosed() throws IOException {
    try (Socket socket = new Socket("127.0.0.1", setup.router().port())) {
      socket.setSoTimeout(10_000); // a failure's bound only: the connection must close long before
      socket.getOutputStream().write(("POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\nanthropic-version: "
          + "2023-06-01\r\ncontent-type: application/json\r\ncontent-length: " + (MAX_BODY_BYTES + 1)
          + "\r\n\r\n{").getBytes(StandardCharsets.US_ASCII));
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
      assertTrue(answer.contains("\"request_too_large\""), answer);
    }
  }

  @Test
  void aGetIsRefusedSayingToPost() {
    IngressClient.Reply reply = http.get("/v1/messages", "anthropic-version", "2023-06-01");
    assertEquals(501, reply.status(), reply.body());
    assertEquals("POST", reply.header("allow"));
    assertError("api_error", reply);
  }

  private static void assertError(String type, IngressClient.Reply reply) {
    assertEquals("application/json", reply.header("content-type"));
    JsonNode error = reply.json();
    assertEquals("error", error.path("type").asText(), reply.body());
    assertEquals(type, error.path("error").path("type").asText(), reply.body());
  }
}
