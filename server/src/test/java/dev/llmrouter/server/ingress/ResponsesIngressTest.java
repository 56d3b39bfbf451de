package dev.llmrouter.server.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ReasoningEffort;
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.ResponseFormatType;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolChoice;
import dev.llmrouter.api.v1.ToolChoiceMode;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.testing.AnthropicWire;
import dev.llmrouter.server.testing.ProviderWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The OpenAI Responses door at the byte level, where the SDKs hide it: the Response object, the typed events in
 * their order with their `sequence_number`, output items and their ids, reasoning as summaries or as text, the
 * incomplete and failed ends, error shapes, one cassette shared with Chat Completions and gRPC, reasoning signatures
 * carried through `encrypted_content`, and malformed or stateful requests refused before anything goes upstream.
 */
class ResponsesIngressTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ANSWER = """
      {"id": "chatcmpl-upstream", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini-2024-07-18",
       "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
       "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}""";
  private static final String TOOL_CALLS_ANSWER = """
      {"id": "chatcmpl-upstream", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
       "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
         "tool_calls": [
           {"id": "call_p", "type": "function", "function": {"name": "weather", "arguments": "{\\"city\\":\\"Paris\\"}"}},
           {"id": "call_r", "type": "function", "function": {"name": "weather", "arguments": "{\\"city\\":\\"Rome\\"}"}}]}}],
       "usage": {"prompt_tokens": 30, "completion_tokens": 20, "total_tokens": 50}}""";
  private static final String CUT_ANSWER = """
      {"id": "chatcmpl-upstream", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
       "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris is the"}, "finish_reason": "length"}],
       "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}""";
  private static final String STREAM = """
      data: {"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}

      data: {"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Par"},"finish_reason":null}]}

      data: {"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"is."},"finish_reason":"stop"}]}

      data: {"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}

      data: [DONE]

      """;
  private static final String ASK = """
      {"model": "openai/gpt-4o-mini", "input": "Capital of France?"%s}""";

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
          - { name: anthropic, type: anthropic, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
          - { name: gemini, type: gemini, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
        %s
        """.formatted(cassettes, extraYaml));
  }

  private HttpResponse<String> postTo(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + setup.router().port()
        + path)).header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String body, String... headers) throws Exception {
    return postTo("/v1/responses", body, headers);
  }

  /** One server-sent event: its `event:` name and its data. */
  private record Event(String name, JsonNode data) {

    String type() {
      return data.path("type").asText();
    }
  }

  private static List<Event> events(String sse) throws Exception {
    List<Event> events = new ArrayList<>();
    for (String block : sse.split("\n\n")) {
      String name = null;
      String data = null;
      for (String line : block.split("\n")) {
        if (line.startsWith("event: ")) {
          name = line.substring(7);
        } else if (line.startsWith("data: ")) {
          data = line.substring(6);
        }
      }
      if (data != null) {
        events.add(new Event(name, JSON.readTree(data)));
      }
    }
    return events;
  }

  /** Checks that every event is named as its type says and numbered from 0 without a gap, and gives the types. */
  private static List<String> typesInOrder(List<Event> events) {
    for (int i = 0; i < events.size(); i++) {
      assertEquals(events.get(i).type(), events.get(i).name(), "the event line repeats the type");
      assertEquals(i, events.get(i).data().path("sequence_number").asInt(-1), events.get(i).data()::toString);
    }
    return events.stream().map(Event::type).toList();
  }

  private static Event last(List<Event> events) {
    return events.get(events.size() - 1);
  }

  @Test
  void aWholeAnswerIsAResponseObject() throws Exception {
    start("");
    setup.upstream().reply(200, "application/json", ANSWER);
    HttpResponse<String> response = post(ASK.formatted(", \"store\": true, \"metadata\": {\"suite\": \"x\"}"),
        "authorization", "Bearer sk-caller-secret-123456");
    assertEquals(200, response.statusCode(), response.body());
    JsonNode answer = JSON.readTree(response.body());
    assertEquals("response", answer.get("object").asText());
    assertTrue(answer.get("id").asText().startsWith("resp_"), answer::toString);
    assertEquals("completed", answer.get("status").asText());
    assertEquals(1_700_000_000L, answer.get("created_at").asLong());
    assertEquals("gpt-4o-mini-2024-07-18", answer.get("model").asText());
    JsonNode message = answer.at("/output/0");
    assertEquals(1, answer.get("output").size());
    assertEquals("message", message.get("type").asText());
    assertEquals("assistant", message.get("role").asText());
    assertEquals("completed", message.get("status").asText());
    assertTrue(message.get("id").asText().startsWith("msg_"));
    assertEquals("output_text", message.at("/content/0/type").asText());
    assertEquals("Paris.", message.at("/content/0/text").asText());
    assertEquals(0, message.at("/content/0/annotations").size());
    assertEquals(12, answer.at("/usage/input_tokens").asInt());
    assertEquals(0, answer.at("/usage/input_tokens_details/cached_tokens").asInt());
    assertEquals(3, answer.at("/usage/output_tokens").asInt());
    assertEquals(15, answer.at("/usage/total_tokens").asInt());
    // Nothing is stored, whatever the caller asked; the settings are repeated as the SDK expects them.
    assertFalse(answer.get("store").asBoolean());
    assertTrue(answer.get("previous_response_id").isNull());
    assertEquals("auto", answer.get("tool_choice").asText());
    assertEquals("text", answer.at("/text/format/type").asText());
    assertEquals("x", answer.at("/metadata/suite").asText());
    assertEquals(response.headers().firstValue("x-call-id").orElseThrow(),
        response.headers().firstValue("x-request-id").orElseThrow());
    JsonNode sent = JSON.readTree(setup.upstream().lastRequest().body());
    assertEquals("Capital of France?", sent.at("/messages/0/content").asText());
    assertFalse(sent.has("metadata"), "metadata is not sent on");
    assertFalse(String.valueOf(setup.upstream().lastRequest().headers()).contains("sk-caller-secret"));
  }

  @Test
  void aStreamIsTypedEventsInOrderNumberedFromZero() throws Exception {
    start("");
    setup.upstream().reply(200, "text/event-stream", STREAM);
    HttpResponse<String> response = post(ASK.formatted(", \"stream\": true"));
    assertEquals("text/event-stream", response.headers().firstValue("content-type").orElseThrow());
    assertFalse(response.body().contains("[DONE]"), "a Responses stream has no [DONE]");
    List<Event> events = events(response.body());
    assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
        "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done", "response.output_item.done",
        "response.completed"), typesInOrder(events));
    JsonNode created = events.get(0).data().get("response");
    assertEquals("in_progress", created.get("status").asText());
    assertEquals(0, created.get("output").size());
    String itemId = events.get(2).data().at("/item/id").asText();
    assertEquals("in_progress", events.get(2).data().at("/item/status").asText());
    for (Event event : events.subList(3, 8)) {
      assertEquals(itemId, event.data().get("item_id").asText(), event.data()::toString);
      assertEquals(0, event.data().get("output_index").asInt());
      assertEquals(0, event.data().get("content_index").asInt());
    }
    assertEquals("Par", events.get(4).data().get("delta").asText());
    assertEquals("Paris.", events.get(6).data().get("text").asText());
    assertEquals("Paris.", events.get(7).data().at("/part/text").asText());
    assertEquals("completed", events.get(8).data().at("/item/status").asText());
    JsonNode completed = last(events).data().get("response");
    assertEquals(created.get("id"), completed.get("id"));
    assertEquals("completed", completed.get("status").asText());
    assertEquals(events.get(8).data().get("item"), completed.at("/output/0"));
    assertEquals(15, completed.at("/usage/total_tokens").asInt());
  }

  @Test
  void parallelFunctionCallsAreItemsOfTheirOwnEvenWhenTheirFragmentsInterleave() throws Exception {
    start("");
    WireExchange parallel = WireExchange.own("openai-chat").stream()
        .filter(exchange -> exchange.name().endsWith("stream-parallel-tools-crlf.json")).findFirst().orElseThrow();
    setup.upstream().reply(200, "text/event-stream", parallel.body());
    List<Event> events = events(post(ASK.formatted(", \"stream\": true, \"tools\": [" + weatherTool() + "]"))
        .body());
    assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
        "response.function_call_arguments.delta", "response.output_item.added",
        "response.function_call_arguments.delta", "response.function_call_arguments.delta",
        "response.function_call_arguments.delta", "response.function_call_arguments.done",
        "response.output_item.done", "response.function_call_arguments.done", "response.output_item.done",
        "response.completed"), typesInOrder(events));
    JsonNode weather = events.get(2).data().get("item");
    assertEquals("function_call", weather.get("type").asText());
    assertEquals("call_w1", weather.get("call_id").asText());
    assertEquals("get_weather", weather.get("name").asText());
    assertEquals("", weather.get("arguments").asText());
    assertEquals(1, events.get(4).data().get("output_index").asInt());
    assertEquals(0, events.get(6).data().get("output_index").asInt(), "a fragment goes to its own call");
    assertEquals("{\"city\":\"Paris\"}", events.get(8).data().get("arguments").asText());
    JsonNode output = last(events).data().at("/response/output");
    assertEquals(List.of("call_w1", "call_t2"), List.of(output.at("/0/call_id").asText(),
        output.at("/1/call_id").asText()));
    assertEquals("{\"zone\":\"Asia/Tokyo\"}", output.at("/1/arguments").asText());
    assertEquals("completed", output.at("/1/status").asText());
    assertEquals(64, last(events).data().at("/response/usage/input_tokens_details/cached_tokens").asInt());

    setup.upstream().reply(200, "application/json", TOOL_CALLS_ANSWER);
    JsonNode whole = JSON.readTree(post(ASK.formatted(", \"tools\": [" + weatherTool() + "]")).body());
    assertEquals(2, whole.get("output").size());
    assertTrue(whole.at("/output/0/id").asText().startsWith("fc_"));
    assertEquals("call_r", whole.at("/output/1/call_id").asText());
    assertEquals("{\"city\":\"Rome\"}", whole.at("/output/1/arguments").asText());
  }

  @Test
  void reasoningIsASummaryWhenTheCallerAskedForOneAndReasoningTextOtherwise() throws Exception {
    start("");
    WireExchange reasoning = WireExchange.own("openai-chat").stream()
        .filter(exchange -> exchange.name().endsWith("stream-reasoning-length.json")).findFirst().orElseThrow();
    setup.upstream().reply(200, "text/event-stream", reasoning.body());
    List<Event> summarized = events(post(ASK.formatted(", \"stream\": true, \"reasoning\": {\"effort\": \"low\", "
        + "\"summary\": \"auto\"}")).body());
    assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
        "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done", "response.output_item.done", "response.output_item.added",
        "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done", "response.output_item.done",
        "response.incomplete"), typesInOrder(summarized));
    assertEquals(0, summarized.get(4).data().get("summary_index").asInt());
    JsonNode incomplete = last(summarized).data().get("response");
    assertEquals("incomplete", incomplete.get("status").asText());
    assertEquals("max_output_tokens", incomplete.at("/incomplete_details/reason").asText());
    assertEquals("reasoning", incomplete.at("/output/0/type").asText());
    assertEquals("Check divisors up to 9: 2, 3, 5, 7 do not divide 97.",
        incomplete.at("/output/0/summary/0/text").asText());
    assertEquals("incomplete", incomplete.at("/output/1/status").asText(), "the message was cut");
    assertEquals(31, incomplete.at("/usage/output_tokens_details/reasoning_tokens").asInt());

    List<Event> asText = events(post(ASK.formatted(", \"stream\": true")).body());
    assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
        "response.content_part.added", "response.reasoning_text.delta", "response.reasoning_text.delta",
        "response.reasoning_text.done", "response.content_part.done", "response.output_item.done"),
        typesInOrder(asText).subList(0, 9));
    assertEquals("reasoning_text", asText.get(3).data().at("/part/type").asText());
    assertEquals("Check divisors up to 9: 2, 3, 5, 7 do not divide 97.",
        last(asText).data().at("/response/output/0/content/0/text").asText());
  }

  @Test
  void anAnswerCutByTheTokenLimitIsIncomplete() throws Exception {
    start("");
    setup.upstream().reply(200, "application/json", CUT_ANSWER);
    JsonNode answer = JSON.readTree(post(ASK.formatted(", \"max_output_tokens\": 3")).body());
    assertEquals("incomplete", answer.get("status").asText());
    assertEquals("max_output_tokens", answer.at("/incomplete_details/reason").asText());
    assertEquals("incomplete", answer.at("/output/0/status").asText());
    assertEquals(3, answer.get("max_output_tokens").asInt());
    assertEquals(3, JSON.readTree(setup.upstream().lastRequest().body()).get("max_completion_tokens").asInt());
  }

  @Test
  void aFailureAfterTheStreamStartedIsResponseFailedWithTheOutputSoFar() throws Exception {
    start("");
    // The upstream sends the first words and then breaks off: the answer is cut, which must not look like an end.
    setup.upstream().answer(r -> {
      r.response().setStatusCode(200).putHeader("content-type", "text/event-stream").setChunked(true);
      r.response().write(STREAM.substring(0, STREAM.indexOf("\n\n", STREAM.indexOf("Par")) + 2))
          .onSuccess(v -> r.connection().close());
    });
    List<Event> events = events(post(ASK.formatted(", \"stream\": true")).body());
    List<String> types = typesInOrder(events);
    assertEquals("response.failed", types.get(types.size() - 1), types::toString);
    JsonNode failed = last(events).data().get("response");
    assertEquals("failed", failed.get("status").asText());
    assertFalse(failed.at("/error/code").asText().isEmpty(), failed::toString);
    assertFalse(failed.at("/error/message").asText().isEmpty());
    assertEquals("Par", failed.at("/output/0/content/0/text").asText());
    assertEquals("in_progress", failed.at("/output/0/status").asText());
  }

  @Test
  void errorsHaveOpenAisShapeAndStatusStreamingOrNot() throws Exception {
    start("");
    HttpResponse<String> unknownModel = post("{\"model\": \"nobody/x\", \"input\": \"Hi\"}");
    assertEquals(404, unknownModel.statusCode());
    assertEquals("not_found", JSON.readTree(unknownModel.body()).at("/error/code").asText());

    HttpResponse<String> stateful = post(ASK.formatted(", \"previous_response_id\": \"resp_123\""));
    assertEquals(400, stateful.statusCode());
    JsonNode error = JSON.readTree(stateful.body()).get("error");
    assertEquals("invalid_request_error", error.get("type").asText());
    assertEquals("previous_response_id", error.get("param").asText());
    assertTrue(error.get("message").asText().contains("stateless"), error::toString);
    assertTrue(error.get("message").asText().contains("whole conversation in input"), error::toString);

    setup.upstream().answer(r -> r.response().setStatusCode(429).putHeader("retry-after", "7")
        .putHeader("content-type", "application/json")
        .end("{\"error\": {\"message\": \"Rate limit reached\", \"type\": \"requests\", \"code\": \"rate_limit_exceeded\"}}"));
    for (String stream : List.of("", ", \"stream\": true")) {
      HttpResponse<String> limited = post(ASK.formatted(stream));
      assertEquals(429, limited.statusCode(), limited.body());
      // A stream refused before it started is a plain JSON error, as OpenAI sends it.
      assertEquals("application/json", limited.headers().firstValue("content-type").orElseThrow());
      assertEquals("rate_limit_error", JSON.readTree(limited.body()).at("/error/type").asText());
      assertTrue(Integer.parseInt(limited.headers().firstValue("retry-after").orElseThrow()) >= 1);
    }
  }

  @Test
  void aBodyOverTheLimitGets413() throws Exception {
    start("max_message_bytes: 262144");
    HttpResponse<String> response = post(ASK.formatted(", \"user\": \"" + "x".repeat(300_000) + "\""));
    assertEquals(413, response.statusCode());
    assertTrue(JSON.readTree(response.body()).at("/error/message").asText().contains("max_message_bytes"));
    assertTrue(setup.upstream().received().isEmpty());
  }

  @Test
  void oneCassetteServesResponsesChatCompletionsAndGrpc() throws Exception {
    start("");
    setup.upstream().reply(200, "application/json", ANSWER);
    String responses = """
        {"model": "openai/gpt-4o-mini", "instructions": "Be brief.",
         "input": [
           {"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]},
           {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
            "content": [{"type": "output_text", "text": "Let me look.", "annotations": [], "logprobs": []}]},
           {"type": "function_call", "id": "fc_1", "call_id": "call_abc", "name": "weather",
            "arguments": "{\\"city\\":\\"Paris\\"}", "status": "completed"},
           {"type": "function_call_output", "call_id": "call_abc", "output": "18C"},
           {"role": "developer", "content": "Answer in French."}],
         "tools": [{"type": "function", "name": "weather", "description": "The weather in a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}, "strict": false}],
         "tool_choice": {"type": "function", "name": "weather"}, "parallel_tool_calls": false,
         "text": {"format": {"type": "json_schema", "name": "answer", "strict": true,
           "schema": {"type": "object", "properties": {"text": {"type": "string"}}}}},
         "temperature": 0.5, "max_output_tokens": 100, "reasoning": {"effort": "low"}}""";
    String chat = """
        {"model": "openai/gpt-4o-mini",
         "messages": [
           {"role": "system", "content": "Be brief."},
           {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
           {"role": "assistant", "content": "Let me look.", "tool_calls": [{"id": "call_abc", "type": "function",
             "function": {"name": "weather", "arguments": "{\\"city\\":\\"Paris\\"}"}}]},
           {"role": "tool", "tool_call_id": "call_abc", "content": "18C"},
           {"role": "system", "content": "Answer in French."}],
         "tools": [{"type": "function", "function": {"name": "weather", "description": "The weather in a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}, "strict": false}}],
         "tool_choice": {"type": "function", "function": {"name": "weather"}}, "parallel_tool_calls": false,
         "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "strict": true,
           "schema": {"type": "object", "properties": {"text": {"type": "string"}}}}},
         "temperature": 0.5, "max_completion_tokens": 100, "reasoning_effort": "low"}""";
    HttpResponse<String> recorded = post(responses, "x-cassette-mode", "record", "x-cassette-scope", "doors");
    assertEquals(200, recorded.statusCode(), recorded.body());
    String key = recorded.headers().firstValue("x-cassette-key").orElseThrow();
    int upstreamCalls = setup.upstream().received().size();

    HttpResponse<String> overChat = postTo("/v1/chat/completions", chat, "x-cassette-mode", "replay",
        "x-cassette-scope", "doors");
    assertEquals(200, overChat.statusCode(), overChat.body());
    assertEquals(key, overChat.headers().firstValue("x-cassette-key").orElseThrow());

    Metadata replay = new Metadata();
    replay.put(Metadata.Key.of("x-cassette-mode", Metadata.ASCII_STRING_MARSHALLER), "replay");
    replay.put(Metadata.Key.of("x-cassette-scope", Metadata.ASCII_STRING_MARSHALLER), "doors");
    ChatResponse overGrpc = setup.router().chat().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(replay))
        .chat(sameRequestOverGrpc());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, overGrpc.getOrigin().getCassette());
    assertEquals(key, overGrpc.getOrigin().getCassetteKey());
    assertEquals(JSON.readTree(recorded.body()).get("id").asText().substring("resp_".length()),
        overGrpc.getId().substring(overGrpc.getId().indexOf('-') + 1));

    HttpResponse<String> replayed = post(responses, "x-cassette-mode", "replay", "x-cassette-scope", "doors");
    assertEquals(recorded.body(), replayed.body(), "the same ids and the same bytes, live or replayed");
    assertEquals(upstreamCalls, setup.upstream().received().size());
  }

  private static ChatRequest sameRequestOverGrpc() {
    ObjectNode parameters = JSON.createObjectNode().put("type", "object");
    parameters.putObject("properties").putObject("city").put("type", "string");
    ObjectNode schema = JSON.createObjectNode().put("type", "object");
    schema.putObject("properties").putObject("text").put("type", "string");
    return ChatRequest.newBuilder().setModel("openai/gpt-4o-mini")
        .addMessages(Message.newBuilder().setRole(Role.ROLE_SYSTEM).addParts(text("Be brief.")))
        .addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addParts(text("Weather in Paris?")))
        .addMessages(Message.newBuilder().setRole(Role.ROLE_ASSISTANT).addParts(text("Let me look."))
            .addToolCalls(ToolCall.newBuilder().setId("call_abc").setName("weather")
                .setArgumentsJson("{\"city\":\"Paris\"}")))
        .addMessages(Message.newBuilder().setRole(Role.ROLE_TOOL).setToolCallId("call_abc").addParts(text("18C")))
        .addMessages(Message.newBuilder().setRole(Role.ROLE_SYSTEM).addParts(text("Answer in French.")))
        .addTools(Tool.newBuilder().setName("weather").setDescription("The weather in a city.")
            .setParameters(ProtoJson.toStruct(parameters)).setStrict(false))
        .setToolChoice(ToolChoice.newBuilder().setToolName("weather")).setParallelToolCalls(false)
        .setResponseFormat(ResponseFormat.newBuilder().setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA)
            .setSchemaName("answer").setStrict(true).setSchema(ProtoJson.toStruct(schema)))
        .setSettings(GenerationSettings.newBuilder().setTemperature(0.5).setMaxOutputTokens(100)
            .setReasoningEffort(ReasoningEffort.REASONING_EFFORT_LOW))
        .build();
  }

  @Test
  void anAnthropicSignatureGoesBackToAnthropicThroughEncryptedContent() throws Exception {
    start("");
    WireExchange thinking = WireExchange.own("anthropic").stream()
        .filter(exchange -> exchange.name().endsWith("stream-thinking-cache.json")).findFirst().orElseThrow();
    ProviderWire.Answer answer = new AnthropicWire().answerOf(thinking);
    setup.upstream().reply(200, "text/event-stream", thinking.body());
    String ask = "{\"model\": \"anthropic/claude-sonnet-4-5\", \"stream\": true, \"input\": [{\"role\": \"user\", "
        + "\"content\": \"Which is warmer?\"}]}";
    JsonNode first = last(events(post(ask).body())).data().get("response");
    JsonNode reasoning = first.at("/output/0");
    assertEquals("reasoning", reasoning.get("type").asText(), first::toString);
    assertEquals(answer.reasoning(), reasoning.at("/content/0/text").asText());
    // Tagged with the provider type, the deployment and the credential that produced it.
    assertEquals("anthropic/anthropic/TEST_API_KEY:" + answer.reasoningSignature(),
        reasoning.get("encrypted_content").asText());
    assertEquals("message", first.at("/output/1/type").asText());

    // The caller sends the output back with its next question, as the SDK's examples do.
    ArrayNode input = JSON.createArrayNode();
    input.addObject().put("role", "user").put("content", "Which is warmer?");
    first.get("output").forEach(input::add);
    input.addObject().put("role", "user").put("content", "And Berlin?");
    ObjectNode next = JSON.createObjectNode().put("model", "anthropic/claude-sonnet-4-5");
    next.set("input", input);
    setup.upstream().reply(200, "application/json", """
        {"id": "msg_2", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
         "content": [{"type": "text", "text": "Berlin is cooler."}], "stop_reason": "end_turn",
         "usage": {"input_tokens": 40, "output_tokens": 5}}""");
    HttpResponse<String> second = post(next.toString());
    assertEquals(200, second.statusCode(), second.body());
    assertEquals("Berlin is cooler.", JSON.readTree(second.body()).at("/output/0/content/0/text").asText());
    JsonNode thinkingBlock = JSON.readTree(setup.upstream().lastRequest().body()).at("/messages/1/content/0");
    assertEquals("thinking", thinkingBlock.get("type").asText(), thinkingBlock::toString);
    assertEquals(answer.reasoningSignature(), thinkingBlock.get("signature").asText());
    assertEquals(answer.reasoning(), thinkingBlock.get("thinking").asText());
  }

  @Test
  void aSignatureThatCameWithoutReasoningTextStillLeadsTheOutputAndGoesBack() throws Exception {
    start("");
    // Gemini signs its function call without showing any thought: the stream has no reasoning item to carry it.
    setup.upstream().reply(200, "text/event-stream", """
        data: {"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},\
        "thoughtSignature":"c2lnbmVkLWJ5LWdlbWluaQ=="}],"role":"model"},"finishReason":"STOP","index":0}],\
        "usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":5,"totalTokenCount":25},\
        "modelVersion":"gemini-2.5-flash","responseId":"g1"}

        """);
    List<Event> events = events(post("{\"model\": \"gemini/gemini-2.5-flash\", \"stream\": true, \"input\": "
        + "\"Weather in Paris?\", \"tools\": [" + weatherTool() + "]}").body());
    assertEquals("function_call", events.get(2).data().at("/item/type").asText(), "no reasoning item was streamed");
    assertEquals("response.completed", last(events).type(), last(events).data()::toString);
    JsonNode output = last(events).data().at("/response/output");
    assertEquals("reasoning", output.at("/0/type").asText(), output::toString);
    assertEquals("gemini/gemini/TEST_API_KEY:c2lnbmVkLWJ5LWdlbWluaQ==", output.at("/0/encrypted_content").asText());
    assertEquals(events.get(2).data().at("/item/id"), output.at("/1/id"));

    ArrayNode input = JSON.createArrayNode();
    input.addObject().put("role", "user").put("content", "Weather in Paris?");
    output.forEach(input::add);
    input.addObject().put("type", "function_call_output").put("call_id", output.at("/1/call_id").asText())
        .put("output", "18C");
    ObjectNode next = JSON.createObjectNode().put("model", "gemini/gemini-2.5-flash");
    next.set("input", input);
    next.set("tools", JSON.createArrayNode().add(JSON.readTree(weatherTool())));
    setup.upstream().reply(200, "application/json", """
        {"candidates": [{"content": {"parts": [{"text": "18C in Paris."}], "role": "model"}, "finishReason": "STOP",
         "index": 0}], "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 5, "totalTokenCount": 35},
         "modelVersion": "gemini-2.5-flash", "responseId": "g2"}""");
    HttpResponse<String> second = post(next.toString());
    assertEquals(200, second.statusCode(), second.body());
    JsonNode call = JSON.readTree(setup.upstream().lastRequest().body()).at("/contents/1/parts/0");
    assertEquals("get_weather", call.at("/functionCall/name").asText(), call::toString);
    assertEquals("c2lnbmVkLWJ5LWdlbWluaQ==", call.get("thoughtSignature").asText());
  }

  static Stream<String[]> malformed() {
    String user = "{\"role\": \"user\", \"content\": \"Hi\"}";
    String model = "\"model\": \"openai/gpt-4o-mini\", ";
    String ask = "{" + model + "\"input\": [" + user + "], ";
    return Stream.of(
        new String[] {"{not json", "body"},
        new String[] {"[]", "body"},
        new String[] {"", "body"},
        new String[] {"{\"input\": \"Hi\"}", "model"},
        new String[] {"{\"model\": 7, \"input\": \"Hi\"}", "model"},
        new String[] {"{" + model + "\"store\": false}", "input"},
        new String[] {"{" + model + "\"input\": 5}", "input"},
        new String[] {"{" + model + "\"input\": []}", "input"},
        new String[] {"{" + model + "\"input\": [5]}", "input[0]"},
        new String[] {"{" + model + "\"input\": [{\"content\": \"Hi\"}]}", "input[0].type"},
        new String[] {"{" + model + "\"input\": [{\"type\": \"web_search_call\", \"id\": \"ws_1\"}]}",
            "input[0].type"},
        new String[] {"{" + model + "\"input\": [{\"type\": \"item_reference\", \"id\": \"msg_1\"}]}",
            "input[0].type"},
        new String[] {"{" + model + "\"input\": [{\"role\": \"wizard\", \"content\": \"Hi\"}]}", "input[0].role"},
        new String[] {"{" + model + "\"input\": [{\"role\": \"user\"}]}", "input[0].content"},
        new String[] {"{" + model + "\"input\": [{\"role\": \"user\", \"content\": [{\"type\": \"input_audio\"}]}]}",
            "input[0].content[0].type"},
        new String[] {"{" + model + "\"input\": [{\"role\": \"user\", \"content\": [{\"type\": \"output_text\", "
            + "\"text\": \"Hi\"}]}]}", "input[0].content[0].type"},
        new String[] {"{" + model + "\"input\": [{\"role\": \"user\", \"content\": [{\"type\": \"input_image\", "
            + "\"image_url\": \"data:image/png;base64,%%%\"}]}]}", "input[0].content[0].image_url"},
        new String[] {"{" + model + "\"input\": [{\"role\": \"user\", \"content\": [{\"type\": \"input_image\", "
            + "\"file_id\": \"file-abc\"}]}]}", "input[0].content[0].file_id"},
        new String[] {"{" + model + "\"input\": [" + user + ", {\"type\": \"function_call_output\", \"call_id\": "
            + "\"call_nobody\", \"output\": \"42\"}]}", "input[1].call_id"},
        new String[] {"{" + model + "\"input\": [" + user + ", {\"type\": \"function_call\", \"call_id\": \"c1\", "
            + "\"name\": \"f\"}]}", "input[1].arguments"},
        new String[] {"{" + model + "\"input\": [" + user + ", {\"type\": \"reasoning\", \"summary\": [], "
            + "\"encrypted_content\": \"gAAAA\"}, " + user + "]}", "input[1]"},
        new String[] {ask + "\"previous_response_id\": \"resp_1\"}", "previous_response_id"},
        new String[] {ask + "\"conversation\": \"conv_1\"}", "conversation"},
        new String[] {ask + "\"background\": true}", "background"},
        new String[] {ask + "\"tools\": [{\"type\": \"web_search\"}]}", "tools[0].type"},
        new String[] {ask + "\"tools\": [{\"type\": \"function\"}]}", "tools[0].name"},
        new String[] {ask + "\"tool_choice\": \"always\"}", "tool_choice"},
        new String[] {ask + "\"tool_choice\": {\"type\": \"file_search\"}}", "tool_choice.type"},
        new String[] {ask + "\"text\": {\"format\": {\"type\": \"xml\"}}}", "text.format.type"},
        new String[] {ask + "\"reasoning\": {\"effort\": \"extreme\"}}", "reasoning.effort"},
        new String[] {ask + "\"temperature\": \"hot\"}", "temperature"},
        new String[] {ask + "\"max_output_tokens\": 1.5}", "max_output_tokens"},
        new String[] {ask + "\"stream\": \"yes\"}", "stream"},
        new String[] {ask + "\"truncation\": \"auto\"}", "truncation"},
        new String[] {ask + "\"frobnicate\": true}", "frobnicate"});
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
    assertEquals(field, error.get("param").asText(), error::toString);
    assertTrue(error.get("message").asText().contains(field), () -> field + " not named in " + error);
    assertTrue(setup.upstream().received().isEmpty());
    try (Stream<Path> files = Files.walk(cassettes)) {
      assertEquals(List.of(cassettes), files.toList());
    }
  }

  private static String weatherTool() {
    return "{\"type\": \"function\", \"name\": \"get_weather\", \"parameters\": {\"type\": \"object\", "
        + "\"properties\": {\"city\": {\"type\": \"string\"}}}}";
  }

  private static Part text(String text) {
    return Part.newBuilder().setText(text).build();
  }
}
