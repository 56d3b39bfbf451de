package dev.llmrouter.server.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.server.testing.RouterWithUpstream;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Gemini door at the byte level, where `@google/genai` hides it: a whole answer, the stream as one JSON array
 * (no `alt`) and as server-sent events (`alt=sse`), a model with `/` in the path, function calls sent whole, errors
 * in Google's shape before and after the stream started, keep-alives and disconnects, the caller's key kept from the
 * upstream and the cassettes, and one cassette for both doors.
 */
class GeminiIngressTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CALLER_KEY = "AIza-caller-secret-0123456789";
  private static final String FLASH = "/v1beta/models/gemini/gemini-2.5-flash";
  private static final String ANSWER = """
      {"candidates": [{"content": {"parts": [{"text": "Thinking about France.", "thought": true},
         {"text": "Paris.", "thoughtSignature": "c2lnbmF0dXJl"}], "role": "model"}, "finishReason": "STOP", "index": 0}],
       "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 3, "totalTokenCount": 35,
         "cachedContentTokenCount": 4, "thoughtsTokenCount": 20},
       "modelVersion": "gemini-2.5-flash", "responseId": "upstream-response-id"}""";
  private static final String STREAM = sse(
      "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Thinking.\",\"thought\":true}],\"role\":\"model\"},"
          + "\"index\":0}],\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}",
      "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Par\"}],\"role\":\"model\"},\"index\":0}],"
          + "\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}",
      "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"is.\"}],\"role\":\"model\"},\"index\":0}],"
          + "\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}",
      "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\",\"thoughtSignature\":\"c2ln\"}],\"role\":\"model\"},"
          + "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":12,"
          + "\"candidatesTokenCount\":3,\"totalTokenCount\":35,\"thoughtsTokenCount\":20},"
          + "\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}");
  private static final String OPENAI_ANSWER = """
      {"id": "chatcmpl-upstream", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
       "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
       "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}""";
  private static final String OPENAI_PARALLEL_TOOL_CALLS = sse(
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\","
          + "\"function\":{\"name\":\"weather\",\"arguments\":\"\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"weather\","
          + "\"arguments\":\"{\\\"city\\\":\\\"Rome\\\"}\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},"
          + "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":9}}")
      + "data: [DONE]\n\n";
  private static final String ASK = """
      {"contents": [{"role": "user", "parts": [{"text": "Capital of France?"}]}]%s}""";

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private RouterWithUpstream setup;

  @TempDir
  Path cassettes;

  @AfterEach
  void stop() throws Exception {
    if (setup != null) {
      setup.close();
    }
  }

  private void start(String extraYaml) {
    setup = RouterWithUpstream.start("""
        cassettes: { dir: "%s", mode: "off", allow_mode_override: true }
        providers:
          - { name: gemini, type: gemini, base_url: "%%1$s", api_key: "${TEST_API_KEY}", models: [gemini-2.5-flash] }
          - { name: openai, type: openai, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
        %s
        """.formatted(cassettes, extraYaml));
  }

  private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + setup.router().port() + path);
  }

  @Test
  void aWholeAnswerIsAGenerateContentResponseWithThoughtsCountedApart() throws Exception {
    start("");
    setup.upstream().reply(200, "application/json", ANSWER);
    HttpResponse<String> response = post(FLASH + ":generateContent?key=" + CALLER_KEY, ASK.formatted(""),
        "x-goog-api-key", CALLER_KEY, "x-goog-api-client", "google-genai-sdk/3.1.0 gl-node/v20");
    assertEquals(200, response.statusCode(), response.body());
    assertEquals("application/json", response.headers().firstValue("content-type").orElseThrow());
    JsonNode answer = JSON.readTree(response.body());
    JsonNode candidate = answer.at("/candidates/0");
    assertEquals("model", candidate.at("/content/role").asText());
    assertEquals(JSON.readTree("""
        [{"text": "Thinking about France.", "thought": true}, {"text": "Paris.", "thoughtSignature": "c2lnbmF0dXJl"}]
        """), candidate.at("/content/parts"));
    assertEquals("STOP", candidate.get("finishReason").asText());
    assertEquals(0, candidate.get("index").asInt());
    // The router counts thoughts in the output tokens; Gemini's callers expect them apart, as the upstream said.
    assertEquals(JSON.readTree("""
        {"promptTokenCount": 12, "candidatesTokenCount": 3, "totalTokenCount": 35, "cachedContentTokenCount": 4,
         "thoughtsTokenCount": 20}"""), answer.get("usageMetadata"));
    assertEquals("gemini-2.5-flash", answer.get("modelVersion").asText());
    assertFalse(answer.get("responseId").asText().isEmpty());
    assertEquals(response.headers().firstValue("x-call-id").orElseThrow(),
        response.headers().firstValue("x-request-id").orElseThrow());

    var sent = setup.upstream().lastRequest();
    assertEquals("/v1beta/models/gemini-2.5-flash:generateContent", sent.uri());
    assertEquals(JSON.readTree(ASK.formatted("")), JSON.readTree(sent.body()));
    // The caller's key is the caller's: the upstream gets the router's own, by header only.
    assertFalse(String.valueOf(sent.headers()).contains(CALLER_KEY));
  }

  @Test
  void withoutAltTheStreamIsOneJsonArrayAndWithAltSseTheSameChunksAreEvents() throws Exception {
    start("");
    setup.upstream().reply(200, "text/event-stream", STREAM);
    HttpResponse<String> array = post(FLASH + ":streamGenerateContent", ASK.formatted(""));
    assertEquals(200, array.statusCode(), array.body());
    assertEquals("application/json", array.headers().firstValue("content-type").orElseThrow());
    JsonNode chunks = JSON.readTree(array.body());
    assertTrue(chunks.isArray(), array.body());
    assertEquals(4, chunks.size(), array.body());
    assertEquals(JSON.readTree("[{\"text\": \"Thinking.\", \"thought\": true}]"),
        chunks.at("/0/candidates/0/content/parts"));
    assertEquals("Par", chunks.at("/1/candidates/0/content/parts/0/text").asText());
    assertEquals("is.", chunks.at("/2/candidates/0/content/parts/0/text").asText());
    JsonNode last = chunks.get(3);
    assertEquals(JSON.readTree("[{\"text\": \"\", \"thoughtSignature\": \"c2ln\"}]"),
        last.at("/candidates/0/content/parts"));
    assertEquals("STOP", last.at("/candidates/0/finishReason").asText());
    assertEquals(3, last.at("/usageMetadata/candidatesTokenCount").asInt());
    assertEquals(20, last.at("/usageMetadata/thoughtsTokenCount").asInt());
    for (JsonNode chunk : chunks) {
      assertEquals(chunks.at("/0/responseId"), chunk.get("responseId"));
      assertEquals("gemini-2.5-flash", chunk.get("modelVersion").asText());
    }
    assertEquals("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", setup.upstream().lastRequest().uri());

    HttpResponse<String> events = post(FLASH + ":streamGenerateContent?alt=sse", ASK.formatted(""));
    assertEquals("text/event-stream", events.headers().firstValue("content-type").orElseThrow());
    List<JsonNode> data = new ArrayList<>();
    for (String line : dataLines(events.body())) {
      data.add(JSON.readTree(line));
    }
    assertEquals(List.copyOf(toList(chunks)), data, "the same chunks, framed as events");
    assertFalse(events.body().contains("[DONE]"));
  }

  @Test
  void theModelIsThePathsWithItsSlashesEncodedOrNot() throws Exception {
    start("");
    setup.upstream().reply(200, "application/json", OPENAI_ANSWER);
    for (String path : List.of("/v1/models/openai/gpt-4o-mini:generateContent",
        "/v1beta/models/openai%2Fgpt-4o-mini:generateContent")) {
      HttpResponse<String> response = post(path, ASK.formatted(""));
      assertEquals(200, response.statusCode(), response.body());
      JsonNode answer = JSON.readTree(response.body());
      assertEquals("Paris.", answer.at("/candidates/0/content/parts/0/text").asText());
      assertEquals(JSON.readTree("{\"promptTokenCount\": 12, \"candidatesTokenCount\": 3, \"totalTokenCount\": 15}"),
          answer.get("usageMetadata"));
      var sent = setup.upstream().lastRequest();
      assertEquals("/chat/completions", sent.uri());
      assertEquals("gpt-4o-mini", JSON.readTree(sent.body()).get("model").asText());
    }
  }

  @Test
  void streamedToolCallFragmentsBecomeWholeFunctionCalls() throws Exception {
    start("");
    setup.upstream().reply(200, "text/event-stream", OPENAI_PARALLEL_TOOL_CALLS);
    HttpResponse<String> response = post("/v1beta/models/openai/gpt-4o-mini:streamGenerateContent?alt=sse",
        ASK.formatted(", \"tools\": [{\"functionDeclarations\": [{\"name\": \"weather\", \"parameters\": "
            + "{\"type\": \"OBJECT\", \"properties\": {\"city\": {\"type\": \"STRING\"}}}}]}]"));
    assertEquals(200, response.statusCode(), response.body());
    List<String> lines = dataLines(response.body());
    assertEquals(2, lines.size(), response.body());
    JsonNode first = JSON.readTree(lines.get(0)).at("/candidates/0");
    assertEquals(JSON.readTree("{\"city\": \"Paris\"}"), first.at("/content/parts/0/functionCall/args"));
    assertEquals("weather", first.at("/content/parts/0/functionCall/name").asText());
    assertTrue(first.at("/content/parts/0/functionCall/id").isTextual());
    assertTrue(first.path("finishReason").isMissingNode());
    JsonNode last = JSON.readTree(lines.get(1));
    assertEquals(JSON.readTree("{\"city\": \"Rome\"}"), last.at("/candidates/0/content/parts/0/functionCall/args"));
    assertEquals("STOP", last.at("/candidates/0/finishReason").asText());
    assertEquals(29, last.at("/usageMetadata/totalTokenCount").asInt());
    // Gemini's OpenAPI schema types reach OpenAI as JSON Schema.
    assertEquals("object", JSON.readTree(setup.upstream().lastRequest().body())
        .at("/tools/0/function/parameters/type").asText());
  }

  @Test
  void errorsHaveGooglesShapeStatusAndDetails() throws Exception {
    start("");
    HttpResponse<String> unknownModel = post("/v1beta/models/nobody/x:generateContent", ASK.formatted(""));
    assertEquals(404, unknownModel.statusCode());
    JsonNode notFound = JSON.readTree(unknownModel.body()).get("error");
    assertEquals(404, notFound.get("code").asInt());
    assertEquals("NOT_FOUND", notFound.get("status").asText());
    assertTrue(notFound.get("message").asText().contains("nobody/x"), notFound::toString);

    HttpResponse<String> badType = post(FLASH + ":generateContent",
        ASK.formatted(", \"generationConfig\": {\"temperature\": \"hot\"}"));
    assertEquals(400, badType.statusCode());
    JsonNode invalid = JSON.readTree(badType.body()).get("error");
    assertEquals("INVALID_ARGUMENT", invalid.get("status").asText());
    assertEquals("type.googleapis.com/google.rpc.BadRequest", invalid.at("/details/0/@type").asText());
    assertEquals("generationConfig.temperature", invalid.at("/details/0/fieldViolations/0/field").asText());

    setup.upstream().reply(429, "application/json", """
        {"error": {"code": 429, "message": "You exceeded your current quota", "status": "RESOURCE_EXHAUSTED",
          "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "38s"}]}}""");
    HttpResponse<String> limited = post(FLASH + ":streamGenerateContent?alt=sse", ASK.formatted(""));
    assertEquals(429, limited.statusCode(), limited.body());
    assertEquals("application/json", limited.headers().firstValue("content-type").orElseThrow());
    JsonNode exhausted = JSON.readTree(limited.body()).get("error");
    assertEquals("RESOURCE_EXHAUSTED", exhausted.get("status").asText());
    assertTrue(exhausted.get("message").asText().contains("You exceeded your current quota"), exhausted::toString);
    assertTrue(Integer.parseInt(limited.headers().firstValue("retry-after").orElseThrow()) >= 1);

    HttpResponse<String> unserved = post("/v1beta/models/gemini/gemini-2.5-flash:countTokens", ASK.formatted(""),
        "x-goog-api-key", CALLER_KEY);
    assertEquals(404, unserved.statusCode());
    assertEquals("NOT_FOUND", JSON.readTree(unserved.body()).at("/error/status").asText());
  }

  @Test
  void aStreamCutOffAfterItStartedEndsWithAnErrorChunkInBothFramings() throws Exception {
    start("");
    String firstEvents = STREAM.substring(0, STREAM.indexOf("\n\n", STREAM.indexOf("Par")) + 2);
    setup.upstream().answer(r -> {
      r.response().setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
      r.response().write(firstEvents).onSuccess(v -> r.connection().close());
    });
    List<String> events = dataLines(post(FLASH + ":streamGenerateContent?alt=sse", ASK.formatted("")).body());
    assertEquals("Par", JSON.readTree(events.get(1)).at("/candidates/0/content/parts/0/text").asText());
    JsonNode error = JSON.readTree(events.get(events.size() - 1)).get("error");
    assertTrue(error.get("code").asInt() >= 500, error::toString);
    assertFalse(error.get("status").asText().isEmpty());

    JsonNode array = JSON.readTree(post(FLASH + ":streamGenerateContent", ASK.formatted("")).body());
    assertEquals("Par", array.at("/1/candidates/0/content/parts/0/text").asText());
    assertTrue(array.get(array.size() - 1).has("error"), array::toString);
  }

  @Test
  void aSilentArrayStreamGetsWhitespaceKeepAlivesAndADisconnectAbortsTheUpstream() throws Exception {
    start("stream_keep_alive: 20ms");
    String firstEvents = STREAM.substring(0, STREAM.indexOf("\n\n", STREAM.indexOf("Par")) + 2);
    setup.upstream().answer(r -> {
      r.response().setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
      r.response().write(firstEvents);
    });
    HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(uri(FLASH + ":streamGenerateContent"))
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(ASK.formatted("")))
        .build(), HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, response.statusCode());
    ByteArrayOutputStream before = new ByteArrayOutputStream();
    try (InputStream body = response.body()) {
      int previous = -1;
      int next;
      // Elements are compact JSON, separated by ",\r\n": a line feed alone is a keep-alive.
      while ((next = body.read()) != -1 && (next != '\n' || previous == '\r')) {
        before.write(next);
        previous = next;
      }
      assertEquals('\n', next);
    }
    String sent = before.toString(StandardCharsets.UTF_8);
    assertTrue(sent.startsWith("[{") && sent.contains("\"Par\""), sent);
    assertTrue(setup.upstream().awaitAllConnectionsClosed(5, TimeUnit.SECONDS), "the upstream call was aborted");
  }

  @Test
  void modelsAreListedInGeminisShape() throws Exception {
    start("");
    for (HttpRequest request : List.of(HttpRequest.newBuilder(uri("/v1beta/models")).build(),
        HttpRequest.newBuilder(uri("/v1/models")).header("x-goog-api-key", CALLER_KEY).build())) {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      assertEquals(200, response.statusCode(), response.body());
      JsonNode model = JSON.readTree(response.body()).at("/models/0");
      assertEquals("models/gemini/gemini-2.5-flash", model.get("name").asText());
      assertEquals(JSON.readTree("[\"generateContent\", \"streamGenerateContent\"]"),
          model.get("supportedGenerationMethods"));
      assertTrue(model.get("thinking").asBoolean());
    }
  }

  @Test
  void theCallersKeyIsNeitherSentUpstreamNorRecorded() throws Exception {
    start("");
    setup.upstream().reply(200, "application/json", ANSWER);
    HttpResponse<String> response = post(FLASH + ":generateContent?key=" + CALLER_KEY, ASK.formatted(""),
        "x-goog-api-key", CALLER_KEY, "x-cassette-mode", "record");
    assertEquals("recorded", response.headers().firstValue("x-cassette-outcome").orElseThrow());
    var sent = setup.upstream().lastRequest();
    assertFalse((sent.uri() + sent.headers() + sent.body()).contains(CALLER_KEY));
    try (Stream<Path> files = Files.walk(cassettes)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        assertFalse(Files.readString(file).contains(CALLER_KEY), file::toString);
      }
    }
  }

  /** A conversation with two parallel calls to one function, as the Gemini SDK sends it, with or without ids. */
  private static final String TOOL_CONVERSATION = """
      {"systemInstruction": {"role": "user", "parts": [{"text": "Be brief."}]},
       "contents": [
         {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
         {"role": "model", "parts": [
           {"functionCall": {%1$s"name": "weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"},
           {"functionCall": {%2$s"name": "weather", "args": {"city": "Rome"}}}]},
         {"role": "user", "parts": [
           {"functionResponse": {%1$s"name": "weather", "response": {"result": {"temperature_c": 18}}}},
           {"functionResponse": {%2$s"name": "weather", "response": {"result": "24C"}}}]}],
       "tools": [{"functionDeclarations": [{"name": "weather", "description": "Current weather.",
         "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}}}]}],
       "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
       "generationConfig": {"temperature": 0.2, "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}}}
      """;
  /** The same conversation in snake_case, which Gemini's REST API also reads. */
  private static final String TOOL_CONVERSATION_SNAKE_CASE = """
      {"system_instruction": {"parts": [{"text": "Be brief."}]},
       "contents": [
         {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
         {"role": "model", "parts": [
           {"function_call": {"name": "weather", "args": {"city": "Paris"}}, "thought_signature": "c2ln"},
           {"function_call": {"name": "weather", "args": {"city": "Rome"}}}]},
         {"role": "user", "parts": [
           {"function_response": {"name": "weather", "response": {"result": {"temperature_c": 18}}}},
           {"function_response": {"name": "weather", "response": {"result": "24C"}}}]}],
       "tools": [{"function_declarations": [{"name": "weather", "description": "Current weather.",
         "parameters_json_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]}],
       "tool_config": {"function_calling_config": {"mode": "AUTO"}},
       "generation_config": {"temperature": 0.2, "thinking_config": {"thinking_budget": 1024, "include_thoughts": true}}}
      """;
  /** The same conversation as a gRPC caller sends it, with the ids the router gave the calls. */
  private static final String TOOL_CONVERSATION_OVER_GRPC = """
      {"model": "gemini/gemini-2.5-flash",
       "messages": [
         {"role": "ROLE_SYSTEM", "parts": [{"text": "Be brief."}]},
         {"role": "ROLE_USER", "parts": [{"text": "Weather in Paris and Rome?"}]},
         {"role": "ROLE_ASSISTANT", "parts": [{"reasoning": {"signature": "c2ln", "provider": "gemini"}}],
          "toolCalls": [{"id": "call_4f2a_0", "name": "weather", "argumentsJson": "{\\"city\\":\\"Paris\\"}"},
                        {"id": "call_4f2a_1", "name": "weather", "argumentsJson": "{\\"city\\":\\"Rome\\"}"}]},
         {"role": "ROLE_TOOL", "toolCallId": "call_4f2a_0", "parts": [{"text": "{\\"temperature_c\\":18}"}]},
         {"role": "ROLE_TOOL", "toolCallId": "call_4f2a_1", "parts": [{"text": "24C"}]}],
       "tools": [{"name": "weather", "description": "Current weather.",
         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}],
       "toolChoice": {"mode": "TOOL_CHOICE_MODE_AUTO"},
       "settings": {"temperature": 0.2, "reasoningEffort": "REASONING_EFFORT_LOW"}}
      """;

  @Test
  void aConversationRecordedOverGrpcReplaysThroughGeminiInEachSpellingAndTheOtherWayRound() throws Exception {
    start("");
    setup.upstream().reply(200, "application/json", ANSWER);
    ChatRequest.Builder request = ChatRequest.newBuilder();
    JsonFormat.parser().merge(TOOL_CONVERSATION_OVER_GRPC, request);
    ChatResponse recorded = setup.router().chat().withInterceptors(cassette("record", "doors"))
        .chat(request.build());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, recorded.getOrigin().getCassette());
    int upstreamCalls = setup.upstream().received().size();

    for (String body : List.of(TOOL_CONVERSATION.formatted("", ""),
        TOOL_CONVERSATION.formatted("\"id\": \"a\", ", "\"id\": \"b\", "), TOOL_CONVERSATION_SNAKE_CASE)) {
      HttpResponse<String> replayed = post(FLASH + ":generateContent", body, "x-cassette-mode", "replay",
          "x-cassette-scope", "doors");
      assertEquals(200, replayed.statusCode(), replayed.body());
      assertEquals("hit", replayed.headers().firstValue("x-cassette-outcome").orElseThrow());
      assertEquals(recorded.getOrigin().getCassetteKey(),
          replayed.headers().firstValue("x-cassette-key").orElseThrow());
      assertEquals("Paris.", JSON.readTree(replayed.body()).at("/candidates/0/content/parts/1/text").asText());
    }

    HttpResponse<String> recordedOverHttp = post(FLASH + ":generateContent", ASK.formatted(""),
        "x-cassette-mode", "record", "x-cassette-scope", "doors");
    assertEquals("recorded", recordedOverHttp.headers().firstValue("x-cassette-outcome").orElseThrow());
    ChatRequest.Builder ask = ChatRequest.newBuilder();
    JsonFormat.parser().merge("""
        {"model": "gemini/gemini-2.5-flash",
         "messages": [{"role": "ROLE_USER", "parts": [{"text": "Capital of France?"}]}]}""", ask);
    ChatResponse replayed = setup.router().chat().withInterceptors(cassette("replay", "doors")).chat(ask.build());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, replayed.getOrigin().getCassette());
    assertTrue(replayed.getId().endsWith(JSON.readTree(recordedOverHttp.body()).get("responseId").asText()));
    assertEquals(upstreamCalls + 1, setup.upstream().received().size());
  }

  private static io.grpc.ClientInterceptor cassette(String mode, String scope) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-cassette-mode", Metadata.ASCII_STRING_MARSHALLER), mode);
    headers.put(Metadata.Key.of("x-cassette-scope", Metadata.ASCII_STRING_MARSHALLER), scope);
    return MetadataUtils.newAttachHeadersInterceptor(headers);
  }

  private static List<JsonNode> toList(JsonNode array) {
    List<JsonNode> elements = new ArrayList<>();
    array.forEach(elements::add);
    return elements;
  }

  private static List<String> dataLines(String sse) {
    return sse.lines().filter(line -> line.startsWith("data: ")).map(line -> line.substring(6)).toList();
  }

  private static String sse(String... events) {
    StringBuilder text = new StringBuilder();
    for (String event : events) {
      text.append("data: ").append(event).append("\n\n");
    }
    return text.toString();
  }
}
