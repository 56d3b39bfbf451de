package dev.llmrouter.server.ingress.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.IngressClient.ServerSentEvent;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.WireExchange;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Anthropic Messages door, byte for byte where the SDKs hide it: the event stream, the message object, error
 * shapes and statuses, the model list, what reaches the upstream and what does not (the caller's key).
 */
class AnthropicMessagesTest {

  private static final ManualClock CLOCK = new ManualClock();
  private static final String CALLER_KEY = "sk-ant-api03-caller-key-never-forwarded";
  private static final String[] ANTHROPIC_HEADERS = {"anthropic-version", "2023-06-01", "x-api-key", CALLER_KEY};

  @TempDir
  static Path cassettes;
  private static RouterWithUpstream setup;
  private static IngressClient http;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("cassettes: { dir: \"" + cassettes + "\", mode: \"off\", "
        + "allow_mode_override: true }\n"
        + "retry: { max_attempts: 1 }\ncircuit_breaker: { failure_threshold: 1000 }\nproviders:\n"
        + "  - { name: anthropic, type: anthropic, base_url: \"%1$s\", api_key: \"${TEST_API_KEY}\",\n"
        + "      models: [claude-sonnet-4-5] }\n"
        + "  - { name: openai, type: openai, base_url: \"%1$s/v1\", api_key: \"${TEST_API_KEY}\" }\n"
        + "models:\n  - { alias: claude, targets: [{ model: anthropic/claude-sonnet-4-5 }] }\n", CLOCK);
    http = new IngressClient(setup.router().port());
  }

  @BeforeEach
  void pastEveryRetryAfter() {
    CLOCK.advance(Duration.ofDays(1)); // a 429 leaves its deployment rate-limited: not for the next test
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  private static WireExchange own(String folder, String name) {
    return WireExchange.own(folder).stream().filter(e -> e.name().endsWith("/" + name + ".json")).findFirst()
        .orElseThrow();
  }

  private static IngressClient.Reply post(String body, String... headers) {
    return http.post("/v1/messages", body, Stream.concat(Stream.of(ANTHROPIC_HEADERS), Stream.of(headers))
        .toArray(String[]::new));
  }

  private static String question(boolean stream) {
    return "{\"model\": \"anthropic/claude-sonnet-4-5\", \"max_tokens\": 1024, \"stream\": " + stream
        + ", \"messages\": [{\"role\": \"user\", \"content\": \"What's the weather in Paris and in Rome?\"}]}";
  }

  @Test
  void aStreamIsAnthropicsEventsInAnthropicsOrderByteForByte() {
    setup.upstream().replay(own("anthropic", "stream-parallel-tools"));
    IngressClient.Reply reply = post(question(true));
    assertEquals(200, reply.status());
    assertEquals("text/event-stream", reply.header("content-type"));
    assertEquals("""
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_01Own7ParallelToolsXq2","type":"message","role":"assistant",\
        "model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,\
        "usage":{"input_tokens":0,"output_tokens":0}}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I'll check the weather"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" in both cities."}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: content_block_start
        data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use",\
        "id":"toolu_01Own7ParisA1b2","name":"get_weather","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",\
        "partial_json":"{\\"city\\": \\"Par"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",\
        "partial_json":"is\\", \\"unit\\": \\"celsius\\"}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":1}

        event: content_block_start
        data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use",\
        "id":"toolu_01Own7RomeC3d4","name":"get_weather","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta",\
        "partial_json":"{\\"city\\""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta",\
        "partial_json":": \\"Rome\\", \\"unit\\": \\"celsius\\"}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":2}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},\
        "usage":{"input_tokens":412,"cache_read_input_tokens":0,"output_tokens":118}}

        event: message_stop
        data: {"type":"message_stop"}

        """, reply.body());
  }

  @Test
  void aThinkingBlockGetsItsSignatureWholeBeforeItStopsAndCachedInputIsCountedApart() {
    setup.upstream().replay(own("anthropic", "stream-thinking-cache"));
    List<ServerSentEvent> events = post(question(true)).events();
    AnthropicStreams.assertWellFormed(events);
    assertEquals(List.of(
        "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\","
            + "\"signature\":\"\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\","
            + "\"thinking\":\"Rome 24, Paris 18.\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\","
            + "\"thinking\":\" The difference is 6 degrees.\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":"
            + "\"ErUBCkYIBRgCIkBvd24tc2FtcGxlLXNpZ25hdHVyZS1mb3ItdGhlLW5ldy10dXJuAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw"
            + "==\"}}",
        "{\"type\":\"content_block_stop\",\"index\":0}",
        "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"),
        events.subList(1, 7).stream().map(ServerSentEvent::data).toList());
    // Anthropic reported 21 uncached, 188 written to the cache and 1536 read from it: the writes stay in input.
    assertEquals("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
        + "\"usage\":{\"input_tokens\":209,\"cache_read_input_tokens\":1536,\"output_tokens\":87}}",
        events.get(events.size() - 2).data());
  }

  @Test
  void aWholeAnswerIsAnthropicsMessageObject() {
    setup.upstream().replay(own("anthropic", "nonstream-redacted-thinking-tool"));
    IngressClient.Reply reply = post(question(false));
    assertEquals(200, reply.status());
    assertEquals("application/json", reply.header("content-type"));
    assertEquals(OpenAiWire.read("""
        {"id": "msg_01Own7RedactedToolKk3", "type": "message", "role": "assistant",
         "model": "claude-sonnet-4-5-20250929",
         "content": [
           {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPb3duLXNhbXBsZS1yZWRhY3RlZC10aGlua2luZw=="},
           {"type": "tool_use", "id": "toolu_01Own7Order8812", "name": "get_order", "input": {"order_id": "8812"}}],
         "stop_reason": "tool_use", "stop_sequence": null,
         "usage": {"input_tokens": 520, "cache_read_input_tokens": 0, "output_tokens": 61}}"""), reply.json());
  }

  @Test
  void aRefusalIsTextWithTheStopReasonRefusal() {
    setup.upstream().replay(own("anthropic", "nonstream-refusal"));
    JsonNode message = post(question(false)).json();
    assertEquals("refusal", message.path("stop_reason").asText());
    assertEquals("I can't help with getting into someone else's home.",
        message.path("content").path(0).path("text").asText());
  }

  /** OpenAI interleaves the fragments of parallel calls; Anthropic's blocks come one after the other. */
  @Test
  void anOpenAiUpstreamsInterleavedParallelCallsBecomeOneBlockEach() {
    setup.upstream().replay(own("openai-chat", "stream-parallel-tools-crlf"));
    List<ServerSentEvent> events = post(question(true).replace("anthropic/claude-sonnet-4-5", "openai/gpt-4o-mini"))
        .events();
    AnthropicStreams.assertWellFormed(events);
    assertEquals(List.of(
        "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"call_w1\","
            + "\"name\":\"get_weather\",\"input\":{}}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\","
            + "\"partial_json\":\"{\\\"ci\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\","
            + "\"partial_json\":\"ty\\\":\\\"Paris\\\"}\"}}",
        "{\"type\":\"content_block_stop\",\"index\":0}",
        "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"call_t2\","
            + "\"name\":\"get_time\",\"input\":{}}}",
        "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
            + "\"partial_json\":\"{\\\"zone\\\":\"}}",
        "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
            + "\"partial_json\":\"\\\"Asia/Tokyo\\\"}\"}}",
        "{\"type\":\"content_block_stop\",\"index\":1}",
        // OpenAI's prompt tokens include the 64 read from its cache.
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},"
            + "\"usage\":{\"input_tokens\":56,\"cache_read_input_tokens\":64,\"output_tokens\":41,"
            + "\"output_tokens_details\":{\"thinking_tokens\":0}}}",
        "{\"type\":\"message_stop\"}"), events.subList(1, events.size()).stream().map(ServerSentEvent::data).toList());
  }

  @Test
  void reasoningFromAnOpenAiCompatibleUpstreamIsAThinkingBlockWithoutSignature() {
    setup.upstream().replay(own("openai-chat", "stream-reasoning-length"));
    List<ServerSentEvent> events = post(question(true).replace("anthropic/claude-sonnet-4-5", "openai/deepseek"))
        .events();
    AnthropicStreams.assertWellFormed(events);
    assertEquals(List.of("message_start", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop"), events.stream().map(ServerSentEvent::event).toList());
    assertEquals("thinking", events.get(1).json().path("content_block").path("type").asText());
    assertEquals("max_tokens", events.get(9).json().path("delta").path("stop_reason").asText());
  }

  @Test
  void anErrorAfterTheStreamStartedIsAnErrorEventNeverASilentEnd() {
    setup.upstream().replay(own("anthropic", "stream-error-event-overloaded"));
    IngressClient.Reply reply = post(question(true));
    assertEquals(200, reply.status());
    List<ServerSentEvent> events = reply.events();
    assertEquals(List.of("message_start", "content_block_start", "content_block_delta", "error"),
        events.stream().map(ServerSentEvent::event).toList());
    JsonNode error = events.get(3).json();
    assertEquals("error", error.path("type").asText());
    assertEquals("overloaded_error", error.path("error").path("type").asText());
    assertTrue(error.path("error").path("message").asText().contains("Overloaded"), error.toString());
  }

  @Test
  void anOverloadedUpstreamIsAnthropics529() {
    setup.upstream().replay(own("anthropic", "error-529-overloaded"));
    for (boolean stream : new boolean[] {false, true}) {
      IngressClient.Reply reply = post(question(stream));
      assertEquals(529, reply.status(), reply.body());
      assertEquals("application/json", reply.header("content-type"), "nothing had been streamed");
      assertEquals("overloaded_error", reply.json().path("error").path("type").asText());
    }
  }

  @Test
  void aRateLimitedUpstreamIs429WithRetryAfter() {
    setup.upstream().replay(own("openai-chat", "error-429-rate-limit"));
    IngressClient.Reply reply = post(question(false).replace("anthropic/claude-sonnet-4-5", "openai/gpt-4o-mini"));
    assertEquals(429, reply.status(), reply.body());
    assertEquals("7", reply.header("retry-after"));
    assertEquals("error", reply.json().path("type").asText());
    assertEquals("rate_limit_error", reply.json().path("error").path("type").asText());
    assertTrue(reply.json().path("error").path("message").asText().contains("Rate limit reached"), reply.body());
  }

  /** The router's own key was refused: the caller did nothing wrong, so it is no authentication_error. */
  @Test
  void anUpstreamRefusingTheRoutersKeyIsAnApiError() {
    setup.upstream().reply(401, "application/json",
        "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key\"}}");
    IngressClient.Reply reply = post(question(false));
    assertEquals(502, reply.status(), reply.body());
    assertEquals("api_error", reply.json().path("error").path("type").asText());
  }

  @Test
  void anUnknownModelIsNotFoundAndNothingIsSent() {
    int sentBefore = setup.upstream().received().size();
    IngressClient.Reply reply = post(question(false).replace("anthropic/claude-sonnet-4-5", "mistral/large"));
    assertEquals(404, reply.status(), reply.body());
    assertEquals("not_found_error", reply.json().path("error").path("type").asText());
    assertTrue(reply.json().path("error").path("message").asText().contains("'mistral/large'"), reply.body());
    assertEquals(sentBefore, setup.upstream().received().size());
  }

  @Test
  void aReplayMissSaysWhatTheGrpcMissSays() {
    IngressClient.Reply reply = post(question(false), "x-cassette-mode", "replay", "x-cassette-scope", "misses");
    assertEquals(400, reply.status(), reply.body());
    assertEquals("invalid_request_error", reply.json().path("error").path("type").asText());
    String message = reply.json().path("error").path("message").asText();
    assertTrue(message.contains("misses") && message.matches("(?s).*[0-9a-f]{16}.*"), message);
  }

  @Test
  void theModelListIsAnthropicsWhenTheAnthropicSdkAsks() {
    IngressClient.Reply reply = http.get("/v1/models", ANTHROPIC_HEADERS);
    assertEquals(200, reply.status(), reply.body());
    JsonNode list = reply.json();
    assertFalse(list.path("has_more").asBoolean(true));
    List<String> ids = list.path("data").findValuesAsText("id");
    assertTrue(ids.containsAll(List.of("claude", "anthropic/claude-sonnet-4-5")), ids::toString);
    assertEquals(ids.get(0), list.path("first_id").asText());
    assertEquals(ids.get(ids.size() - 1), list.path("last_id").asText());
    for (JsonNode model : list.path("data")) {
      assertEquals("model", model.path("type").asText());
      assertEquals(model.path("id").asText(), model.path("display_name").asText());
      assertEquals("1970-01-01T00:00:00Z", model.path("created_at").asText());
    }
  }

  @Test
  void theCallersKeyIsNeverSentOnNorRecorded() throws IOException {
    setup.upstream().replay(own("anthropic", "nonstream-refusal"));
    IngressClient.Reply reply = post(question(false), "authorization", "Bearer " + CALLER_KEY,
        "x-cassette-mode", "record", "x-cassette-scope", "caller-key");
    assertEquals("recorded", reply.header("x-cassette-outcome"), reply.body());
    var sent = setup.upstream().lastRequest();
    assertEquals(RunningRouter.TEST_KEY, sent.headers().get("x-api-key"), "the router's own key");
    assertNull(sent.headers().get("authorization"));
    assertFalse(sent.headers().toString().contains(CALLER_KEY) || sent.body().contains(CALLER_KEY));
    try (Stream<Path> files = Files.walk(cassettes.resolve("caller-key"))) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        assertFalse(Files.readString(file).contains(CALLER_KEY), file::toString);
      }
    }
  }

  /**
   * What the neutral request has no field for reaches Anthropic as the caller wrote it; what concerns only the
   * caller's own Anthropic account does not.
   */
  @Test
  void anthropicsOwnOptionsReachTheUpstreamAsWrittenAndAccountFieldsDoNot() {
    setup.upstream().replay(own("anthropic", "nonstream-refusal"));
    ObjectNode body = (ObjectNode) OpenAiWire.read("""
        {"model": "claude", "max_tokens": 3000, "top_k": 5, "stop_sequences": ["END"],
         "thinking": {"type": "enabled", "budget_tokens": 2000},
         "output_config": {"effort": "high"},
         "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral", "ttl": "5m"}}],
         "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
         "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
         "metadata": {"user_id": "user-42"}, "service_tier": "auto",
         "messages": [{"role": "user", "content": "Weather?"}]}""");
    assertEquals(200, post(body.toString()).status());
    assertEquals(OpenAiWire.read("""
        {"model": "claude-sonnet-4-5", "max_tokens": 3000, "top_k": 5, "stop_sequences": ["END"],
         "thinking": {"type": "enabled", "budget_tokens": 2000},
         "output_config": {"effort": "high"},
         "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
         "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
         "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
         "stream": false,
         "messages": [{"role": "user", "content": [{"type": "text", "text": "Weather?"}]}]}"""),
        OpenAiWire.read(setup.upstream().lastRequest().body()));
  }

  /** Blocks around tool results keep their order: each result is a tool message, the text between a user one. */
  @Test
  void toolResultsAndTheBlocksAroundThemKeepTheirOrder() {
    setup.upstream().replay(own("anthropic", "nonstream-refusal"));
    String body = """
        {"model": "anthropic/claude-sonnet-4-5", "max_tokens": 100, "messages": [
          {"role": "user", "content": "Weather in Paris and Rome?"},
          {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}}]},
          {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C", "is_error": false},
            {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true,
             "content": [{"type": "text", "text": "no station"}]},
            {"type": "text", "text": "Which is warmer?"}]}]}""";
    assertEquals(200, post(body).status());
    assertEquals(OpenAiWire.read("""
        [{"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Rome?"}]},
         {"role": "assistant", "content": [
           {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
           {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}}]},
         {"role": "user", "content": [
           {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "18C"}]},
           {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "no station"}]}]},
         {"role": "user", "content": [{"type": "text", "text": "Which is warmer?"}]}]"""),
        OpenAiWire.read(setup.upstream().lastRequest().body()).path("messages"));
  }
}
