package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.server.ingress.DialectValues;
import dev.llmrouter.server.testing.AnthropicWire;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.ProviderWire;
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
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The `openai` SDK's Responses API (`responses.create`, `responses.stream`, `responses.parse`) against the real
 * router, whose upstream replays recorded Chat Completions and Anthropic exchanges: text, streams checked event by
 * event by the SDK's own strict accumulator, function calls, structured output, images, reasoning, the SDK's typed
 * errors, an abort that reaches the upstream, record then replay with the upstream gone, cassettes shared with gRPC,
 * and an Anthropic model behind the OpenAI SDK.
 */
class ResponsesSdkTest {

  private static final String SCENARIOS = "openai-responses.mjs";
  private static final String MODEL = "openai/gpt-4o-mini";
  private static final String ANSWER = """
      {"id": "chatcmpl-upstream", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
       "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
       "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}""";
  private static final String STREAM = """
      data: {"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"Par"},"finish_reason":null}]}

      data: {"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"is."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}

      data: [DONE]

      """;

  private RouterWithUpstream setup;

  @TempDir
  Path cassettes;

  @BeforeAll
  static void sdks() {
    NodeSdks.install();
  }

  @BeforeEach
  void start() {
    setup = RouterWithUpstream.start("""
        cassettes: { dir: "%s", mode: "off", allow_mode_override: true }
        providers:
          - { name: openai, type: openai, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
          - { name: anthropic, type: anthropic, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
          - { name: gemini, type: gemini, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
        """.formatted(cassettes));
  }

  @AfterEach
  void stop() throws Exception {
    setup.close();
  }

  private JsonObject run(String scenario, JsonObject body, JsonObject headers) {
    return NodeSdks.run(SCENARIOS, scenario, setup.router().port(),
        new JsonObject().put("body", body).put("headers", headers));
  }

  private JsonObject result(String scenario, JsonObject body) {
    return result(scenario, body, new JsonObject());
  }

  private JsonObject result(String scenario, JsonObject body, JsonObject headers) {
    JsonObject outcome = run(scenario, body, headers);
    assertTrue(outcome.containsKey("result"), outcome::encodePrettily);
    return outcome.getJsonObject("result");
  }

  private void replay(WireExchange exchange) {
    setup.upstream().reply(exchange.status(), exchange.headers().getOrDefault("content-type", "application/json"),
        exchange.body());
  }

  private static WireExchange shared(String folder, String file) {
    assumeTrue(WireExchange.sharedCorpus().isPresent(), "no ../shared/conformance beside this checkout");
    return find(WireExchange.shared(folder), file);
  }

  private static WireExchange own(String folder, String file) {
    return find(WireExchange.own(folder), file);
  }

  private static WireExchange find(List<WireExchange> exchanges, String file) {
    return exchanges.stream().filter(exchange -> exchange.name().endsWith("/" + file)).findFirst().orElseThrow();
  }

  private static JsonObject ask(String model, Object input) {
    return new JsonObject().put("model", model).put("input", input);
  }

  private static List<String> types(JsonObject streamed) {
    JsonArray events = streamed.getJsonArray("events");
    List<String> types = IntStream.range(0, events.size()).mapToObj(i -> events.getJsonObject(i).getString("type"))
        .toList();
    for (int i = 0; i < events.size(); i++) {
      assertEquals(i, events.getJsonObject(i).getInteger("sequence_number"), "events are numbered from 0");
    }
    return types;
  }

