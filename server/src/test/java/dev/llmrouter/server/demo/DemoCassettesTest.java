package dev.llmrouter.server.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.ModelServiceGrpc;
import dev.llmrouter.api.v1.TokenCountMethod;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.ConversationServiceGrpc;
import dev.llmrouter.api.v1.CreateConversationRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.SendMessageRequest;
import io.vertx.core.http.HttpServerRequest;
import java.util.function.Consumer;
import dev.llmrouter.server.testing.Conversation;
import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Metadata;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo cassettes shipped in `cassettes/recorded/`: recorded through the router in record mode against a local
 * upstream that serves OpenAI-format answers written by hand below. The test re-records them and checks that the
 * shipped files are byte for byte what recording produces (so re-recording leaves `git diff` empty), and that the
 * embedded default answers the README's first call from them. `cassettes/recorded/record.sh` rewrites them.
 */
class DemoCassettesTest {

  /** Where the shipped demo set lives, seen from the server module. */
  static final Path SHIPPED = Path.of("../cassettes/recorded");
  private static final boolean REWRITE = Boolean.getBoolean("llmrouter.demo.rewrite");

  /** One demo exchange: the scope, the request a caller sends, whether it streams, and the upstream's answer. */
  record Demo(String scope, String requestJson, boolean stream, String contentType, String upstreamBody) {
  }

  /** The demo conversations; each is recorded once per provider type. */
  private static final String TEXT = """
      {"model": "%s", "messages": [{"role": "ROLE_USER", "parts": [{"text": "What is the capital of France?"}]}]}
      """;
  private static final String HAIKU = """
      {"model": "%s", "messages": [{"role": "ROLE_USER", "parts": [{"text": "Write a haiku about the sea."}]}]}
      """;
  private static final String WEATHER = """
      {"model": "%s",
       "messages": [{"role": "ROLE_USER", "parts": [{"text": "What's the weather in Paris?"}]}],
       "tools": [{"name": "get_weather", "description": "Current weather for a city.",
                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]}
      """;
  private static final String CITY = """
      {"model": "%s",
       "messages": [{"role": "ROLE_USER", "parts": [{"text": "Name the largest city of Japan and its country."}]}],
       "responseFormat": {"type": "RESPONSE_FORMAT_TYPE_JSON_SCHEMA", "schemaName": "city", "strict": true,
         "schema": {"type": "object", "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
                    "required": ["city", "country"], "additionalProperties": false}}}
      """;
  private static final String PREFILL = """
      {"model": "%s",
       "messages": [{"role": "ROLE_USER", "parts": [{"text": "List the three primary colours as a JSON array."}]},
                    {"role": "ROLE_ASSISTANT", "parts": [{"text": "["}]}]}
      """;
  private static final String SEARCH = """
      {"model": "%s", "webSearch": {},
       "messages": [{"role": "ROLE_USER", "parts": [{"text": "How tall is the Eiffel Tower?"}]}]}
      """;
  /** Anthropic's web search answer: its search and results (not relayed), then text blocks, one citing a page. */
  private static final String SEARCH_BLOCKS = String.join(",",
      "{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_demo\",\"name\":\"web_search\","
          + "\"input\":{\"query\":\"Eiffel Tower height\"}}",
      "{\"type\":\"web_search_tool_result\",\"tool_use_id\":\"srvtoolu_demo\",\"content\":[{\"type\":"
          + "\"web_search_result\",\"title\":\"Eiffel Tower - Wikipedia\",\"url\":"
          + "\"https://en.wikipedia.org/wiki/Eiffel_Tower\",\"encrypted_content\":\"demo\",\"page_age\":null}]}",
      "{\"type\":\"text\",\"text\":\"The Eiffel Tower \"}",
      "{\"type\":\"text\",\"text\":\"is 330 metres (1,083 ft) tall\",\"citations\":[{\"type\":"
          + "\"web_search_result_location\",\"url\":\"https://en.wikipedia.org/wiki/Eiffel_Tower\",\"title\":"
          + "\"Eiffel Tower - Wikipedia\",\"cited_text\":\"The tower is 330 metres (1,083 ft) tall.\","
          + "\"encrypted_index\":\"demo\"}]}",
      "{\"type\":\"text\",\"text\":\", antennas included.\"}");
  private static final List<String> HAIKU_LINES = List.of("Waves fold into foam,", "\\nsalt wind carries gull voices,",
      "\\nthe tide keeps its time.");
  private static final String CITY_JSON = "{\\\"city\\\":\\\"Tokyo\\\",\\\"country\\\":\\\"Japan\\\"}";

