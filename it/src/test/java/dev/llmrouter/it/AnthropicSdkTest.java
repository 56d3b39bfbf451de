package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official `@anthropic-ai/sdk`, unchanged but for its base URL, against the real router over a local upstream
 * replaying Anthropic's (and OpenAI's) wire format: `anthropic-messages.mjs` runs each call.
 */
class AnthropicSdkTest {

  private static final String SCENARIOS = "anthropic-messages.mjs";
  private static final String MODEL = "anthropic/claude-sonnet-4-5";
  private static final ManualClock CLOCK = new ManualClock();
  private static final JsonArray WEATHER_TOOL = new JsonArray().add(new JsonObject().put("name", "get_weather")
      .put("description", "Current weather for a city.").put("input_schema", new JsonObject().put("type", "object")
          .put("properties", new JsonObject().put("city", new JsonObject().put("type", "string")))));

  @TempDir
  static Path cassettes;
  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    NodeSdks.install();
    setup = RouterWithUpstream.start(config(cassettes), CLOCK);
  }

  @BeforeEach
  void pastEveryRetryAfter() {
    CLOCK.advance(Duration.ofDays(1)); // a 429 leaves its deployment rate-limited: not for the next test
  }

  @AfterAll
  static void stop() throws Exception {
    if (setup != null) {
      setup.close();
    }
  }

  private static String config(Path cassettes) {
    return "cassettes: { dir: \"" + cassettes + "\", mode: \"off\", allow_mode_override: true }\n"
        + "retry: { max_attempts: 1 }\ncircuit_breaker: { failure_threshold: 1000 }\nproviders:\n"
        + "  - { name: anthropic, type: anthropic, base_url: \"%1$s\", api_key: \"${TEST_API_KEY}\" }\n"
        + "  - { name: openai, type: openai, base_url: \"%1$s/v1\", api_key: \"${TEST_API_KEY}\" }\n";
  }

  private static WireExchange own(String folder, String name) {
    return WireExchange.own(folder).stream().filter(e -> e.name().endsWith("/" + name + ".json")).findFirst()
        .orElseThrow();
  }

  /** What the scenario returned: a JSON object or array. */
  private static Object result(RouterWithUpstream on, String scenario, JsonObject arguments) {
    JsonObject run = NodeSdks.run(SCENARIOS, scenario, on.router().port(), arguments);
    assertNull(run.getValue("error"), run::encode);
    return run.getValue("result");
  }

  private static JsonObject error(String scenario, JsonObject arguments) {
    JsonObject run = NodeSdks.run(SCENARIOS, scenario, setup.router().port(), arguments);
    assertNull(run.getValue("result"), run::encode);
    return run.getJsonObject("error");
  }

  private static JsonObject ask(String model) {
    return new JsonObject().put("model", model).put("prompt", "What's the weather in Paris and in Rome?");
  }

  @Test
  void aWholeAnswer() {
    setup.upstream().replay(own("anthropic", "nonstream-refusal"));
    JsonObject message = (JsonObject) result(setup, "text", ask(MODEL));
    assertEquals("msg_01Own7RefusalMm5", message.getString("id"));
    assertEquals("message", message.getString("type"));
    assertEquals("assistant", message.getString("role"));
    assertEquals(new JsonArray().add(new JsonObject().put("type", "text")
        .put("text", "I can't help with getting into someone else's home.")), message.getJsonArray("content"));
    assertEquals("refusal", message.getString("stop_reason"));
    assertEquals(new JsonObject().put("input_tokens", 31).put("cache_read_input_tokens", 0).put("output_tokens", 14),
        message.getJsonObject("usage"));
  }

  @Test
  void aTextStreamThroughMessagesStreamAndItsFinalMessage() {
    setup.upstream().replay(own("anthropic", "stream-text-stop-sequence"));
    JsonObject streamed = (JsonObject) result(setup, "stream", ask(MODEL));
    assertEquals(new JsonArray().add("1, 2, 3").add(", 4, 5. "), streamed.getJsonArray("texts"));
    JsonObject message = streamed.getJsonObject("message");
    assertEquals("msg_01Own7StopSequenceTt5", message.getString("id"));
    assertEquals("1, 2, 3, 4, 5. ", message.getJsonArray("content").getJsonObject(0).getString("text"));
    // The router's finish reason does not tell a stop sequence from the end of the turn.
    assertEquals("end_turn", message.getString("stop_reason"));
    assertEquals(18, message.getJsonObject("usage").getInteger("input_tokens"));
    assertEquals(12, message.getJsonObject("usage").getInteger("output_tokens"));
  }

  @Test
  void aRawStreamWithStreamTrue() {
    setup.upstream().replay(own("anthropic", "stream-text-stop-sequence"));
    JsonArray events = (JsonArray) result(setup, "rawStream", ask(MODEL));
    List<String> types = new ArrayList<>();
    events.forEach(event -> types.add(((JsonObject) event).getString("type")));
    assertEquals(List.of("message_start", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop"), types);
    assertEquals(new JsonObject().put("type", "text_delta").put("text", "1, 2, 3"),
        events.getJsonObject(2).getJsonObject("delta"));
  }

  @Test
  void aStreamedToolCall() {
    setup.upstream().replay(own("anthropic", "stream-tool-use"));
    JsonObject streamed = (JsonObject) result(setup, "stream", ask(MODEL).put("tools", WEATHER_TOOL));
    assertEquals(new JsonArray().add("{\"city\": ").add("\"Paris\"}"), streamed.getJsonArray("inputJson"));
    JsonObject message = streamed.getJsonObject("message");
    assertEquals(new JsonArray().add(new JsonObject().put("type", "tool_use").put("id", "toolu_01Own7SingleParis")
        .put("name", "get_weather").put("input", new JsonObject().put("city", "Paris"))),
        message.getJsonArray("content"));
    assertEquals("tool_use", message.getString("stop_reason"));
    JsonObject sent = new JsonObject(setup.upstream().lastRequest().body());
    assertEquals(WEATHER_TOOL.getJsonObject(0), sent.getJsonArray("tools").getJsonObject(0));
  }

  @Test
  void parallelToolCalls() {
    setup.upstream().replay(own("anthropic", "stream-parallel-tools"));
    JsonObject message = ((JsonObject) result(setup, "stream", ask(MODEL).put("tools", WEATHER_TOOL)))
        .getJsonObject("message");
    JsonArray content = message.getJsonArray("content");
    assertEquals(new JsonObject().put("type", "text").put("text", "I'll check the weather in both cities."),
        content.getJsonObject(0));
    assertEquals(new JsonObject().put("type", "tool_use").put("id", "toolu_01Own7ParisA1b2").put("name", "get_weather")
        .put("input", new JsonObject().put("city", "Paris").put("unit", "celsius")), content.getJsonObject(1));
    assertEquals(new JsonObject().put("type", "tool_use").put("id", "toolu_01Own7RomeC3d4").put("name", "get_weather")
        .put("input", new JsonObject().put("city", "Rome").put("unit", "celsius")), content.getJsonObject(2));
  }

  @Test
  void imageInput() {
    setup.upstream().replay(own("anthropic", "nonstream-pdf-image-cache"));
    JsonObject message = (JsonObject) result(setup, "images", new JsonObject().put("model", MODEL)
        .put("pngBase64", "iVBORw0KGgoAAAANSUhEUg==").put("url", "https://example.com/chart-q3.jpg"))
        ;
    assertTrue(message.getJsonArray("content").getJsonObject(0).getString("text").contains("bar chart"));
    JsonArray sent = new JsonObject(setup.upstream().lastRequest().body()).getJsonArray("messages").getJsonObject(0)
        .getJsonArray("content");
    assertEquals(new JsonObject().put("type", "image").put("source", new JsonObject().put("type", "base64")
        .put("media_type", "image/png").put("data", "iVBORw0KGgoAAAANSUhEUg==")), sent.getJsonObject(0));
    assertEquals(new JsonObject().put("type", "image").put("source", new JsonObject().put("type", "url")
        .put("url", "https://example.com/chart-q3.jpg")), sent.getJsonObject(1));
  }

  @Test
  void aThinkingStreamWithItsSignature() {
    setup.upstream().replay(own("anthropic", "stream-thinking-cache"));
    JsonObject streamed = (JsonObject) result(setup, "thinking", ask(MODEL).put("budget", 4096));
    String signature = "ErUBCkYIBRgCIkBvd24tc2FtcGxlLXNpZ25hdHVyZS1mb3ItdGhlLW5ldy10dXJuAAECAwQFBgcICQoLDA0ODxAREhMU"
        + "FRYXGBkaGw==";
    assertEquals(new JsonArray().add("Rome 24, Paris 18.").add(" The difference is 6 degrees."),
        streamed.getJsonArray("thoughts"));
    assertEquals(signature, streamed.getString("signature"));
    JsonObject message = streamed.getJsonObject("message");
    assertEquals(new JsonObject().put("type", "thinking").put("thinking", "Rome 24, Paris 18. The difference is 6 "
        + "degrees.").put("signature", signature), message.getJsonArray("content").getJsonObject(0));
    assertEquals(new JsonObject().put("input_tokens", 209).put("cache_read_input_tokens", 1536)
        .put("output_tokens", 87), message.getJsonObject("usage"));
    JsonObject sent = new JsonObject(setup.upstream().lastRequest().body());
    assertEquals(new JsonObject().put("type", "enabled").put("budget_tokens", 4096), sent.getJsonObject("thinking"));
    assertEquals(4096 + 1024, sent.getInteger("max_tokens"));
  }

  @Test
  void aBadRequestIsTheSdksBadRequestError() {
    int sentBefore = setup.upstream().received().size();
    JsonObject error = error("systemAsMessage", new JsonObject().put("model", MODEL));
    assertEquals("BadRequestError", error.getString("class"), error::encode);
    assertEquals(400, error.getInteger("status"));
    assertEquals("invalid_request_error", error.getString("type"));
    assertTrue(error.getString("message").contains("messages[0].role"), error::encode);
    assertEquals(sentBefore, setup.upstream().received().size(), "nothing is sent upstream");
  }

  @Test
  void anUnknownModelIsTheSdksNotFoundError() {
    JsonObject error = error("text", ask("mistral/large"));
    assertEquals("NotFoundError", error.getString("class"), error::encode);
    assertEquals(404, error.getInteger("status"));
    assertEquals("not_found_error", error.getString("type"));
  }

  @Test
  void aRateLimitIsTheSdksRateLimitErrorWithRetryAfter() {
    setup.upstream().answer(r -> r.response().setStatusCode(429).putHeader("content-type", "application/json")
        .putHeader("retry-after", "7").end("{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
            + "\"message\":\"Number of request tokens has exceeded your per-minute rate limit\"}}"));
    JsonObject error = error("text", ask(MODEL));
    assertEquals("RateLimitError", error.getString("class"), error::encode);
    assertEquals(429, error.getInteger("status"));
    assertEquals("rate_limit_error", error.getString("type"));
    assertEquals("7", error.getJsonObject("headers").getString("retry-after"));
    assertTrue(error.getString("message").contains("per-minute rate limit"), error::encode);
  }

  @Test
  void anOverloadedUpstreamIsTheSdksOverloadedError() {
    setup.upstream().replay(own("anthropic", "error-529-overloaded"));
    JsonObject error = error("text", ask(MODEL));
    assertEquals("OverloadedError", error.getString("class"), error::encode);
    assertEquals(529, error.getInteger("status"));
    assertEquals("overloaded_error", error.getString("type"));
  }

  /** The Anthropic SDK calling an OpenAI model: OpenAI's interleaved parallel calls become one block each. */
  @Test
  void theAnthropicSdkCallingAnOpenAiUpstream() {
    setup.upstream().replay(own("openai-chat", "stream-parallel-tools-crlf"));
    JsonObject message = ((JsonObject) result(setup, "stream", ask("openai/gpt-4o-mini")
        .put("tools", WEATHER_TOOL))).getJsonObject("message");
    assertEquals(new JsonArray()
        .add(new JsonObject().put("type", "tool_use").put("id", "call_w1").put("name", "get_weather")
            .put("input", new JsonObject().put("city", "Paris")))
        .add(new JsonObject().put("type", "tool_use").put("id", "call_t2").put("name", "get_time")
            .put("input", new JsonObject().put("zone", "Asia/Tokyo"))), message.getJsonArray("content"));
    assertEquals("tool_use", message.getString("stop_reason"));
    assertEquals(new JsonObject().put("input_tokens", 56).put("cache_read_input_tokens", 64).put("output_tokens", 41)
        .put("output_tokens_details", new JsonObject().put("thinking_tokens", 0)), message.getJsonObject("usage"));
    assertEquals("/v1/chat/completions", setup.upstream().lastRequest().uri());
  }

  @Test
  void aCassetteRecordedOverGrpcReplaysForTheSdkAndTheOtherWayRound() {
    String prompt = "What's the weather in Paris and in Rome?";
    ChatRequest request = ChatRequest.newBuilder().setModel(MODEL)
        .addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText(prompt)))
        .setSettings(GenerationSettings.newBuilder().setMaxOutputTokens(1024)).build();

    setup.upstream().replay(own("anthropic", "nonstream-refusal"));
    ChatResponse recorded = setup.router().chat().withInterceptors(cassette("record", "grpc-then-sdk")).chat(request);
    setup.upstream().reply(500, "application/json", "{}");
    int sentBefore = setup.upstream().received().size();
    JsonObject replayed = (JsonObject) result(setup, "text", ask(MODEL).put("headers", new JsonObject()
        .put("x-cassette-mode", "replay").put("x-cassette-scope", "grpc-then-sdk")));
    assertEquals("msg_" + recorded.getId().substring(recorded.getId().indexOf('-') + 1), replayed.getString("id"));
    assertEquals(recorded.getMessage().getParts(0).getText(),
        replayed.getJsonArray("content").getJsonObject(0).getString("text"));
    assertEquals(sentBefore, setup.upstream().received().size(), "the replay sent nothing upstream");

    setup.upstream().replay(own("anthropic", "stream-text-stop-sequence"));
    JsonObject streamed = (JsonObject) result(setup, "stream", ask(MODEL).put("headers", new JsonObject()
        .put("x-cassette-mode", "record").put("x-cassette-scope", "sdk-then-grpc")));
    setup.upstream().reply(500, "application/json", "{}");
    int sentAfterRecording = setup.upstream().received().size();
    List<ChatEvent> events = new ArrayList<>();
    setup.router().chat().withInterceptors(cassette("replay", "sdk-then-grpc")).streamChat(request)
        .forEachRemaining(events::add);
    ChatResponse done = events.get(events.size() - 1).getDone().getResponse();
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, done.getOrigin().getCassette());
    assertEquals(streamed.getJsonObject("message").getString("id"),
        "msg_" + done.getId().substring(done.getId().indexOf('-') + 1));
    assertEquals("1, 2, 3, 4, 5. ", done.getMessage().getParts(0).getText());
    assertEquals(sentAfterRecording, setup.upstream().received().size(), "the replay sent nothing upstream");
  }

  private static ClientInterceptor cassette(String mode, String scope) {
    Metadata metadata = new Metadata();
    metadata.put(Metadata.Key.of("x-cassette-mode", Metadata.ASCII_STRING_MARSHALLER), mode);
    metadata.put(Metadata.Key.of("x-cassette-scope", Metadata.ASCII_STRING_MARSHALLER), scope);
    return MetadataUtils.newAttachHeadersInterceptor(metadata);
  }

  /** The SDK's abort closes the router's upstream connection: the router does not read on for nobody. */
  @Test
  void anAbortedStreamClosesTheUpstreamConnection() throws Exception {
    try (RouterWithUpstream fresh = RouterWithUpstream.start(config(cassettes), CLOCK)) {
      String stream = own("anthropic", "stream-text-stop-sequence").body();
      String started = stream.substring(0, stream.indexOf("event: content_block_stop"));
      fresh.upstream().answer(r -> r.response().setChunked(true).putHeader("content-type", "text/event-stream")
          .write(started)); // and never ends
      CompletableFuture<HttpServerRequest> aborted = new CompletableFuture<>();
      HttpServer release = Await.result(fresh.vertx().createHttpServer().requestHandler(aborted::complete)
          .listen(0, "127.0.0.1"));
      CompletableFuture<JsonObject> run = CompletableFuture.supplyAsync(() -> NodeSdks.run(SCENARIOS,
          "abortAtFirstDelta", fresh.router().port(), ask(MODEL).put("releaseUrl",
              "http://127.0.0.1:" + release.actualPort())));
      HttpServerRequest waiting = aborted.get(60, TimeUnit.SECONDS);
      assertTrue(fresh.upstream().awaitAllConnectionsClosed(1, TimeUnit.SECONDS),
          "the upstream connection closed within a second of the abort, the SDK's process still running");
      waiting.response().end();
      assertEquals(new JsonObject().put("result", new JsonArray().add("message_start").add("content_block_start")
          .add("content_block_delta").add("APIUserAbortError").add("aborted")), run.get(60, TimeUnit.SECONDS));
      Await.result(release.close());
    }
  }

  /** Ids included: a replay is the recording, whatever the upstream does (here: nothing, it is stopped). */
  @Test
  void recordedThenReplayedWithTheUpstreamStoppedTheSdkSeesTheSameObjects(@TempDir Path ownCassettes)
      throws Exception {
    try (RouterWithUpstream fresh = RouterWithUpstream.start(config(ownCassettes), CLOCK)) {
      JsonObject record = new JsonObject().put("x-cassette-mode", "record").put("x-cassette-scope", "sdk");
      JsonObject replay = new JsonObject().put("x-cassette-mode", "replay").put("x-cassette-scope", "sdk");
      fresh.upstream().replay(own("anthropic", "nonstream-refusal"));
      Object text = result(fresh, "text", ask(MODEL).put("headers", record));
      fresh.upstream().replay(own("anthropic", "stream-parallel-tools"));
      Object tools = result(fresh, "stream", ask(MODEL).put("tools", WEATHER_TOOL).put("headers", record));
      fresh.upstream().replay(own("anthropic", "stream-thinking-cache"));
      Object thinking = result(fresh, "thinking", ask(MODEL).put("budget", 4096).put("headers", record));
      fresh.upstream().close();

      assertEquals(text, result(fresh, "text", ask(MODEL).put("headers", replay)));
      assertEquals(tools, result(fresh, "stream", ask(MODEL).put("tools", WEATHER_TOOL).put("headers", replay)));
      assertEquals(thinking, result(fresh, "thinking", ask(MODEL).put("budget", 4096).put("headers", replay)));
      // The ids are the cassette's, not the upstream's.
      String id = ((JsonObject) text).getString("id");
      assertTrue(id.startsWith("msg_") && !id.equals("msg_01Own7RefusalMm5"), id);
      String toolId = ((JsonObject) tools).getJsonObject("message").getJsonArray("content").getJsonObject(1)
          .getString("id");
      assertFalse(toolId.startsWith("toolu_01Own7"), toolId);
    }
  }
}
