package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official `@google/genai` SDK (pinned in `src/test/node/sdks`) against the real router, changing nothing but its
 * base URL: answers and streams as the SDK reads them, thoughts, streamed and parallel function calls answered through
 * the SDK's own chat history, structured output, an image, the SDK's ApiErrors, an abort, record then replay with no
 * upstream, one cassette for the SDK and gRPC, an OpenAI model behind the Gemini SDK, and the README's snippet.
 */
class GeminiSdkTest {

  private static final String FILE = "gemini.mjs";
  private static final String MODEL = "gemini/gemini-2.5-flash";
  private static final String ANSWER = """
      {"candidates": [{"content": {"parts": [{"text": "%s"}], "role": "model"}, "finishReason": "STOP", "index": 0}],
       "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 3, "totalTokenCount": 35,
         "thoughtsTokenCount": 20},
       "modelVersion": "gemini-2.5-flash", "responseId": "upstream-id"}""";
  private static final String THINKING_STREAM = sse(
      "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"France's capital is Paris.\",\"thought\":true}],"
          + "\"role\":\"model\"},\"index\":0}],\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}",
      "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Par\"}],\"role\":\"model\"},\"index\":0}],"
          + "\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}",
      "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"is.\",\"thoughtSignature\":\"c2ln\"}],\"role\":\"model\"},"
          + "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":12,"
          + "\"candidatesTokenCount\":3,\"totalTokenCount\":35,\"thoughtsTokenCount\":20},"
          + "\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}");
  private static final String PARALLEL_CALLS_STREAM = sse(
      "{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"weather\",\"args\":{\"city\":\"Paris\"}},"
          + "\"thoughtSignature\":\"c2ln\"},{\"functionCall\":{\"name\":\"weather\",\"args\":{\"city\":\"Rome\"}}}],"
          + "\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":30,"
          + "\"candidatesTokenCount\":10,\"totalTokenCount\":40},\"modelVersion\":\"gemini-2.5-flash\","
          + "\"responseId\":\"r2\"}");
  private static final String OPENAI_PARALLEL_TOOL_CALLS = sse(
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\","
          + "\"function\":{\"name\":\"weather\",\"arguments\":\"{\\\"city\\\":\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"weather\","
          + "\"arguments\":\"{\\\"city\\\":\\\"Rome\\\"}\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},"
          + "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":9}}")
      + "data: [DONE]\n\n";

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
          - { name: gemini, type: gemini, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
          - { name: openai, type: openai, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
        """.formatted(cassettes));
  }

  private JsonObject run(String scenario, JsonObject arguments) {
    return NodeSdks.run(FILE, scenario, setup.router().port(), arguments);
  }

  private static JsonObject ask(String prompt) {
    return new JsonObject().put("model", MODEL).put("contents", prompt);
  }

  @Test
  void anAnswerAndAStreamReadAsTheSdkReadsGemini() {
    start();
    setup.upstream().reply(200, "application/json", ANSWER.formatted("Paris."));
    JsonObject answer = result(run("generate", ask("Capital of France?")));
    assertEquals("Paris.", answer.getString("text"));
    assertEquals("STOP", answer.getJsonArray("candidates").getJsonObject(0).getString("finishReason"));
    assertEquals(20, answer.getJsonObject("usageMetadata").getInteger("thoughtsTokenCount"));
    assertEquals(3, answer.getJsonObject("usageMetadata").getInteger("candidatesTokenCount"));
    assertFalse(answer.getString("responseId").isEmpty());
    assertEquals("/v1beta/models/gemini-2.5-flash:generateContent", setup.upstream().lastRequest().uri());
    assertFalse(String.valueOf(setup.upstream().lastRequest().headers()).contains("AIza-caller-key"),
        "the caller's key stays with the router");

    setup.upstream().reply(200, "text/event-stream", THINKING_STREAM);
    JsonArray chunks = result(run("stream", ask("Capital of France?")), JsonArray.class);
    StringBuilder text = new StringBuilder();
    chunks.forEach(chunk -> text.append(((JsonObject) chunk).getString("text", "")));
    assertEquals("Paris.", text.toString());
    JsonObject last = chunks.getJsonObject(chunks.size() - 1);
    assertEquals("STOP", last.getJsonArray("candidates").getJsonObject(0).getString("finishReason"));
    assertEquals(35, last.getJsonObject("usageMetadata").getInteger("totalTokenCount"));
  }

  @Test
  void aThinkingStreamShowsItsThoughtsAndAsksGeminiForThem() {
    start();
    setup.upstream().reply(200, "text/event-stream", THINKING_STREAM);
    JsonObject thinking = new JsonObject().put("thinkingBudget", 1024).put("includeThoughts", true);
    JsonArray chunks = result(run("stream", ask("Capital of France?")
        .put("config", new JsonObject().put("thinkingConfig", thinking))), JsonArray.class);
    JsonObject thought = part(chunks.getJsonObject(0), 0);
    assertTrue(thought.getBoolean("thought"), chunks::encode);
    assertEquals("France's capital is Paris.", thought.getString("text"));
    assertEquals("c2ln", part(chunks.getJsonObject(chunks.size() - 1), 0).getString("thoughtSignature"));
    JsonObject sent = new JsonObject(setup.upstream().lastRequest().body());
    assertEquals(thinking, sent.getJsonObject("generationConfig").getJsonObject("thinkingConfig"));
  }

  @Test
  void streamedParallelFunctionCallsGoBackWithTheirResultsInTheSdksOwnChatHistory() {
    start();
    setup.upstream().script(
        r -> r.response().setStatusCode(200).putHeader("content-type", "text/event-stream").end(PARALLEL_CALLS_STREAM),
        r -> r.response().setStatusCode(200).putHeader("content-type", "application/json")
            .end(ANSWER.formatted("Rome is warmer.")));
    JsonObject chat = result(run("functionCallingChat", new JsonObject().put("model", MODEL)
        .put("prompt", "Weather in Paris and Rome?").put("tools", weatherTools())
        .put("results", new JsonObject().put("Paris", "18C, sunny").put("Rome", "24C, cloudy"))));
    JsonArray calls = chat.getJsonArray("calls");
    assertEquals(2, calls.size(), calls::encode);
    assertEquals("Paris", calls.getJsonObject(0).getJsonObject("args").getString("city"));
    assertEquals("Rome", calls.getJsonObject(1).getJsonObject("args").getString("city"));
    assertNotEquals(calls.getJsonObject(0).getString("id"), calls.getJsonObject(1).getString("id"));
    assertEquals("Rome is warmer.", chat.getString("text"));

    // The second turn reaches Gemini as Gemini wants it: the calls in one model content, the signature on the first.
    JsonArray contents = new JsonObject(setup.upstream().lastRequest().body()).getJsonArray("contents");
    assertEquals(3, contents.size(), contents::encode);
    JsonArray modelParts = contents.getJsonObject(1).getJsonArray("parts");
    assertEquals("c2ln", modelParts.getJsonObject(0).getString("thoughtSignature"), contents::encode);
    assertEquals("Rome", modelParts.getJsonObject(1).getJsonObject("functionCall").getJsonObject("args")
        .getString("city"));
    JsonArray results = contents.getJsonObject(2).getJsonArray("parts");
    assertEquals(new JsonObject().put("result", "18C, sunny"),
        results.getJsonObject(0).getJsonObject("functionResponse").getJsonObject("response"));
    assertEquals(new JsonObject().put("result", "24C, cloudy"),
        results.getJsonObject(1).getJsonObject("functionResponse").getJsonObject("response"));
  }

  @Test
  void structuredOutputAndAnImageGoUpstreamAsAsked() {
    start();
    setup.upstream().reply(200, "application/json", ANSWER.formatted("{\\\"city\\\": \\\"Paris\\\"}"));
    JsonObject city = result(run("structured", new JsonObject().put("model", MODEL).put("prompt", "Which city?")));
    assertEquals("Paris", city.getString("city"));
    JsonObject config = new JsonObject(setup.upstream().lastRequest().body()).getJsonObject("generationConfig");
    assertEquals("application/json", config.getString("responseMimeType"));
    assertEquals("string", config.getJsonObject("responseJsonSchema").getJsonObject("properties")
        .getJsonObject("city").getString("type"), config::encode);

    JsonArray withImage = new JsonArray().add(new JsonObject().put("role", "user").put("parts", new JsonArray()
        .add(new JsonObject().put("text", "What is this?"))
        .add(new JsonObject().put("inlineData", new JsonObject().put("mimeType", "image/png")
            .put("data", "iVBORw0KGgo=")))));
    result(run("generate", ask("ignored").put("contents", withImage)));
    JsonObject image = new JsonObject(setup.upstream().lastRequest().body()).getJsonArray("contents")
        .getJsonObject(0).getJsonArray("parts").getJsonObject(1);
    assertEquals(new JsonObject().put("mimeType", "image/png").put("data", "iVBORw0KGgo="),
        image.getJsonObject("inlineData"));
  }

  @Test
  void errorsBecomeTheSdksApiErrors() {
    start();
    JsonObject badRequest = run("generate", ask("Hi").put("config", new JsonObject().put("temperature", "hot")))
        .getJsonObject("error");
    assertEquals("ApiError", badRequest.getString("class"), badRequest::encode);
    assertEquals(400, badRequest.getInteger("status"));
    assertTrue(badRequest.getString("message").contains("generationConfig.temperature"), badRequest::encode);

    JsonObject notFound = run("generate", ask("Hi").put("model", "nobody/x")).getJsonObject("error");
    assertEquals("ApiError", notFound.getString("class"), notFound::encode);
    assertEquals(404, notFound.getInteger("status"));

    setup.upstream().reply(429, "application/json", """
        {"error": {"code": 429, "message": "You exceeded your current quota", "status": "RESOURCE_EXHAUSTED"}}""");
    JsonObject limited = run("stream", ask("Hi")).getJsonObject("error");
    assertEquals("ApiError", limited.getString("class"), limited::encode);
    assertEquals(429, limited.getInteger("status"));
    assertTrue(limited.getString("message").contains("RESOURCE_EXHAUSTED"), limited::encode);
  }

  @Test
  void anAbortClosesTheUpstreamConnection() {
    start();
    // The upstream sends its first chunk, then holds the stream open until the router lets go of it.
    setup.upstream().answer(r -> r.response().setStatusCode(200).putHeader("content-type", "text/event-stream")
        .setChunked(true).write(THINKING_STREAM.substring(0, THINKING_STREAM.indexOf("\n\n") + 2)));
    JsonObject first = result(run("abortAfterFirstChunk", new JsonObject().put("model", MODEL)
        .put("prompt", "Tell me a long story")));
    assertNotNull(first.getJsonObject("first"));
    assertTrue(setup.upstream().awaitAllConnectionsClosed(1, TimeUnit.SECONDS), "the upstream call was aborted");
  }

  @Test
  void aRecordingReplaysIdenticallyWithTheUpstreamGone() {
    start();
    setup.upstream().reply(200, "text/event-stream", PARALLEL_CALLS_STREAM);
    JsonObject tools = new JsonObject().put("tools", weatherTools());
    JsonArray recorded = result(run("stream", ask("Weather?").put("config", tools)
        .put("headers", new JsonObject().put("x-cassette-mode", "record"))), JsonArray.class);
    setup.upstream().close();
    JsonArray replayed = result(run("stream", ask("Weather?").put("config", tools)
        .put("headers", new JsonObject().put("x-cassette-mode", "replay"))), JsonArray.class);
    assertEquals(recorded, replayed);
    assertEquals(2, recorded.stream().mapToInt(chunk -> ((JsonObject) chunk).getJsonArray("functionCalls").size())
        .sum(), recorded::encode);
  }

  @Test
  void oneCassetteServesTheSdkAndGrpcBothWays() {
    start();
    setup.upstream().reply(200, "application/json", ANSWER.formatted("Paris."));
    ChatRequest request = ChatRequest.newBuilder().setModel(MODEL).addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("From gRPC"))).build();
    ChatResponse overGrpc = grpc("record").chat(request);
    JsonObject forSdk = result(run("generate", ask("From gRPC")
        .put("headers", new JsonObject().put("x-cassette-mode", "replay"))));
    assertEquals(overGrpc.getId(), "chatcmpl-" + forSdk.getString("responseId"));
    assertEquals("Paris.", forSdk.getString("text"));

    result(run("generate", ask("From the SDK").put("headers", new JsonObject().put("x-cassette-mode", "record"))));
    ChatResponse replayed = grpc("replay").chat(request.toBuilder().setMessages(0,
        request.getMessages(0).toBuilder().setParts(0, Part.newBuilder().setText("From the SDK"))).build());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, replayed.getOrigin().getCassette());
    assertEquals(2, setup.upstream().received().size());
  }

  @Test
  void theGeminiSdkCallsAnOpenAiModel() {
    start();
    setup.upstream().reply(200, "text/event-stream", OPENAI_PARALLEL_TOOL_CALLS);
    JsonArray chunks = result(run("stream", new JsonObject().put("model", "openai/gpt-4o-mini")
        .put("contents", "Weather in Paris and Rome?").put("config", new JsonObject().put("tools", weatherTools()))),
        JsonArray.class);
    JsonArray calls = new JsonArray();
    chunks.forEach(chunk -> ((JsonObject) chunk).getJsonArray("functionCalls", new JsonArray()).forEach(calls::add));
    assertEquals(2, calls.size(), chunks::encode);
    assertEquals(new JsonObject().put("city", "Paris"), calls.getJsonObject(0).getJsonObject("args"));
    assertEquals(new JsonObject().put("city", "Rome"), calls.getJsonObject(1).getJsonObject("args"));
    JsonObject sent = new JsonObject(setup.upstream().lastRequest().body());
    assertEquals("/chat/completions", setup.upstream().lastRequest().uri());
    assertEquals("gpt-4o-mini", sent.getString("model"));
    assertEquals("object", sent.getJsonArray("tools").getJsonObject(0).getJsonObject("function")
        .getJsonObject("parameters").getString("type"), "Gemini's OpenAPI types reach OpenAI as JSON Schema");
  }

  /** The README's snippet, as written: the Gemini SDK replays the demo cassettes on the embedded default. */
  @Test
  void theReadmeSnippetReplaysTheDemoCassettes() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (RunningRouter router = RunningRouter.start(vertx, """
        cassettes: { dir: "../cassettes/recorded", mode: replay }
        providers:
          - { name: gemini, type: gemini, base_url: "https://generativelanguage.googleapis.com",
              api_key: "${GEMINI_API_KEY}" }
        """)) {
      assertEquals("The capital of France is Paris.",
          result(NodeSdks.run(FILE, "readme", router.port(), new JsonObject()), String.class));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  private ChatServiceBlocking grpc(String mode) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-cassette-mode", Metadata.ASCII_STRING_MARSHALLER), mode);
    return setup.router().chat().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))::chat;
  }

  /** The unary Chat of a stub with headers attached. */
  private interface ChatServiceBlocking {
    ChatResponse chat(ChatRequest request);
  }

  /** A weather function, its parameters in Gemini's OpenAPI form (upper-case types, as the SDK's Type enum). */
  private static JsonArray weatherTools() {
    return new JsonArray().add(new JsonObject().put("functionDeclarations", new JsonArray().add(new JsonObject()
        .put("name", "weather").put("description", "Current weather in a city.")
        .put("parameters", new JsonObject().put("type", "OBJECT").put("properties", new JsonObject()
            .put("city", new JsonObject().put("type", "STRING"))).put("required", new JsonArray().add("city"))))));
  }

  private static JsonObject part(JsonObject response, int index) {
    return response.getJsonArray("candidates").getJsonObject(0).getJsonObject("content").getJsonArray("parts")
        .getJsonObject(index);
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
