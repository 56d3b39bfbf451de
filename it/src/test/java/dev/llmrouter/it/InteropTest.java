package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.ExternalProcess;
import dev.llmrouter.server.testing.ExternalProcess.Run;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The router as clients outside Java see it: the Node example of `client-stub/examples/node` (grpc-js) and
 * `buf curl` (grpc-go, with the schema from reflection or from `proto/`), against the real router and a mock
 * OpenAI upstream. Skipped when `node` is not on the PATH; runs `npm ci` in the example once when needed.
 */
class InteropTest {

  static final Path EXAMPLE = Path.of("../client-stub/examples/node").toAbsolutePath().normalize();
  static final Path PROTO = Path.of("../proto").toAbsolutePath().normalize();
  static final String BUF = EXAMPLE.resolve("node_modules/.bin/buf").toString();
  private static final Duration PROCESS_TIMEOUT = Duration.ofSeconds(60);

  private static final String MODEL = "openai/gpt-4o-mini";
  private static final List<String> DELTAS = List.of("Hello", " from the", " mock", " upstream.");
  private static final String TEXT = String.join("", DELTAS);
  private static final String USAGE = "{\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17}";
  private static final String REQUEST = "{\"model\":\"%s\",\"messages\":[{\"role\":\"ROLE_USER\","
      + "\"parts\":[{\"text\":\"Say hello\"}]}]}";

  private static Vertx vertx;
  private static MockUpstream upstream;
  private static RunningRouter router;
  private static String address;

  /** Skips the test where node is missing; installs the example, and {@link #BUF} with it, on first use. */
  static synchronized void installExample() {
    assumeTrue(ExternalProcess.onPath("node"),
        "node is not on the PATH: skipping the Node and buf curl interop tests");
    if (!Files.exists(EXAMPLE.resolve("node_modules/.bin/buf"))) {
      // Not inheritIO: a child that shares the test JVM's standard streams corrupts surefire's channel to it.
      Run npm = ExternalProcess.run(EXAMPLE, Duration.ofMinutes(5), "npm", "ci");
      assertEquals(0, npm.exitCode(), () -> "npm ci failed in " + EXAMPLE + ": " + npm);
    }
  }