  private static String deltas(JsonObject streamed, String type) {
    JsonArray events = streamed.getJsonArray("events");
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < events.size(); i++) {
      if (events.getJsonObject(i).getString("type").equals(type)) {
        text.append(events.getJsonObject(i).getString("delta"));
      }
    }
    return text.toString();
  }

  @Test
  void textWholeAndStreamed() {
    WireExchange whole = shared("openai-chat", "text-nonstream.json");
    ProviderWire.Answer answer = new OpenAiWire().answerOf(whole);
    replay(whole);
    JsonObject response = result("create", ask(MODEL, "Capital of France?"));
    assertEquals(answer.text(), response.getString("output_text"));
    assertTrue(response.getString("id").startsWith("resp_"), response::encode);
    assertEquals("completed", response.getString("status"));
    assertEquals(answer.usage().getInputTokens(), response.getJsonObject("usage").getLong("input_tokens"));

    WireExchange streamedExchange = shared("openai-chat", "stream-text-usage.json");
    ProviderWire.Answer streamedAnswer = new OpenAiWire().answerOf(streamedExchange);
    replay(streamedExchange);
    JsonObject streamed = result("stream", ask(MODEL, "Weather?"));
    List<String> types = types(streamed);
    assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
        "response.content_part.added"), types.subList(0, 4));
    assertEquals("response.completed", types.get(types.size() - 1));
    assertEquals(streamedAnswer.text(), deltas(streamed, "response.output_text.delta"));
    assertEquals(streamedAnswer.text(), streamed.getJsonObject("final").getString("output_text"));
    assertEquals(streamedAnswer.usage().getOutputTokens(),
        streamed.getJsonObject("final").getJsonObject("usage").getLong("output_tokens"));
  }

  @Test
  void aStreamedFunctionCallAndParallelFunctionCalls() {
    WireExchange call = shared("openai-chat", "stream-tool-call.json");
    ToolCall expected = new OpenAiWire().answerOf(call).toolCalls().get(0);
    replay(call);
    JsonObject tool = new JsonObject().put("type", "function").put("name", expected.getName())
        .put("parameters", new JsonObject().put("type", "object"));
    JsonObject streamed = result("stream", ask(MODEL, "What is 3 times 4?").put("tools", new JsonArray().add(tool)));
    assertTrue(types(streamed).contains("response.function_call_arguments.done"));
    assertEquals(expected.getArgumentsJson(), deltas(streamed, "response.function_call_arguments.delta"));
    JsonObject item = streamed.getJsonObject("final").getJsonArray("output").getJsonObject(0);
    assertEquals("function_call", item.getString("type"));
    assertEquals(expected.getId(), item.getString("call_id"));
    assertEquals(expected.getName(), item.getString("name"));
    assertEquals(expected.getArgumentsJson(), item.getString("arguments"));

    // Two calls whose fragments interleave: the SDK's accumulator takes each fragment to its own item.
    WireExchange parallel = own("openai-chat", "stream-parallel-tools-crlf.json");
    List<ToolCall> calls = new OpenAiWire().answerOf(parallel).toolCalls();
    replay(parallel);
    JsonArray output = result("stream", ask(MODEL, "Weather in Paris and time in Tokyo?")
        .put("tools", new JsonArray().add(tool.copy().put("name", "get_weather"))
            .add(tool.copy().put("name", "get_time")))).getJsonObject("final").getJsonArray("output");
    assertEquals(2, output.size());
    for (int i = 0; i < 2; i++) {
      assertEquals(calls.get(i).getId(), output.getJsonObject(i).getString("call_id"));
      assertEquals(calls.get(i).getArgumentsJson(), output.getJsonObject(i).getString("arguments"));
    }
  }

  @Test
  void structuredOutputIsParsedByTheSdk() {
    WireExchange structured = shared("openai-chat", "structured-output-json-schema.json");
    replay(structured);
    JsonObject schema = new JsonObject().put("type", "object").put("additionalProperties", false)
        .put("required", new JsonArray().add("city").add("country"))
        .put("properties", new JsonObject().put("city", new JsonObject().put("type", "string"))
            .put("country", new JsonObject().put("type", "string")));
    JsonObject parsed = result("parse", ask(MODEL, "The largest city of Mexico?").put("text", new JsonObject()
        .put("format", new JsonObject().put("type", "json_schema").put("name", "city").put("strict", true)
            .put("schema", schema))));
    assertEquals(new JsonObject(new OpenAiWire().answerOf(structured).text()), parsed.getJsonObject("output_parsed"));
    JsonObject sent = new JsonObject(setup.upstream().lastRequest().body());
    assertEquals("city", sent.getJsonObject("response_format").getJsonObject("json_schema").getString("name"));
  }

  @Test
  void anImageGoesUpstreamAsTheUserSentIt() {
    setup.upstream().reply(200, "application/json", ANSWER);
    String image = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmM"
        + "IQAAAABJRU5ErkJggg==";
    JsonArray input = new JsonArray().add(new JsonObject().put("role", "user").put("content", new JsonArray()
        .add(new JsonObject().put("type", "input_text").put("text", "What is this?"))
        .add(new JsonObject().put("type", "input_image").put("image_url", image).put("detail", "auto"))));
    assertEquals("Paris.", result("create", ask(MODEL, input)).getString("output_text"));
    JsonObject sent = new JsonObject(setup.upstream().lastRequest().body());
    assertEquals(image, sent.getJsonArray("messages").getJsonObject(0).getJsonArray("content").getJsonObject(1)
        .getJsonObject("image_url").getString("url"));
  }

  @Test
  void aReasoningStreamCutByTheTokenLimit() {
    WireExchange reasoning = own("openai-chat", "stream-reasoning-length.json");
    ProviderWire.Answer answer = new OpenAiWire().answerOf(reasoning);
    replay(reasoning);
    JsonObject streamed = result("stream", ask(MODEL, "Is 97 prime?").put("max_output_tokens", 40)
        .put("reasoning", new JsonObject().put("effort", "low").put("summary", "auto")));
    assertEquals(answer.reasoning(), deltas(streamed, "response.reasoning_summary_text.delta"));
    JsonObject last = streamed.getJsonArray("events").getJsonObject(streamed.getJsonArray("events").size() - 1);
    assertEquals("response.incomplete", last.getString("type"));
    JsonObject response = streamed.getJsonObject("final");
    assertEquals("incomplete", response.getString("status"));
    assertEquals("max_output_tokens", response.getJsonObject("incomplete_details").getString("reason"));
    assertEquals(answer.reasoning(), response.getJsonArray("output").getJsonObject(0).getJsonArray("summary")
        .getJsonObject(0).getString("text"));
    assertEquals(answer.text(), response.getString("output_text"));
  }

  @Test
  void errorsAreTheSdksTypedErrors() {
    JsonObject unknown = run("create", ask("nobody/x", "Hi"), new JsonObject()).getJsonObject("error");
    assertEquals("NotFoundError", unknown.getString("class"), unknown::encode);
    assertEquals(404, unknown.getInteger("status"));

    JsonObject stateful = run("create", ask(MODEL, "And then?").put("previous_response_id", "resp_earlier"),
        new JsonObject()).getJsonObject("error");
    assertEquals("BadRequestError", stateful.getString("class"), stateful::encode);
    assertEquals(400, stateful.getInteger("status"));
    assertTrue(stateful.getString("message").contains("stateless"), stateful::encode);

    WireExchange limited = own("openai-chat", "error-429-rate-limit.json");
    replay(limited);
    for (String scenario : List.of("create", "stream")) {
      JsonObject error = run(scenario, ask(MODEL, "Hi"), new JsonObject()).getJsonObject("error");
      assertEquals("RateLimitError", error.getString("class"), error::encode);
      assertEquals(429, error.getInteger("status"));
    }
  }

  @Test
  void anAbortClosesTheUpstreamConnection() {
    // The upstream sends the first words, then stays silent until the router hangs up on it.
    setup.upstream().answer(r -> {
      r.response().setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
      r.response().write(STREAM.substring(0, STREAM.indexOf("\n\n") + 2));
    });
    JsonObject aborted = result("abortAtFirstDelta", ask(MODEL, "Capital of France?"));
    assertTrue(aborted.getBoolean("aborted"));
    assertTrue(aborted.getJsonArray("seen").contains("response.output_text.delta"), aborted::encode);
    assertTrue(setup.upstream().awaitAllConnectionsClosed(1, TimeUnit.SECONDS), "the upstream call was aborted");
  }

  @Test
  void recordedThenReplayedWithTheUpstreamGoneTheSdkSeesTheSameObjects() {
    // One upstream for both: a stream for a streamed call, one JSON body otherwise.
    setup.upstream().answer(r -> {
      boolean streamed = setup.upstream().lastRequest().body().contains("\"stream\":true");
      r.response().setStatusCode(200).putHeader("content-type", streamed ? "text/event-stream" : "application/json")
          .end(streamed ? STREAM : ANSWER);
    });
    JsonObject record = new JsonObject().put("x-cassette-mode", "record");
    JsonObject question = ask(MODEL, "Capital of France?");
    JsonObject whole = result("create", question, record.copy().put("x-cassette-scope", "whole"));
    JsonObject streamed = result("stream", question, record.copy().put("x-cassette-scope", "streamed"));
    setup.upstream().close();

    JsonObject replay = new JsonObject().put("x-cassette-mode", "replay");
    assertEquals(whole, result("create", question, replay.copy().put("x-cassette-scope", "whole")));
    assertEquals(streamed, result("stream", question, replay.copy().put("x-cassette-scope", "streamed")));
    assertEquals("Paris.", whole.getString("output_text"));
  }

  @Test
  void aCassetteRecordedOverGrpcReplaysForTheSdkAndTheOtherWayRound() {
    setup.upstream().reply(200, "application/json", ANSWER);
    ChatRequest overGrpc = ChatRequest.newBuilder().setModel(MODEL).addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Capital of France?"))).build();
    ChatResponse recorded = grpc("record", "grpc-first").chat(overGrpc);
    JsonObject replayed = result("create", ask(MODEL, "Capital of France?"),
        new JsonObject().put("x-cassette-mode", "replay").put("x-cassette-scope", "grpc-first"));
    assertEquals(recorded.getMessage().getParts(0).getText(), replayed.getString("output_text"));
    assertEquals(DialectValues.responseId(recorded.getId(), "resp_"), replayed.getString("id"));

    JsonObject sdkRecorded = result("create", ask(MODEL, "Capital of France?"),
        new JsonObject().put("x-cassette-mode", "record").put("x-cassette-scope", "sdk-first"));
    int upstreamCalls = setup.upstream().received().size();
    ChatResponse grpcReplayed = grpc("replay", "sdk-first").chat(overGrpc);
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, grpcReplayed.getOrigin().getCassette());
    assertEquals(sdkRecorded.getString("output_text"), grpcReplayed.getMessage().getParts(0).getText());
    assertEquals(sdkRecorded.getString("id"), DialectValues.responseId(grpcReplayed.getId(), "resp_"));
    assertEquals(upstreamCalls, setup.upstream().received().size());
  }

  private ChatServiceGrpc.ChatServiceBlockingStub grpc(String mode, String scope) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-cassette-mode", Metadata.ASCII_STRING_MARSHALLER), mode);
    headers.put(Metadata.Key.of("x-cassette-scope", Metadata.ASCII_STRING_MARSHALLER), scope);
    return setup.router().chat().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  @Test
  void anAnthropicModelBehindTheOpenAiSdk() {
    WireExchange text = shared("anthropic", "text-nonstream.json");
    replay(text);
    assertEquals(new AnthropicWire().answerOf(text).text(),
        result("create", ask("anthropic/claude-3-opus", "Capital of France?")).getString("output_text"));

    WireExchange thinking = shared("anthropic", "stream-thinking.json");
    ProviderWire.Answer answer = new AnthropicWire().answerOf(thinking);
    replay(thinking);
    JsonObject streamed = result("stream", ask("anthropic/claude-haiku-4-5", "Think, then answer.")
        .put("reasoning", new JsonObject().put("effort", "low").put("summary", "detailed")));
    assertEquals(answer.reasoning(), deltas(streamed, "response.reasoning_summary_text.delta"));
    JsonObject response = streamed.getJsonObject("final");
    assertEquals(answer.text(), response.getString("output_text"));
    JsonObject reasoning = response.getJsonArray("output").getJsonObject(0);
    assertEquals("reasoning", reasoning.getString("type"));
    assertEquals("anthropic/anthropic/TEST_API_KEY:" + answer.reasoningSignature(),
        reasoning.getString("encrypted_content"));
  }

  @Test
  void aGeminiSignatureWithNoThoughtTextLeadsTheFinalOutput() {
    WireExchange signed = shared("vertex-gemini", "stream-sse-flex.json");
    replay(signed);
    JsonObject streamed = result("stream", ask("gemini/gemini-3-flash-preview", "Say OK."));
    JsonArray output = streamed.getJsonObject("final").getJsonArray("output");
    assertEquals("reasoning", output.getJsonObject(0).getString("type"), output::encode);
    assertTrue(output.getJsonObject(0).getString("encrypted_content").startsWith("gemini/gemini/TEST_API_KEY:"));
    assertEquals("OK", streamed.getJsonObject("final").getString("output_text"));
  }

  /** The README's snippets, as written: the OpenAI SDK's Responses replay the demo cassettes on the embedded default. */
  @Test
  void theReadmeSnippetsReplayTheDemoCassettes() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (RunningRouter router = RunningRouter.start(vertx, """
        cassettes: { dir: "../cassettes/recorded", mode: replay }
        providers:
          - { name: openai, type: openai, base_url: "https://api.openai.com/v1", api_key: "${OPENAI_API_KEY}" }
        """)) {
      JsonObject outcome = NodeSdks.run(SCENARIOS, "readme", router.port(), new JsonObject());
      assertTrue(outcome.containsKey("result"), outcome::encodePrettily);
      assertEquals("The capital of France is Paris.", outcome.getJsonObject("result").getString("capital"));
      ChatResponse haiku = router.chat().chat(ChatRequest.newBuilder().setModel(MODEL)
          .addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
              .addParts(Part.newBuilder().setText("Write a haiku about the sea."))).build());
      assertEquals(haiku.getMessage().getParts(0).getText(), outcome.getJsonObject("result").getString("haiku"));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }
}