  static final List<Demo> DEMOS = List.of(
      // OpenAI Chat Completions (and every OpenAI-compatible host)
      new Demo("default", TEXT.formatted("openai/gpt-4o-mini"), false, "application/json",
          openAiMessage("\"content\":\"The capital of France is Paris.\"", "stop", 14, 8)),
      new Demo("default", HAIKU.formatted("openai/gpt-4o-mini"), true, "text/event-stream",
          openAiStream(HAIKU_LINES.stream().map(line -> "{\"content\":\"" + line + "\"}").toList(), "stop", 13, 19)),
      new Demo("tool-call", WEATHER.formatted("openai/gpt-4o-mini"), true, "text/event-stream", openAiStream(List.of(
          "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_demo\",\"type\":\"function\","
              + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}",
          "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}",
          "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}"), "tool_calls", 52, 15)),
      new Demo("structured-output", CITY.formatted("openai/gpt-4o-mini"), false, "application/json",
          openAiMessage("\"content\":\"" + CITY_JSON + "\"", "stop", 61, 12)),
      // Anthropic Messages
      new Demo("default", TEXT.formatted("anthropic/claude-haiku-4-5"), false, "application/json",
          anthropicMessage("{\"type\":\"text\",\"text\":\"The capital of France is Paris.\"}", "end_turn", 14, 10)),
      new Demo("default", HAIKU.formatted("anthropic/claude-haiku-4-5"), true, "text/event-stream", anthropicStream(
          "{\"type\":\"text\",\"text\":\"\"}", HAIKU_LINES.stream()
              .map(line -> "{\"type\":\"text_delta\",\"text\":\"" + line + "\"}").toList(), "end_turn", 13, 21)),
      new Demo("tool-call", WEATHER.formatted("anthropic/claude-haiku-4-5"), true, "text/event-stream", anthropicStream(
          "{\"type\":\"tool_use\",\"id\":\"toolu_demo\",\"name\":\"get_weather\",\"input\":{}}", List.of(
              "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \"}",
              "{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}"), "tool_use", 380, 38)),
      new Demo("structured-output", CITY.formatted("anthropic/claude-haiku-4-5"), false, "application/json",
          anthropicMessage("{\"type\":\"text\",\"text\":\"" + CITY_JSON + "\"}", "end_turn", 190, 14)),
      // Prefill: Anthropic continues the last assistant message; the answer is the continuation alone.
      new Demo("prefill", PREFILL.formatted("anthropic/claude-haiku-4-5"), false, "application/json",
          anthropicMessage("{\"type\":\"text\",\"text\":\"\\\"red\\\", \\\"yellow\\\", \\\"blue\\\"]\"}",
              "end_turn", 21, 11)),
      // Web search: Anthropic runs the search itself; one search (counted in the usage), one citation.
      new Demo("web-search", SEARCH.formatted("anthropic/claude-haiku-4-5"), false, "application/json",
          anthropicMessage(SEARCH_BLOCKS, "end_turn", 2150, 42).replace("\"output_tokens\":42}",
              "\"output_tokens\":42,\"server_tool_use\":{\"web_search_requests\":1}}")),
      // Gemini generateContent
      new Demo("default", TEXT.formatted("gemini/gemini-2.5-flash"), false, "application/json",
          geminiChunk("{\"text\":\"The capital of France is Paris.\"}", "STOP", 8, 8)),
      new Demo("default", HAIKU.formatted("gemini/gemini-2.5-flash"), true, "text/event-stream", "data: "
          + geminiChunk("{\"text\":\"" + HAIKU_LINES.get(0) + "\"}", null, 7, 5) + "\r\n\r\ndata: "
          + geminiChunk("{\"text\":\"" + HAIKU_LINES.get(1) + "\"}", null, 7, 11) + "\r\n\r\ndata: "
          + geminiChunk("{\"text\":\"" + HAIKU_LINES.get(2) + "\"}", "STOP", 7, 17) + "\r\n\r\n"),
      new Demo("tool-call", WEATHER.formatted("gemini/gemini-2.5-flash"), true, "text/event-stream", "data: "
          + geminiChunk("{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":\"Paris\"}}}", "STOP", 40, 6)
          + "\r\n\r\n"),
      new Demo("structured-output", CITY.formatted("gemini/gemini-2.5-flash"), false, "application/json",
          geminiChunk("{\"text\":\"" + CITY_JSON + "\"}", "STOP", 22, 12)));

  /**
   * The demo counts (`ModelService.CountTokens`), recorded through the hosts' count endpoints (the README's count);
   * OpenAI's models are counted by the router itself and need none.
   */
  static final List<Demo> COUNTS = List.of(
      new Demo("default", TEXT.formatted("anthropic/claude-haiku-4-5"), false, "application/json",
          "{\"input_tokens\":14}"),
      new Demo("default", TEXT.formatted("gemini/gemini-2.5-flash"), false, "application/json",
          "{\"totalTokens\":8,\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":8}]}"));

  /**
   * The live page's conversation (server/web), recorded over `Converse` in the default scope: the page's start
   * message, two turns (the second calls the page's demo tool), then a long story to interrupt. Each step is the user
   * message (or the page's tool answer) and the upstream's answers to it, in order.
   */
  static final String LIVE_PAGE_START = """
      {"start": {"model": "openai/gpt-4o-mini", "tools": [{"name": "get_weather",
        "description": "Current weather for a city (the live page answers it).",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]}}
      """;
  /** What the page's demo tool answers for Paris: the page sends the same bytes (server/web/src/tool.ts). */
  static final String LIVE_PAGE_WEATHER = "{\"city\":\"Paris\",\"temperature_c\":18,\"conditions\":\"partly cloudy\"}";
  private static final String STORY = "The lighthouse keeper counted the waves each night, one by one, until the sea "
      + "answered him. It spoke of ships that never came home, of whales that sang beneath the ice, of a harbour "
      + "where the tide went out and never returned. He wrote it all down in a blue notebook, page after page, "
      + "while the lamp turned above him and the gulls slept on the rocks. One winter the notebook was full, and "
      + "the sea asked him for one more story: his own. So he began, slowly, with the night he first arrived, "
      + "when the storm tore the roof away and the light kept burning anyway.";

  /** The live page's conversation: each step's message from the page, and the upstream's answer. */
  record PageStep(String pageMessage, String upstreamBody) {
  }

  static final List<PageStep> LIVE_PAGE_STEPS = List.of(
      new PageStep("{\"user\": {\"role\": \"ROLE_USER\", \"parts\": [{\"text\": \"What is the capital of France?\"}]}}",
          openAiStream(List.of("{\"content\":\"The capital of France is **Paris**, on the Seine.\"}",
              "{\"content\":\"\\n\\nA few facts:\\n- about 2.1 million people live there\"}",
              "{\"content\":\"\\n- it is home to the `Louvre` and the *Eiffel Tower*\"}"), "stop", 58, 37)),
      new PageStep("{\"user\": {\"role\": \"ROLE_USER\", \"parts\": [{\"text\": \"What's the weather there?\"}]}}",
          openAiStream(List.of(
              "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_demo\","
                  + "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}",
              "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]}"),
              "tool_calls", 112, 16)),
      new PageStep(null, openAiStream(List.of("{\"content\":\"It is **18 °C** and partly cloudy in Paris\"}",
          "{\"content\":\": a light jacket will do.\"}"), "stop", 151, 19)),
      new PageStep("{\"user\": {\"role\": \"ROLE_USER\", \"parts\": [{\"text\": \"Tell me a long story about the sea.\"}]}}",
          openAiStream(storyChunks(), "stop", 186, 131)));

  /** The story, three words a chunk, as a model streams it. */
  private static List<String> storyChunks() {
    String[] words = STORY.split(" ");
    List<String> chunks = new ArrayList<>();
    for (int i = 0; i < words.length; i += 3) {
      String piece = String.join(" ", List.of(words).subList(i, Math.min(words.length, i + 3)));
      chunks.add("{\"content\":\"" + (i == 0 ? "" : " ") + piece + "\"}");
    }
    return chunks;
  }

  private static String openAiMessage(String content, String finish, int input, int output) {
    return "{\"id\":\"chatcmpl-demo\",\"object\":\"chat.completion\",\"created\":1730000000,"
        + "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        + content + "},\"finish_reason\":\"" + finish + "\"}],\"usage\":{\"prompt_tokens\":" + input
        + ",\"completion_tokens\":" + output + ",\"total_tokens\":" + (input + output) + "}}";
  }

  private static String openAiStream(List<String> deltas, String finish, int input, int output) {
    String head = "data: {\"id\":\"chatcmpl-demo\",\"created\":1730000000,\"model\":\"gpt-4o-mini-2024-07-18\","
        + "\"choices\":";
    StringBuilder out = new StringBuilder();
    for (String delta : deltas) {
      out.append(head).append("[{\"index\":0,\"delta\":").append(delta).append(",\"finish_reason\":null}]}\n\n");
    }
    out.append(head).append("[{\"index\":0,\"delta\":{},\"finish_reason\":\"").append(finish).append("\"}]}\n\n");
    out.append(head).append("[],\"usage\":{\"prompt_tokens\":").append(input).append(",\"completion_tokens\":")
        .append(output).append("}}\n\ndata: [DONE]\n\n");
    return out.toString();
  }

  private static String anthropicMessage(String block, String stopReason, int input, int output) {
    return "{\"id\":\"msg_demo\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5-20251001\","
        + "\"content\":[" + block + "],\"stop_reason\":\"" + stopReason + "\",\"stop_sequence\":null,"
        + "\"usage\":{\"input_tokens\":" + input + ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
        + "\"output_tokens\":" + output + "}}";
  }

  private static String anthropicStream(String block, List<String> deltas, String stopReason, int input, int output) {
    StringBuilder out = new StringBuilder();
    out.append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_demo\","
        + "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5-20251001\",\"content\":[],"
        + "\"stop_reason\":null,\"usage\":{\"input_tokens\":" + input + ",\"cache_creation_input_tokens\":0,"
        + "\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n");
    out.append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":")
        .append(block).append("}\n\n");
    out.append("event: ping\ndata: {\"type\":\"ping\"}\n\n");
    for (String delta : deltas) {
      out.append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":")
          .append(delta).append("}\n\n");
    }
    out.append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
    out.append("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"")
        .append(stopReason).append("\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":").append(output)
        .append("}}\n\n");
    out.append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    return out.toString();
  }

  private static String geminiChunk(String part, String finishReason, int input, int output) {
    return "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[" + part + "]}"
        + (finishReason == null ? "" : ",\"finishReason\":\"" + finishReason + "\"") + "}],"
        + "\"usageMetadata\":{\"promptTokenCount\":" + input + ",\"candidatesTokenCount\":" + output
        + ",\"totalTokenCount\":" + (input + output) + "},\"modelVersion\":\"gemini-2.5-flash\","
        + "\"responseId\":\"demo\"}";
  }

  static ChatRequest request(Demo demo) {
    try {
      ChatRequest.Builder request = ChatRequest.newBuilder();
      JsonFormat.parser().merge(demo.requestJson(), request);
      return request.build();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  @Test
  void shippedDemoCassettesAreExactlyWhatRecordingProduces(@TempDir Path recorded) throws Exception {
    try (MockUpstream upstream = MockUpstream.start(vertx)) {
      RunningRouter router = RunningRouter.start(vertx, """
          cassettes: { dir: "%s", mode: record }
          conversations: { compaction: { model: openai/gpt-4o-mini } }
          providers:
            - { name: openai, type: openai, base_url: "%2$s/v1", api_key: "${TEST_API_KEY}" }
            - { name: anthropic, type: anthropic, base_url: "%2$s", api_key: "${TEST_API_KEY}" }
            - { name: gemini, type: gemini, base_url: "%2$s", api_key: "${TEST_API_KEY}" }
          """.formatted(recorded, upstream.baseUrl()));
      try {
        recordLivePageConversation(router, upstream);
        recordStoredConversation(router, upstream);
        for (Demo demo : DEMOS) {
          upstream.reply(200, demo.contentType(), demo.upstreamBody());
          Metadata scope = new Metadata();
          scope.put(Metadata.Key.of("x-cassette-scope", Metadata.ASCII_STRING_MARSHALLER), demo.scope());
          ChatServiceGrpc.ChatServiceBlockingStub stub = router.chat()
              .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(scope));
          if (demo.stream()) {
            stub.streamChat(request(demo)).forEachRemaining(e -> { });
          } else {
            stub.chat(request(demo));
          }
        }
        for (Demo count : COUNTS) {
          upstream.reply(200, count.contentType(), count.upstreamBody());
          router.models().countTokens(request(count));
        }
      } finally {
        router.close();
      }
    }
    Map<Path, byte[]> fresh = cassetteFiles(recorded);
    if (REWRITE) {
      for (Path stale : cassetteFiles(SHIPPED).keySet()) {
        Files.delete(SHIPPED.resolve(stale));
      }
      for (Map.Entry<Path, byte[]> file : fresh.entrySet()) {
        Files.createDirectories(SHIPPED.resolve(file.getKey()).getParent());
        Files.write(SHIPPED.resolve(file.getKey()), file.getValue());
      }
    }
    Map<Path, byte[]> shipped = cassetteFiles(SHIPPED);
    assertEquals(fresh.keySet(), shipped.keySet(), "the demo set differs from a fresh recording: run "
        + "cassettes/recorded/record.sh");
    for (Path file : fresh.keySet()) {
      assertEquals(new String(fresh.get(file)), new String(shipped.get(file)), file + " is stale: run "
          + "cassettes/recorded/record.sh");
    }
  }

  @Test
  void theEmbeddedDefaultReplaysTheReadmeCallsWithNoKeysAndNoNetwork(@TempDir Path dataDir) throws Exception {
    var defaults = ConfigLoader.embeddedDefault(name -> null);
    var config = defaults.withPort(0).withCassettes(defaults.cassettes().withDir(SHIPPED.toString()))
        .withObservability(defaults.observability().withDataDir(dataDir.toString()));
    RouterServer server = RouterServer.start(vertx, config).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    try {
      ChatServiceGrpc.ChatServiceBlockingStub chat = ChatServiceGrpc.newBlockingStub(channel);
      ChatResponse paris = chat.chat(request(DEMOS.get(0)));
      assertEquals("The capital of France is Paris.", paris.getMessage().getParts(0).getText());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, paris.getOrigin().getCassette());
      List<ChatEvent> haiku = new ArrayList<>();
      chat.streamChat(request(DEMOS.get(1))).forEachRemaining(haiku::add);
      assertEquals(3, haiku.stream().filter(ChatEvent::hasTextDelta).count(), "the recorded chunks are kept");
      assertTrue(haiku.get(haiku.size() - 1).hasDone());
      ModelServiceGrpc.ModelServiceBlockingStub models = ModelServiceGrpc.newBlockingStub(channel);
      CountTokensResponse count = models.countTokens(request(COUNTS.get(0)));
      assertEquals(14, count.getInputTokens());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, count.getOrigin().getCassette());
      assertEquals(TokenCountMethod.TOKEN_COUNT_METHOD_LOCAL, models.countTokens(request(DEMOS.get(0))).getMethod());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  /** Holds the live page's conversation over Converse, as the page does, answering its tool as the page does. */
  private static void recordLivePageConversation(RunningRouter router, MockUpstream upstream) throws Exception {
    Conversation page = Conversation.open(router).send(converseRequest(LIVE_PAGE_START));
    page.until(ConverseEvent::hasSessionStarted);
    for (PageStep step : LIVE_PAGE_STEPS) {
      upstream.reply(200, "text/event-stream", step.upstreamBody());
      if (step.pageMessage() != null) {
        page.send(converseRequest(step.pageMessage()));
      } else {
        page.answer(page.all.get(page.all.size() - 1), LIVE_PAGE_WEATHER);
      }
      page.until(event -> event.hasTurnCompleted() || event.hasToolCalls() || event.hasTurnError());
      assertTrue(!page.all.get(page.all.size() - 1).hasTurnError(), () -> page.all.toString());
    }
    page.requests.onCompleted();
    page.closed.get(10, TimeUnit.SECONDS);
  }

  /**
   * The README's stored conversation (`ConversationService`, scope `conversation`): two turns, then a third that first
   * compacts the first turn into a summary (the history, 70 tokens, is over its budget of 60).
   */
  static final String STORED_CONVERSATION = """
      {"model": "openai/gpt-4o-mini", "systemPrompt": "You are a concise travel guide.",
       "metadata": {"app": "readme"}, "historyTokenBudget": 60}
      """;
  /** Each turn of the stored conversation, and the upstream's answers to it (the summary call's first). */
  static final List<List<String>> STORED_CONVERSATION_TURNS = List.of(
      List.of("What is the capital of France?",
          openAiMessage("\"content\":\"The capital of France is Paris.\"", "stop", 26, 8)),
      List.of("And how many people live there?", openAiMessage("\"content\":\"About 2.1 million people live in "
          + "Paris itself, and over 12 million in its metropolitan area.\"", "stop", 48, 22)),
      List.of("What should I see there first?",
          openAiMessage("\"content\":\"The user asked for the capital of France; the answer was Paris.\"", "stop",
              80, 16),
          openAiMessage("\"content\":\"Start with the Louvre, then walk along the Seine to Notre-Dame and the "
              + "Eiffel Tower.\"", "stop", 71, 20)));

  /** Holds the README's stored conversation through `ConversationService`. */
  private static void recordStoredConversation(RunningRouter router, MockUpstream upstream) throws IOException {
    Metadata scope = new Metadata();
    scope.put(Metadata.Key.of("x-cassette-scope", Metadata.ASCII_STRING_MARSHALLER), "conversation");
    ConversationServiceGrpc.ConversationServiceBlockingStub stub = ConversationServiceGrpc
        .newBlockingStub(router.channel()).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(scope));
    CreateConversationRequest.Builder create = CreateConversationRequest.newBuilder();
    JsonFormat.parser().merge(STORED_CONVERSATION, create);
    String id = stub.createConversation(create.build()).getConversation().getId();
    for (List<String> turn : STORED_CONVERSATION_TURNS) {
      List<Consumer<HttpServerRequest>> answers = turn.subList(1, turn.size()).stream()
          .<Consumer<HttpServerRequest>>map(body -> request -> request.response()
              .putHeader("content-type", "application/json").end(body)).toList();
      upstream.script(answers.toArray(Consumer[]::new));
      upstream.received().clear();
      stub.sendMessage(SendMessageRequest.newBuilder().setConversationId(id).setMessage(Message.newBuilder()
          .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText(turn.get(0)))).build());
      assertEquals(turn.size() - 1, upstream.received().size(), turn.get(0));
    }
  }

  private static ConverseRequest converseRequest(String json) throws IOException {
    ConverseRequest.Builder request = ConverseRequest.newBuilder();
    JsonFormat.parser().merge(json, request);
    return request.build();
  }

  private static Map<Path, byte[]> cassetteFiles(Path root) throws IOException {
    Map<Path, byte[]> files = new TreeMap<>();
    if (!Files.isDirectory(root)) {
      return files;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path file : walk.filter(f -> f.toString().endsWith(".json")).toList()) {
        files.put(root.relativize(file), Files.readAllBytes(file));
      }
    }
    return files;
  }
}
