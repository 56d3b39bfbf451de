package dev.llmrouter.server.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.RouterWithUpstream;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The OpenAI Chat Completions door at the byte level, where the SDKs hide it: the chunk sequence and `[DONE]`, the
 * usage chunk only when asked for, error shapes and statuses, errors after the stream started, keep-alive comments,
 * a disconnect that aborts the upstream, one cassette for both doors, and malformed requests refused before anything
 * goes upstream.
 */
class OpenAiChatIngressTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ANSWER = """
      {"id": "chatcmpl-upstream", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini-2024-07-18",
       "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
       "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}""";
  private static final String STREAM = sse(
      "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\","
          + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}",
      "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\","
          + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"},\"finish_reason\":null}]}",
      "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\","
          + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"is.\"},\"finish_reason\":\"stop\"}]}",
      "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\","
          + "\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}");
  private static final String PARALLEL_TOOL_CALLS = sse(
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\","
          + "\"function\":{\"name\":\"weather\",\"arguments\":\"\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"weather\","
          + "\"arguments\":\"{\\\"city\\\":\\\"Rome\\\"}\"}}]}}]}",
      "{\"id\":\"c2\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},"
          + "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":9}}");
  private static final String ASK = """
      {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Capital of France?"}]%s}""";

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
          - { name: openai, type: openai, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
        %s
        """.formatted(cassettes, extraYaml));
  }

  private HttpResponse<String> post(String body, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri("/v1/chat/completions"))
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
  void aWholeAnswerIsAChatCompletionWithTheCallIdsInItsHeaders() throws Exception {
    start("");
    setup.upstream().reply(200, "application/json", ANSWER);
    HttpResponse<String> response = post(ASK.formatted(""), "authorization", "Bearer sk-caller-secret-123456");
    assertEquals(200, response.statusCode(), response.body());
    JsonNode completion = JSON.readTree(response.body());
    assertEquals("chat.completion", completion.get("object").asText());
    assertEquals("Paris.", completion.at("/choices/0/message/content").asText());
    assertEquals("stop", completion.at("/choices/0/finish_reason").asText());
    assertEquals(15, completion.at("/usage/total_tokens").asInt());
    assertTrue(completion.get("id").asText().startsWith("chatcmpl-"));
    String callId = response.headers().firstValue("x-call-id").orElseThrow();
    assertEquals(callId, response.headers().firstValue("x-request-id").orElseThrow());
    assertEquals("live", response.headers().firstValue("x-cassette-outcome").orElseThrow());
    // The caller's key is the caller's: the upstream gets the router's own.
    assertFalse(String.valueOf(setup.upstream().lastRequest().headers()).contains("sk-caller-secret"));
  }

  @Test
  void aStreamSendsTheUsageChunkOnlyWhenAskedAndEndsWithDone() throws Exception {
    start("");
    setup.upstream().reply(200, "text/event-stream", STREAM);
    List<String> plain = dataLines(post(ASK.formatted(", \"stream\": true")).body());
    assertEquals("[DONE]", plain.get(plain.size() - 1));
    assertTrue(plain.stream().noneMatch(line -> line.contains("\"usage\"")), plain::toString);
    assertEquals("assistant", JSON.readTree(plain.get(0)).at("/choices/0/delta/role").asText());
    assertEquals("Par", JSON.readTree(plain.get(1)).at("/choices/0/delta/content").asText());
    assertEquals("stop", JSON.readTree(plain.get(plain.size() - 2)).at("/choices/0/finish_reason").asText());

    List<String> withUsage = dataLines(post(ASK.formatted(
        ", \"stream\": true, \"stream_options\": {\"include_usage\": true}")).body());
    JsonNode usageChunk = JSON.readTree(withUsage.get(withUsage.size() - 2));
    assertEquals(0, usageChunk.get("choices").size());
    assertEquals(12, usageChunk.at("/usage/prompt_tokens").asInt());
    assertEquals("[DONE]", withUsage.get(withUsage.size() - 1));
  }

  @Test
  void parallelToolCallsKeepTheirIndexesWithTheIdOnTheFirstFragment() throws Exception {
    start("");
    setup.upstream().reply(200, "text/event-stream", PARALLEL_TOOL_CALLS);
    List<JsonNode> fragments = new ArrayList<>();
    for (String line : dataLines(post(ASK.formatted(", \"stream\": true")).body())) {
      if (line.equals("[DONE]")) {
        continue;
      }
      JsonNode fragment = JSON.readTree(line).at("/choices/0/delta/tool_calls/0");
      if (!fragment.isMissingNode()) {
        fragments.add(fragment);
      }
    }
    assertEquals(3, fragments.size(), fragments::toString);
    assertEquals(0, fragments.get(0).get("index").asInt());
    assertEquals("weather", fragments.get(0).at("/function/name").asText());
    assertTrue(fragments.get(0).has("id"));
    assertFalse(fragments.get(1).has("id"));
    assertEquals("{\"city\":\"Paris\"}", fragments.get(1).at("/function/arguments").asText());
    assertEquals(1, fragments.get(2).get("index").asInt());
    assertTrue(fragments.get(2).has("id"));
  }

  @Test
  void errorsHaveOpenAisShapeAndStatus() throws Exception {
    start("");
    HttpResponse<String> unknownModel = post("{\"model\": \"nobody/x\", \"messages\": [{\"role\": \"user\", "
        + "\"content\": \"Hi\"}]}");
    assertEquals(404, unknownModel.statusCode());
    assertEquals("not_found", JSON.readTree(unknownModel.body()).at("/error/code").asText());

    HttpResponse<String> badType = post("{\"model\": \"openai/gpt-4o-mini\", \"messages\": [{\"role\": \"user\", "
        + "\"content\": \"Hi\"}], \"temperature\": \"hot\"}");
    assertEquals(400, badType.statusCode());
    JsonNode error = JSON.readTree(badType.body()).get("error");
    assertEquals("invalid_request_error", error.get("type").asText());
    assertEquals("temperature", error.get("param").asText());
    assertTrue(error.get("message").asText().contains("must be a number"), error::toString);

    setup.upstream().answer(r -> r.response().setStatusCode(429).putHeader("retry-after", "7")
        .putHeader("content-type", "application/json")
        .end("{\"error\": {\"message\": \"Rate limit reached\", \"type\": \"requests\", \"code\": \"rate_limit_exceeded\"}}"));
    HttpResponse<String> limited = post(ASK.formatted(""));
    assertEquals(429, limited.statusCode(), limited.body());
    assertEquals("rate_limit_error", JSON.readTree(limited.body()).at("/error/type").asText());
    assertTrue(Integer.parseInt(limited.headers().firstValue("retry-after").orElseThrow()) >= 1);

    HttpResponse<String> notFound = http.send(HttpRequest.newBuilder(uri("/v1/images/generations"))
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(404, notFound.statusCode());
    assertTrue(JSON.readTree(notFound.body()).at("/error/message").asText().contains("/v1/chat/completions"));
  }

  @Test
  void aBodyOverTheLimitGets413() throws Exception {
    start("max_message_bytes: 262144");
    String huge = ASK.formatted(", \"user\": \"" + "x".repeat(300_000) + "\"");
    HttpResponse<String> response = post(huge);
    assertEquals(413, response.statusCode());
    assertTrue(JSON.readTree(response.body()).at("/error/message").asText().contains("max_message_bytes"));
    assertTrue(setup.upstream().received().isEmpty());
  }

  @Test
  void aFailureAfterTheStreamStartedIsAnErrorEventThenDone() throws Exception {
    start("");
    // The upstream sends one chunk and then breaks off: the answer is cut, which must not look like an end.
    setup.upstream().answer(r -> {
      r.response().setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
      r.response().write(STREAM.substring(0, STREAM.indexOf("\n\n", STREAM.indexOf("Par")) + 2))
          .onSuccess(v -> r.connection().close());
    });
    List<String> lines = dataLines(post(ASK.formatted(", \"stream\": true")).body());
    assertEquals("[DONE]", lines.get(lines.size() - 1));
    JsonNode error = JSON.readTree(lines.get(lines.size() - 2));
    assertTrue(error.has("error"), lines::toString);
    assertFalse(error.at("/error/message").asText().isEmpty());
  }

  @Test
  void aSilentStreamGetsKeepAliveCommentsAndADisconnectAbortsTheUpstream() throws Exception {
    start("stream_keep_alive: 20ms");
    // The upstream sends the first chunks, then stays silent until the caller leaves.
    setup.upstream().answer(r -> {
      r.response().setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
      r.response().write(STREAM.substring(0, STREAM.indexOf("\n\n", STREAM.indexOf("Par")) + 2));
    });
    HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(uri("/v1/chat/completions"))
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(ASK.formatted(", \"stream\": true"))).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    assertEquals("text/event-stream", response.headers().firstValue("content-type").orElseThrow());
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      String line;
      boolean sawText = false;
      while ((line = reader.readLine()) != null && !line.equals(": keep-alive")) {
        sawText |= line.contains("\"Par\"");
      }
      assertTrue(sawText, "the text came before the silence");
      assertEquals(": keep-alive", line);
    }
    response.body().close();
    assertTrue(setup.upstream().awaitAllConnectionsClosed(5, TimeUnit.SECONDS), "the upstream call was aborted");
  }

  @Test
  void oneCassetteServesBothDoors() throws Exception {
    start("");
    setup.upstream().reply(200, "application/json", ANSWER);
    HttpResponse<String> recorded = post(ASK.formatted(""), "x-cassette-mode", "record",
        "x-cassette-scope", "doors");
    assertEquals(200, recorded.statusCode(), recorded.body());
    assertEquals("recorded", recorded.headers().firstValue("x-cassette-outcome").orElseThrow());
    int upstreamCalls = setup.upstream().received().size();

    Metadata replay = new Metadata();
    replay.put(Metadata.Key.of("x-cassette-mode", Metadata.ASCII_STRING_MARSHALLER), "replay");
    replay.put(Metadata.Key.of("x-cassette-scope", Metadata.ASCII_STRING_MARSHALLER), "doors");
    ChatResponse overGrpc = setup.router().chat().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(replay))
        .chat(ChatRequest.newBuilder().setModel("openai/gpt-4o-mini").addMessages(Message.newBuilder()
            .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Capital of France?"))).build());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, overGrpc.getOrigin().getCassette());
    assertEquals(JSON.readTree(recorded.body()).get("id").asText(), overGrpc.getId());

    HttpResponse<String> replayed = post(ASK.formatted(""), "x-cassette-mode", "replay", "x-cassette-scope", "doors");
    assertEquals(recorded.body(), replayed.body());
    assertEquals(upstreamCalls, setup.upstream().received().size());
  }

  static Stream<String[]> malformed() {
    String user = "[{\"role\": \"user\", \"content\": \"Hi\"}]";
    return Stream.of(
        new String[] {"{not json", "body"},
        new String[] {"[]", "body"},
        new String[] {"", "body"},
        new String[] {"{\"messages\": " + user + "}", "model"},
        new String[] {"{\"model\": 7, \"messages\": " + user + "}", "model"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\"}", "messages"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": {}}", "messages"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": []}", "messages"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": [{\"role\": \"wizard\", \"content\": \"Hi\"}]}",
            "messages[0].role"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": [{\"content\": \"Hi\"}]}", "messages[0].role"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": [{\"role\": \"user\"}]}",
            "messages[0].content"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": [{\"role\": \"user\", \"content\": 5}]}",
            "messages[0].content"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": [{\"role\": \"user\", \"content\": "
            + "[{\"type\": \"video\"}]}]}", "messages[0].content[0].type"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": [{\"role\": \"user\", \"content\": "
            + "[{\"type\": \"image_url\", \"image_url\": {\"url\": \"data:image/png;base64,%%%\"}}]}]}",
            "messages[0].content[0].image_url.url"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": [{\"role\": \"tool\", \"content\": \"42\"}]}",
            "messages[0].tool_call_id"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, "
            + "{\"role\": \"tool\", \"tool_call_id\": \"call_nobody\", \"content\": \"42\"}]}",
            "messages[1].tool_call_id"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": " + user + ", \"temperature\": \"hot\"}",
            "temperature"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": " + user + ", \"max_tokens\": 1.5}",
            "max_tokens"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": " + user + ", \"n\": 3}", "n"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": " + user + ", \"stream\": \"yes\"}", "stream"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": " + user + ", \"tools\": [{\"type\": "
            + "\"function\"}]}", "tools[0].function"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": " + user + ", \"tool_choice\": \"always\"}",
            "tool_choice"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": " + user + ", \"response_format\": "
            + "{\"type\": \"xml\"}}", "response_format.type"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": " + user + ", \"reasoning_effort\": "
            + "\"extreme\"}", "reasoning_effort"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": " + user + ", \"frobnicate\": true}",
            "frobnicate"},
        new String[] {"{\"model\": \"openai/gpt-4o-mini\", \"messages\": " + user + ", \"logprobs\": true}",
            "logprobs"});
  }

  @ParameterizedTest(name = "{1}: {0}")
  @MethodSource("malformed")
  void aMalformedRequestIsRefusedNamingTheFieldAndNothingGoesUpstreamOrOnDisk(String body, String field)
      throws Exception {
    start("");
    setup.upstream().reply(200, "application/json", ANSWER);
    HttpResponse<String> response = post(body, "x-cassette-mode", "record");
    assertEquals(400, response.statusCode(), response.body());
    JsonNode error = JSON.readTree(response.body()).get("error");
    assertEquals("invalid_request_error", error.get("type").asText());
    assertTrue(error.get("message").asText().contains(field), () -> field + " not named in " + error);
    assertTrue(setup.upstream().received().isEmpty());
    try (Stream<Path> files = Files.walk(cassettes)) {
      assertEquals(List.of(cassettes), files.toList());
    }
  }

  private static List<String> dataLines(String sse) {
    return sse.lines().filter(line -> line.startsWith("data: ")).map(line -> line.substring(6)).toList();
  }

  private static String sse(String... events) {
    StringBuilder text = new StringBuilder();
    for (String event : events) {
      text.append("data: ").append(event).append("\n\n");
    }
    return text.append("data: [DONE]\n\n").toString();
  }
}
