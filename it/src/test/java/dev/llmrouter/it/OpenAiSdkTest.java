package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official `openai` SDK (pinned in `src/test/node/sdks`) against the real router, changing nothing but its base
 * URL: answers and streams as the SDK reads them, tool calls, structured output, images, reasoning from an Anthropic
 * upstream, the SDK's typed errors, an abort, record then replay with no upstream, and one cassette for the SDK and
 * gRPC.
 */
class OpenAiSdkTest {

  private static final String FILE = "openai-chat.mjs";
  private static final String MODEL = "openai/gpt-4o-mini";
  private static final String ANSWER = """
      {"id": "chatcmpl-upstream", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
       "choices": [{"index": 0, "message": {"role": "assistant", "content": "%s"}, "finish_reason": "stop"}],
       "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}""";
  private static final String PARALLEL_TOOL_CALLS = sse(
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\","
          + "\"function\":{\"name\":\"weather\",\"arguments\":\"{\\\"city\\\":\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"weather\","
          + "\"arguments\":\"{\\\"city\\\":\\\"Rome\\\"}\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},"
          + "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":9}}") + "data: [DONE]\n\n";
  private static final String ANTHROPIC_THINKING = """
      event: message_start
      data: {"type":"message_start","message":{"id":"msg_up","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1}}}

      event: content_block_start
      data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}

      event: content_block_delta
      data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The capital is Paris."}}

      event: content_block_delta
      data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"c2lnbmF0dXJl"}}

      event: content_block_stop
      data: {"type":"content_block_stop","index":0}

      event: content_block_start
      data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

      event: content_block_delta
      data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Paris."}}

      event: content_block_stop
      data: {"type":"content_block_stop","index":1}

      event: message_delta
      data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":12}}

      event: message_stop
      data: {"type":"message_stop"}

      """;

  @TempDir
  Path cassettes;

  private RouterWithUpstream setup;

  @BeforeAll
  static void install() {
    NodeSdks.install();
  }

  @AfterEach
  void stop() throws Exception {
    if (setup != null) {
      setup.close();
    }
  }

  private void start() {
    setup = RouterWithUpstream.start("""
        cassettes: { dir: "%s", mode: "off", allow_mode_override: true }
        providers:
          - { name: openai, type: openai, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
          - { name: anthropic, type: anthropic, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
        """.formatted(cassettes));
  }

  private JsonObject run(String scenario, JsonObject arguments) {
    return NodeSdks.run(FILE, scenario, setup.router().port(), arguments);
  }

  private static JsonObject ask(String prompt) {
    return new JsonObject().put("model", MODEL).put("prompt", prompt);
  }

  @Test
  void aCompletionAndAStreamReadAsTheSdkReadsOpenAi() {
    start();
    setup.upstream().reply(200, "application/json", ANSWER.formatted("Paris."));
    JsonObject completion = result(run("create", ask("Capital of France?")));
    assertEquals("Paris.", completion.getJsonArray("choices").getJsonObject(0).getJsonObject("message")
        .getString("content"));
    assertTrue(completion.getString("id").startsWith("chatcmpl-"));
    assertEquals(15, completion.getJsonObject("usage").getInteger("total_tokens"));

    setup.upstream().reply(200, "text/event-stream", sse(
        "{\"id\":\"c1\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
            + "{\"role\":\"assistant\",\"content\":\"Par\"}}]}",
        "{\"id\":\"c1\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
            + "{\"content\":\"is.\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,"
            + "\"completion_tokens\":3,\"total_tokens\":15}}") + "data: [DONE]\n\n");
    JsonObject streamed = result(run("streamed", ask("Capital of France?")
        .put("request", new JsonObject().put("stream_options", new JsonObject().put("include_usage", true)))));
    assertEquals("Paris.", streamed.getJsonArray("choices").getJsonObject(0).getJsonObject("message")
        .getString("content"));
    assertEquals(15, streamed.getJsonObject("usage").getInteger("total_tokens"));
  }

  @Test
  void parallelToolCallsArriveWholeWithTheirIds() {
    start();
    setup.upstream().reply(200, "text/event-stream", PARALLEL_TOOL_CALLS);
    JsonObject completion = result(run("streamed", ask("Weather in Paris and Rome?")
        .put("request", new JsonObject().put("tools", new JsonArray().add(weatherTool())))));
    JsonObject choice = completion.getJsonArray("choices").getJsonObject(0);
    assertEquals("tool_calls", choice.getString("finish_reason"));
    JsonArray calls = choice.getJsonObject("message").getJsonArray("tool_calls");
    assertEquals(2, calls.size(), calls::encode);
    assertEquals("{\"city\":\"Paris\"}", calls.getJsonObject(0).getJsonObject("function").getString("arguments"));
    assertEquals("{\"city\":\"Rome\"}", calls.getJsonObject(1).getJsonObject("function").getString("arguments"));
    assertFalse(calls.getJsonObject(0).getString("id").isEmpty());
    assertFalse(calls.getJsonObject(0).getString("id").equals(calls.getJsonObject(1).getString("id")));
  }

  @Test
  void structuredOutputAndAnImageGoUpstreamAsAsked() {
    start();
    setup.upstream().reply(200, "application/json", ANSWER.formatted("{\\\"city\\\": \\\"Paris\\\"}"));
    JsonObject schema = new JsonObject().put("type", "json_schema").put("json_schema", new JsonObject()
        .put("name", "city").put("strict", true).put("schema", new JsonObject().put("type", "object")
            .put("properties", new JsonObject().put("city", new JsonObject().put("type", "string")))
            .put("required", new JsonArray().add("city")).put("additionalProperties", false)));
    JsonObject completion = result(run("create", ask("Which city?").put("request",
        new JsonObject().put("response_format", schema))));
    String content = completion.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
    assertEquals("Paris", new JsonObject(content).getString("city"));
    JsonObject sent = new JsonObject(setup.upstream().lastRequest().body());
    assertEquals("json_schema", sent.getJsonObject("response_format").getString("type"));

    JsonArray imageMessage = new JsonArray().add(new JsonObject().put("role", "user").put("content", new JsonArray()
        .add(new JsonObject().put("type", "text").put("text", "What is this?"))
        .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject()
            .put("url", "data:image/png;base64,iVBORw0KGgo=")))));
    result(run("create", ask("ignored").put("request", new JsonObject().put("messages", imageMessage))));
    JsonObject part = new JsonObject(setup.upstream().lastRequest().body()).getJsonArray("messages")
        .getJsonObject(0).getJsonArray("content").getJsonObject(1);
    assertEquals("data:image/png;base64,iVBORw0KGgo=", part.getJsonObject("image_url").getString("url"));
  }

  @Test
  void anAnthropicModelStreamsItsReasoningToTheOpenAiSdk() {
    start();
    setup.upstream().reply(200, "text/event-stream", ANTHROPIC_THINKING);
    JsonArray chunks = result(run("chunks", new JsonObject().put("model", "anthropic/claude-sonnet-4-5")
        .put("prompt", "Capital of France?")), JsonArray.class);
    StringBuilder reasoning = new StringBuilder();
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < chunks.size(); i++) {
      JsonArray choices = chunks.getJsonObject(i).getJsonArray("choices");
      if (!choices.isEmpty()) {
        JsonObject delta = choices.getJsonObject(0).getJsonObject("delta");
        reasoning.append(delta.getString("reasoning_content", ""));
        text.append(delta.getString("content", ""));
      }
    }
    assertEquals("The capital is Paris.", reasoning.toString());
    assertEquals("Paris.", text.toString());
    assertTrue(setup.upstream().lastRequest().uri().endsWith("/v1/messages"), "the upstream spoke Anthropic");
  }

  @Test
  void errorsBecomeTheSdksTypedErrors() {
    start();
    JsonObject badRequest = run("create", ask("Hi").put("request", new JsonObject().put("temperature", "hot")))
        .getJsonObject("error");
    assertEquals("BadRequestError", badRequest.getString("class"), badRequest::encode);
    assertEquals(400, badRequest.getInteger("status"));

    JsonObject notFound = run("create", ask("Hi").put("model", "nobody/x")).getJsonObject("error");
    assertEquals("NotFoundError", notFound.getString("class"), notFound::encode);

    setup.upstream().answer(r -> r.response().setStatusCode(429).putHeader("retry-after", "3")
        .putHeader("content-type", "application/json").end("{\"error\": {\"message\": \"slow down\"}}"));
    JsonObject limited = run("create", ask("Hi")).getJsonObject("error");
    assertEquals("RateLimitError", limited.getString("class"), limited::encode);
    assertNotNull(limited.getJsonObject("headers").getString("retry-after"));
  }

  @Test
  void anAbortClosesTheUpstreamConnection() {
    start();
    // The upstream sends its first chunk, then holds the stream open until the router lets go of it.
    setup.upstream().answer(r -> r.response().setStatusCode(200).putHeader("content-type", "text/event-stream")
        .setChunked(true).write(sse("{\"id\":\"c1\",\"created\":1700000000,\"model\":\"gpt-4o-mini\","
            + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Once\"}}]}")));
    JsonObject first = result(run("abortAfterFirstChunk", ask("Tell me a long story")));
    assertNotNull(first.getJsonObject("first"));
    assertTrue(setup.upstream().awaitAllConnectionsClosed(1, TimeUnit.SECONDS), "the upstream call was aborted");
  }

  @Test
  void aRecordingReplaysIdenticallyWithTheUpstreamGone() throws Exception {
    start();
    setup.upstream().reply(200, "text/event-stream", PARALLEL_TOOL_CALLS);
    JsonObject tools = new JsonObject().put("tools", new JsonArray().add(weatherTool()));
    JsonObject recorded = result(run("streamed", ask("Weather?").put("request", tools)
        .put("headers", new JsonObject().put("x-cassette-mode", "record"))));
    setup.upstream().close();
    JsonObject replayed = result(run("streamed", ask("Weather?").put("request", tools)
        .put("headers", new JsonObject().put("x-cassette-mode", "replay"))));
    assertEquals(recorded, replayed);
  }

  @Test
  void oneCassetteServesTheSdkAndGrpcBothWays() {
    start();
    setup.upstream().reply(200, "application/json", ANSWER.formatted("Paris."));
    ChatRequest request = ChatRequest.newBuilder().setModel(MODEL).addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("From gRPC"))).build();
    ChatResponse overGrpc = grpc(setup.router(), "record").chat(request);
    JsonObject forSdk = result(run("create", ask("From gRPC")
        .put("headers", new JsonObject().put("x-cassette-mode", "replay"))));
    assertEquals(overGrpc.getId(), forSdk.getString("id"));

    result(run("create", ask("From the SDK").put("headers", new JsonObject().put("x-cassette-mode", "record"))));
    ChatResponse replayed = grpc(setup.router(), "replay").chat(request.toBuilder().setMessages(0,
        request.getMessages(0).toBuilder().setParts(0, Part.newBuilder().setText("From the SDK"))).build());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, replayed.getOrigin().getCassette());
    assertEquals(2, setup.upstream().received().size());
  }

  @Test
  void theSharedOpenAiExchangesReadAsTheSdkReadsThem() {
    List<WireExchange> exchanges = WireExchange.shared("openai-chat").stream().filter(e -> e.status() == 200)
        .toList();
    assumeFalse(exchanges.isEmpty(), "../shared/conformance is absent: the shared OpenAI exchanges are skipped");
    start();
    for (WireExchange exchange : exchanges) {
      setup.upstream().reply(200, exchange.headers().getOrDefault("content-type", "application/json"), exchange.body());
      boolean stream = exchange.request().path("stream").asBoolean(false);
      JsonObject completion = result(run(stream ? "streamed" : "create", ask("Replay " + exchange.name())));
      JsonObject message = completion.getJsonArray("choices").getJsonObject(0).getJsonObject("message");
      assertTrue(message.getString("content") != null || message.getJsonArray("tool_calls") != null,
          exchange + ": " + completion.encode());
    }
  }

  /** The README's snippet, as written: the OpenAI SDK replays the demo cassettes on the embedded default. */
  @Test
  void theReadmeSnippetReplaysTheDemoCassettes() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (RunningRouter router = RunningRouter.start(vertx, """
        cassettes: { dir: "../cassettes/recorded", mode: replay }
        providers:
          - { name: openai, type: openai, base_url: "https://api.openai.com/v1", api_key: "${OPENAI_API_KEY}" }
        """)) {
      JsonObject completion = result(NodeSdks.run(FILE, "create", router.port(),
          ask("What is the capital of France?")));
      assertEquals("The capital of France is Paris.", completion.getJsonArray("choices").getJsonObject(0)
          .getJsonObject("message").getString("content"));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  private static ChatServiceBlocking grpc(RunningRouter router, String mode) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-cassette-mode", Metadata.ASCII_STRING_MARSHALLER), mode);
    return router.chat().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))::chat;
  }

  /** The unary Chat of a stub with headers attached. */
  private interface ChatServiceBlocking {
    ChatResponse chat(ChatRequest request);
  }

  private static JsonObject weatherTool() {
    return new JsonObject().put("type", "function").put("function", new JsonObject().put("name", "weather")
        .put("parameters", new JsonObject().put("type", "object").put("properties", new JsonObject()
            .put("city", new JsonObject().put("type", "string")))));
  }

  private static JsonObject result(JsonObject run) {
    return result(run, JsonObject.class);
  }

  private static <T> T result(JsonObject run, Class<T> type) {
    assertFalse(run.containsKey("error"), run::encode);
    return type.cast(run.getValue("result"));
  }

  private static String sse(String... events) {
    StringBuilder text = new StringBuilder();
    for (String event : events) {
      text.append("data: ").append(event).append("\n\n");
    }
    return text.toString();
  }
}