  @BeforeAll
  static void start() throws Exception {
    installExample();
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx).answer(InteropTest::answerLikeOpenAi);
    router = RunningRouter.start(vertx, """
        listen: 127.0.0.1:0
        cassettes: { mode: "off" }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}", models: [gpt-4o-mini] }
        """.formatted(upstream.baseUrl()));
    address = "127.0.0.1:" + router.port();
  }

  @AfterAll
  static void stop() throws Exception {
    if (router != null) {
      router.close();
    }
    if (upstream != null) {
      upstream.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  /**
   * Answers like OpenAI's chat completions: one JSON object, or SSE chunks when the request asks to stream. Given
   * tools and a user's question, it calls the first tool; given a tool's result, it answers with that result.
   */
  private static void answerLikeOpenAi(HttpServerRequest request) {
    JsonObject body = new JsonObject(upstream.lastRequest().body());
    JsonObject last = body.getJsonArray("messages").getJsonObject(body.getJsonArray("messages").size() - 1);
    if (body.containsKey("tools") && last.getString("role").equals("user")) {
      String tool = body.getJsonArray("tools").getJsonObject(0).getJsonObject("function").getString("name");
      request.response().putHeader("content-type", "text/event-stream").end(
          chunk("[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
              + "\"function\":{\"name\":\"" + tool + "\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
              + "\"finish_reason\":null}]")
              + chunk("[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]") + "data: [DONE]\n\n");
      return;
    }
    if (last.getString("role").equals("tool")) {
      request.response().putHeader("content-type", "text/event-stream").end(
          chunk("[{\"index\":0,\"delta\":{\"content\":\"The tool says: " + last.getString("content") + "\"},"
              + "\"finish_reason\":null}]")
              + chunk("[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]") + "data: [DONE]\n\n");
      return;
    }
    if (!body.getBoolean("stream", false)) {
      request.response().putHeader("content-type", "application/json").end("""
          {"id": "chatcmpl-interop", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
           "choices": [{"index": 0, "message": {"role": "assistant", "content": "%s"}, "finish_reason": "stop"}],
           "usage": %s}""".formatted(TEXT, USAGE));
      return;
    }
    HttpServerResponse response = request.response().setChunked(true).putHeader("content-type", "text/event-stream");
    response.write(chunk("[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]"));
    for (String delta : DELTAS) {
      response.write(chunk("[{\"index\":0,\"delta\":{\"content\":\"" + delta + "\"},\"finish_reason\":null}]"));
    }
    response.write(chunk("[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]"));
    response.write(chunk("[],\"usage\":" + USAGE)); // the usage chunk: no choices
    response.end("data: [DONE]\n\n");
  }

  private static String chunk(String choicesAndMore) {
    return "data: {\"id\":\"chatcmpl-interop\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
        + "\"model\":\"gpt-4o-mini\",\"choices\":" + choicesAndMore + "}\n\n";
  }

  // ---- the Node example (grpc-js)

  @Test
  void nodeListsModels() {
    Run run = run("node", "client.js", address, "models");
    assertEquals(0, run.exitCode(), run::toString);
    JsonObject model = json(run.stdout(), run).getJsonArray("models").getJsonObject(0);
    assertEquals(MODEL, model.getString("name"), run::toString);
    assertEquals("openai", model.getString("providerType"), run::toString);
  }

  @Test
  void nodeChats() {
    Run run = run("node", "client.js", address, "chat", MODEL, "Say hello");
    assertEquals(0, run.exitCode(), run::toString);
    JsonObject response = json(run.stdout(), run);
    assertEquals(TEXT, response.getJsonObject("message").getJsonArray("parts").getJsonObject(0).getString("text"),
        run::toString);
    assertEquals("FINISH_REASON_STOP", response.getString("finishReason"), run::toString);
    // gpt-4o-mini at the bundled prices: 12 x $0.15 + 5 x $0.60 per million tokens.
    assertEquals(new JsonObject().put("inputTokens", "12").put("outputTokens", "5").put("costUsd", 4.8e-6),
        response.getJsonObject("usage"), run::toString);
  }

  @Test
  void nodeStreams() {
    Run run = run("node", "client.js", address, "stream", MODEL, "Say hello");
    assertEquals(0, run.exitCode(), run::toString);
    List<JsonObject> events = run.stdout().lines().map(line -> json(line, run)).toList();
    assertTrue(events.get(0).containsKey("start"), run::toString);
    String text = events.stream().filter(e -> e.containsKey("textDelta"))
        .map(e -> e.getJsonObject("textDelta").getString("text")).collect(Collectors.joining());
    assertEquals(TEXT, text, run::toString);
    JsonObject done = events.get(events.size() - 1).getJsonObject("done");
    assertNotNull(done, () -> "the last event is not done:\n" + run);
    assertEquals("FINISH_REASON_STOP", done.getJsonObject("response").getString("finishReason"), run::toString);
  }

  @Test
  void nodeChecksHealth() {
    Run run = run("node", "client.js", address, "health");
    assertEquals(0, run.exitCode(), run::toString);
    assertEquals("SERVING", run.stdout().strip(), run::toString);
  }

  @Test
  void nodeReportsTheStatusOfAFailedCall() {
    Run run = run("node", "client.js", address, "chat", "nope/model", "Say hello");
    assertEquals(1, run.exitCode(), run::toString);
    assertTrue(run.stderr().startsWith("ERROR INVALID_ARGUMENT "), run::toString);
  }

  // ---- buf curl (grpc-go)

  @Test
  void bufCurlChatsWithTheSchemaFromReflection() {
    Run run = run(BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", REQUEST.formatted(MODEL),
        "http://" + address + "/llmrouter.v1.ChatService/Chat");
    assertEquals(0, run.exitCode(), run::toString);
    assertTrue(run.stdout().contains("\"text\": \"" + TEXT + "\""), run::toString);
  }

  @Test
  void bufCurlStreamsWithTheSchemaFromProtoFiles() {
    Run run = run(BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--schema", PROTO.toString(),
        "-d", REQUEST.formatted(MODEL), "http://" + address + "/llmrouter.v1.ChatService/StreamChat");
    assertEquals(0, run.exitCode(), run::toString);
    assertTrue(run.stdout().contains("\"textDelta\""), run::toString);
    assertTrue(run.stdout().contains("\"text\": \"" + TEXT + "\""), run::toString); // in the done event
    assertTrue(run.stdout().contains("FINISH_REASON_STOP"), run::toString);
  }

  @Test
  void bufCurlSeesInvalidArgumentForAnEmptyModel() {
    Run run = run(BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", REQUEST.formatted(""),
        "http://" + address + "/llmrouter.v1.ChatService/Chat");
    assertNotEquals(0, run.exitCode(), run::toString);
    assertTrue(run.stderr().contains("\"code\": \"invalid_argument\""), run::toString);
    assertTrue(run.stderr().contains("model: is required"), run::toString);
  }

  @Test
  void bufCurlFindsACallInTheCallLogThroughReflection() throws Exception {
    Run chat = run(BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", "-H", "x-user-id: interop-user",
        "-d", REQUEST.formatted(MODEL), "http://" + address + "/llmrouter.v1.ChatService/Chat");
    assertEquals(0, chat.exitCode(), chat::toString);
    // The call log writes in batches, within about 50 ms.
    Run calls = Await.poll(Duration.ofSeconds(10), () -> run(BUF, "curl", "--protocol", "grpc",
        "--http2-prior-knowledge", "-d", "{\"filter\": {\"userId\": \"interop-user\"}}",
        "http://" + address + "/llmrouter.v1.ObservabilityService/ListCalls"),
        listed -> listed.exitCode() != 0 || listed.stdout().contains("interop-user"));
    assertEquals(0, calls.exitCode(), calls::toString);
    assertTrue(calls.stdout().contains("\"userId\": \"interop-user\""), calls::toString);
    assertTrue(calls.stdout().contains("\"callType\": \"CALL_TYPE_CHAT\""), calls::toString);
  }

  @Test
  void nodeRunsALiveSessionWithAClientSideTool() {
    Run run = run("node", "converse.js", address, MODEL, "What is the weather in Paris?");
    assertEquals(0, run.exitCode(), run.toString());
    assertTrue(run.stdout().contains("The tool says: Paris: 18C and sunny"), run.toString());
    for (String event : List.of("\"sessionStarted\"", "\"toolCalls\"", "\"turnCompleted\"")) {
      assertTrue(run.stderr().contains(event), "the session sent " + event + "\n" + run);
    }
  }

  // ---- helpers

  /** Runs a command in the example folder, with a timeout, and captures what it printed. */
  private static Run run(String... command) {
    return ExternalProcess.run(EXAMPLE, PROCESS_TIMEOUT, command);
  }

  private static JsonObject json(String text, Run run) {
    try {
      return new JsonObject(text);
    } catch (DecodeException e) {
      throw new AssertionError("not a JSON object: " + e.getMessage() + "\n" + run, e);
    }
  }
}
