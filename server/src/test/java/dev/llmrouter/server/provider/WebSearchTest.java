package dev.llmrouter.server.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Citation;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.UserLocation;
import dev.llmrouter.api.v1.WebSearch;
import dev.llmrouter.api.v1.WebSearchContextSize;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.testing.AnthropicWire;
import dev.llmrouter.server.testing.GeminiWire;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.OpenAiResponsesWire;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.VertexWire;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Web search with citations (`ChatRequest.web_search`) through every adapter that searches, against this project's
 * own samples and the shared recordings (`websearch-*`, skipped without ../shared), through Chat and StreamChat: the
 * answer's text and citations are what the recording says (offsets in code points of the text, whatever unit the
 * provider counts in), streamed citations are the ones `done` keeps and come after the text they cite, the searches
 * are counted in the usage and priced from the price table, and each provider is sent its own spelling of the
 * options. What the expected answer is, this test reads from the recordings on its own, apart from the adapters. The
 * README's search replays from the demo set. The OpenAI Chat Completions door carries `web_search_options` in and
 * `url_citation` annotations out.
 */
class WebSearchTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Prices that make a call's cost its number of searches: tokens free, a dollar a search. */
  private static final List<String> PRICED = List.of("gpt-4o-mini-search-preview", "gpt-4.1", "gpt-4.1-mini",
      "claude-sonnet-4", "claude-sonnet-4-5", "gemini-2.5-pro", "gemini-2.5-flash");
  private static final WebSearch EVERY_OPTION = WebSearch.newBuilder()
      .setContextSize(WebSearchContextSize.WEB_SEARCH_CONTEXT_SIZE_HIGH).addAllowedDomains("wikipedia.org")
      .setUserLocation(UserLocation.newBuilder().setCity("Paris").setCountry("FR")).build();

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("cassettes: { mode: \"off\" }\nretry: { max_attempts: 1 }\nprices:\n"
        + PRICED.stream().map(m -> "  " + m + ": { input: 0, output: 0, web_search: 1000 }\n")
            .collect(Collectors.joining())
        + "providers:\n" + Stream.of(new OpenAiWire(), new OpenAiResponsesWire(), new AnthropicWire(),
            new GeminiWire(), new VertexWire()).map(w -> w.providersYaml("%1$s")).collect(Collectors.joining()));
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  /** An exchange served to a model (`<provider>/<upstream model>`): Claude and Gemini answers also through Vertex AI. */
  record Case(String model, WireExchange exchange) {
    @Override
    public String toString() {
      return model.substring(0, model.indexOf('/')) + " " + exchange.name();
    }
  }

  static Stream<Case> cases() {
    Stream<Case> openAi = exchanges("websearch-openai").map(e -> new Case((e.path().endsWith("/responses")
        ? "oair/" : "openai/") + e.request().path("model").asText(), e));
    Stream<Case> anthropic = exchanges("websearch-anthropic").flatMap(e -> Stream.of("anthropic/", "vertex/")
        .map(provider -> new Case(provider + e.request().path("model").asText(), e)));
    Stream<Case> gemini = exchanges("websearch-gemini").flatMap(e -> Stream.of("gemini/", "vertex/")
        .map(provider -> new Case(provider + e.path().replaceAll(".*/models/([^:]+):.*", "$1"), e)));
    return Stream.of(openAi, anthropic, gemini).flatMap(s -> s);
  }

  private static Stream<WireExchange> exchanges(String folder) {
    return Stream.concat(WireExchange.own(folder).stream(), WireExchange.shared(folder).stream());
  }

  private static ChatRequest searching(String model, WebSearch search) {
    return ChatRequest.newBuilder().setModel(model).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText("Search the web, and cite your sources."))).setWebSearch(search).build();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void theAnswerCarriesTheCitationsAndTheSearchesThroughChatAndStreamChat(Case c) {
    setup.upstream().replay(c.exchange());
    Expected expected = expectedOf(c.exchange());
    ChatRequest request = searching(c.model(), WebSearch.getDefaultInstance());

    ChatResponse answer = setup.router().chat().chat(request);
    assertEquals(expected.text(), text(answer), "text");
    assertEquals(expected.citations(), answer.getMessage().getCitationsList(), "citations");
    if (c.exchange().name().startsWith("own/")) {
      assertFalse(expected.citations().isEmpty(), "each own sample cites its sources");
    }
    assertEquals(expected.searches(), answer.getUsage().getWebSearches(), "searches");
    assertEquals(expected.searches(), answer.getUsage().getCostUsd(), 1e-9, "a dollar a search, tokens free");
    int length = expected.text().codePointCount(0, expected.text().length());
    for (Citation citation : answer.getMessage().getCitationsList()) {
      assertTrue(citation.getStartIndex() < citation.getEndIndex() && citation.getEndIndex() <= length, citation
          .toString());
    }

    List<ChatEvent> events = new ArrayList<>();
    setup.router().chat().streamChat(request).forEachRemaining(events::add);
    ChatResponse done = events.get(events.size() - 1).getDone().getResponse();
    assertEquals(answer.getMessage(), done.getMessage(), "a streamed answer is the unary one");
    assertEquals(answer.getUsage(), done.getUsage());
    StringBuilder streamedText = new StringBuilder();
    List<Citation> streamed = new ArrayList<>();
    for (ChatEvent event : events) {
      if (event.hasTextDelta()) {
        streamedText.append(event.getTextDelta().getText());
      } else if (event.hasCitation()) {
        streamed.add(event.getCitation());
        assertTrue(event.getCitation().getEndIndex() <= streamedText.codePointCount(0, streamedText.length()),
            "a citation follows the text it cites: " + event.getCitation());
      }
    }
    assertEquals(done.getMessage().getCitationsList(), streamed, "the streamed citations are the ones done keeps");
    assertEquals(text(done), streamedText.toString());
  }

  @Test
  void eachProviderIsSentItsOwnSpellingOfTheOptions() throws IOException {
    JsonNode location = JSON.readTree("{\"type\": \"approximate\", \"city\": \"Paris\", \"country\": \"FR\"}");
    JsonNode openAiChat = sentFor("openai/gpt-4o-mini-search-preview", "websearch-openai", "/chat/completions",
        EVERY_OPTION.toBuilder().clearAllowedDomains().build());
    assertEquals(JSON.readTree("{\"search_context_size\": \"high\", \"user_location\": {\"type\": \"approximate\", "
        + "\"approximate\": {\"city\": \"Paris\", \"country\": \"FR\"}}}"), openAiChat.path("web_search_options"));

    JsonNode responses = sentFor("oair/gpt-4.1-mini", "websearch-openai", "/responses", EVERY_OPTION);
    assertEquals(JSON.createArrayNode().add(JSON.createObjectNode().put("type", "web_search")
        .put("search_context_size", "high").<com.fasterxml.jackson.databind.node.ObjectNode>set("user_location",
            location).set("filters", JSON.readTree("{\"allowed_domains\": [\"wikipedia.org\"]}"))),
        responses.path("tools"));

    for (String claude : List.of("anthropic/claude-sonnet-4-5", "vertex/claude-sonnet-4-5")) {
      JsonNode anthropic = sentFor(claude, "websearch-anthropic", "", EVERY_OPTION);
      assertEquals(JSON.createArrayNode().add(JSON.createObjectNode().put("type", "web_search_20250305")
          .put("name", "web_search").<com.fasterxml.jackson.databind.node.ObjectNode>set("allowed_domains",
              JSON.createArrayNode().add("wikipedia.org")).set("user_location", location)), anthropic.path("tools"),
          claude + ": Anthropic has no context size");
      assertEquals(claude.startsWith("vertex/") ? "web-search-2025-03-05" : null,
          setup.upstream().lastRequest().headers().get("anthropic-beta"), "Vertex AI's beta for the search tool");
    }

    for (String gemini : List.of("gemini/gemini-2.5-flash", "vertex/gemini-2.5-flash")) {
      JsonNode grounding = sentFor(gemini, "websearch-gemini", "",
          EVERY_OPTION.toBuilder().clearAllowedDomains().build());
      assertEquals(JSON.readTree("[{\"googleSearch\": {}}]"), grounding.path("tools"),
          gemini + ": Google Search grounding takes no options");
    }
  }

  /** The body sent upstream for a search request to {@code model}, answered with the folder's own sample. */
  private static JsonNode sentFor(String model, String folder, String pathEnd, WebSearch search) throws IOException {
    setup.upstream().replay(WireExchange.own(folder).stream().filter(e -> e.path().endsWith(pathEnd)).findFirst()
        .orElseThrow());
    setup.router().chat().chat(searching(model, search));
    return JSON.readTree(setup.upstream().lastRequest().body());
  }

  @Test
  void aDomainFilterIsRefusedBeforeAnyRequestWhereTheProviderHasNone() {
    for (String model : List.of("openai/gpt-4o-mini-search-preview", "gemini/gemini-2.5-flash",
        "vertex/gemini-2.5-flash")) {
      int sentBefore = setup.upstream().received().size();
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
          () -> setup.router().chat().chat(searching(model, EVERY_OPTION)));
      assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
      assertTrue(refused.getStatus().getDescription().startsWith(model.replace("/", " cannot honour "
          + "web_search.allowed_domains with model ")), refused.getStatus().getDescription());
      assertEquals(sentBefore, setup.upstream().received().size(), "nothing is sent upstream");
    }
  }

  @Test
  void aModelThatCannotSearchIsRefusedNamingItsProviderBeforeAnyRequest() {
    for (String model : List.of("openai/gpt-4o-mini", "oair/gpt-4.1-nano", "anthropic/claude-3-haiku-20240307",
        "vertex/claude-3-5-haiku@20241022", "gemini/gemini-1.5-flash")) {
      int sentBefore = setup.upstream().received().size();
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
          () -> setup.router().chat().chat(searching(model, WebSearch.getDefaultInstance())));
      assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
      assertTrue(refused.getStatus().getDescription().startsWith(model.replace("/", " cannot honour web_search "
          + "with model ")), refused.getStatus().getDescription());
      assertEquals(sentBefore, setup.upstream().received().size(), "nothing is sent upstream");
    }
  }

  @Test
  void theReadmeSearchIsReplayedByTheEmbeddedDefaultWithItsCitation(@TempDir Path dataDir) throws Exception {
    RouterConfig defaults = ConfigLoader.embeddedDefault(name -> null);
    ChatRequest.Builder readme = ChatRequest.newBuilder();
    JsonFormat.parser().merge("""
        {"model": "anthropic/claude-haiku-4-5", "webSearch": {},
         "messages": [{"role": "ROLE_USER", "parts": [{"text": "How tall is the Eiffel Tower?"}]}]}""", readme);
    Metadata scope = new Metadata();
    scope.put(Metadata.Key.of("x-cassette-scope", Metadata.ASCII_STRING_MARSHALLER), "web-search");
    try (RunningRouter router = RunningRouter.start(setup.vertx(), defaults
        .withCassettes(defaults.cassettes().withDir("../cassettes/recorded"))
        .withObservability(defaults.observability().withDataDir(dataDir.toString())))) {
      ChatResponse answer = router.chat().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(scope))
          .chat(readme.build());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, answer.getOrigin().getCassette());
      assertEquals("The Eiffel Tower is 330 metres (1,083 ft) tall, antennas included.", text(answer));
      Citation citation = answer.getMessage().getCitations(0);
      assertEquals("https://en.wikipedia.org/wiki/Eiffel_Tower", citation.getUrl());
      assertEquals("is 330 metres (1,083 ft) tall", text(answer).substring(citation.getStartIndex(),
          citation.getEndIndex()));
      assertEquals(1, answer.getUsage().getWebSearches());
      assertEquals((2150 * 1.00 + 42 * 5.00) / 1_000_000 + 10.00 / 1_000, answer.getUsage().getCostUsd(), 1e-12,
          "claude-haiku-4-5's tokens and one search at the bundled prices");
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> router.chat()
          .chat(readme.setModel("openai/gpt-4o-mini").build()));
      assertTrue(refused.getStatus().getDescription().startsWith("openai cannot honour web_search with model "
          + "gpt-4o-mini"), refused.getStatus().getDescription());
    }
  }

  @Test
  void theOpenAiChatDoorTakesWebSearchOptionsAndAnswersWithUrlCitations() {
    WireExchange exchange = WireExchange.own("websearch-openai").stream()
        .filter(e -> e.path().endsWith("/chat/completions")).findFirst().orElseThrow();
    setup.upstream().replay(exchange);
    Expected expected = expectedOf(exchange);
    IngressClient door = new IngressClient(setup.router().port());
    JsonNode options = exchange.request().path("web_search_options");
    String ask = "{\"model\": \"openai/gpt-4o-mini-search-preview\", \"web_search_options\": " + options
        + ", \"messages\": [{\"role\": \"user\", \"content\": \"What is the tallest building in Paris?\"}]";

    IngressClient.Reply whole = door.post("/v1/chat/completions", ask + "}");
    assertEquals(200, whole.status(), whole.body());
    assertEquals(options, read(setup.upstream().lastRequest().body()).path("web_search_options"),
        "the options go upstream as the caller wrote them");
    JsonNode message = whole.json().at("/choices/0/message");
    assertEquals(expected.text(), message.path("content").asText());
    List<JsonNode> wholeAnnotations = new ArrayList<>();
    message.path("annotations").forEach(wholeAnnotations::add);
    assertEquals(expected.citations().stream().map(WebSearchTest::urlCitation).toList(), wholeAnnotations);

    List<JsonNode> annotations = new ArrayList<>();
    for (IngressClient.ServerSentEvent event : door.post("/v1/chat/completions", ask + ", \"stream\": true}")
        .events()) {
      if (!event.data().equals("[DONE]")) {
        event.json().at("/choices/0/delta/annotations").forEach(annotations::add);
      }
    }
    assertEquals(expected.citations().stream().map(WebSearchTest::urlCitation).toList(), annotations);

    IngressClient.Reply badSize = door.post("/v1/chat/completions",
        ask.replace("\"low\"", "\"huge\"") + "}");
    assertEquals(400, badSize.status());
    assertTrue(badSize.body().contains("web_search_options.search_context_size"), badSize.body());
  }

  /** A citation as OpenAI's Chat Completions writes it. */
  private static JsonNode urlCitation(Citation citation) {
    return read("{\"type\": \"url_citation\", \"url_citation\": {\"start_index\": " + citation.getStartIndex()
        + ", \"end_index\": " + citation.getEndIndex() + ", \"title\": " + JSON.valueToTree(citation.getTitle())
        + ", \"url\": " + JSON.valueToTree(citation.getUrl()) + "}}");
  }

  private static String text(ChatResponse response) {
    return response.getMessage().getPartsList().stream().filter(Part::hasText).map(Part::getText)
        .collect(Collectors.joining());
  }

  /** What a recorded search answer amounts to: its text, its citations in the router's terms, its searches. */
  record Expected(String text, List<Citation> citations, long searches) {
  }

  private static Expected expectedOf(WireExchange exchange) {
    String folder = exchange.folder();
    if (folder.equals("websearch-anthropic")) {
      return anthropic(exchange);
    }
    if (folder.equals("websearch-gemini")) {
      return gemini(exchange);
    }
    return exchange.path().endsWith("/responses") ? responses(exchange) : openAiChat(exchange);
  }

  private static List<JsonNode> dataOf(WireExchange exchange) {
    if (!exchange.headers().getOrDefault("content-type", "").startsWith("text/event-stream")) {
      return List.of(read(exchange.body()));
    }
    return Arrays.stream(exchange.body().split("\r?\n")).filter(line -> line.startsWith("data:"))
        .map(line -> line.substring(5).trim()).filter(data -> !data.equals("[DONE]")).map(WebSearchTest::read)
        .toList();
  }

  private static JsonNode read(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int codePoints(CharSequence text) {
    return Character.codePointCount(text, 0, text.length());
  }

  // Chat Completions: the content (whole, or its deltas) and its url_citation annotations; no search count.
  private static Expected openAiChat(WireExchange exchange) {
    StringBuilder text = new StringBuilder();
    List<Citation> citations = new ArrayList<>();
    for (JsonNode data : dataOf(exchange)) {
      JsonNode choice = data.path("choices").path(0);
      JsonNode message = choice.has("message") ? choice.path("message") : choice.path("delta");
      text.append(message.path("content").asText(""));
      for (JsonNode annotation : message.path("annotations")) {
        JsonNode url = annotation.path("url_citation");
        citations.add(Citation.newBuilder().setUrl(url.path("url").asText()).setTitle(url.path("title").asText())
            .setStartIndex(url.path("start_index").asInt()).setEndIndex(url.path("end_index").asInt()).build());
      }
    }
    return new Expected(text.toString(), citations, 0);
  }

  // Responses: the final response's message parts, each part's annotations counted from where the part starts.
  private static Expected responses(WireExchange exchange) {
    List<JsonNode> data = dataOf(exchange);
    JsonNode response = data.get(0);
    for (JsonNode event : data) {
      if (event.path("response").isObject()) {
        response = event.path("response");
      }
    }
    StringBuilder text = new StringBuilder();
    List<Citation> citations = new ArrayList<>();
    long searches = 0;
    for (JsonNode item : response.path("output")) {
      searches += item.path("type").asText().equals("web_search_call") ? 1 : 0;
      for (JsonNode part : item.path("content")) {
        int start = codePoints(text);
        text.append(part.path("text").asText(""));
        for (JsonNode annotation : part.path("annotations")) {
          citations.add(Citation.newBuilder().setUrl(annotation.path("url").asText())
              .setTitle(annotation.path("title").asText()).setStartIndex(start + annotation.path("start_index")
                  .asInt()).setEndIndex(start + annotation.path("end_index").asInt()).build());
        }
      }
    }
    return new Expected(text.toString(), citations, searches);
  }

  // Messages: the text blocks (whole, or built from a stream's events); a block's citations cite the whole block.
  private static Expected anthropic(WireExchange exchange) {
    Map<Integer, JsonNode> blocks = new TreeMap<>();
    Map<Integer, StringBuilder> texts = new TreeMap<>();
    Map<Integer, List<JsonNode>> cited = new TreeMap<>();
    long searches = 0;
    for (JsonNode data : dataOf(exchange)) {
      switch (data.path("type").asText()) {
        case "message" -> {
          for (int i = 0; i < data.path("content").size(); i++) {
            JsonNode block = data.path("content").get(i);
            blocks.put(i, block);
            texts.put(i, new StringBuilder(block.path("text").asText("")));
            cited.put(i, new ArrayList<>());
            block.path("citations").forEach(cited.get(i)::add);
          }
          searches = data.path("usage").path("server_tool_use").path("web_search_requests").asLong();
        }
        case "content_block_start" -> {
          int i = data.path("index").asInt();
          blocks.put(i, data.path("content_block"));
          texts.put(i, new StringBuilder(data.path("content_block").path("text").asText("")));
          cited.put(i, new ArrayList<>());
        }
        case "content_block_delta" -> {
          JsonNode delta = data.path("delta");
          texts.get(data.path("index").asInt()).append(delta.path("text").asText(""));
          if (delta.has("citation")) {
            cited.get(data.path("index").asInt()).add(delta.path("citation"));
          }
        }
        case "message_delta", "message_start" -> {
          JsonNode usage = data.has("usage") ? data.path("usage") : data.path("message").path("usage");
          searches = usage.path("server_tool_use").path("web_search_requests").asLong(searches);
        }
        default -> {
        }
      }
    }
    StringBuilder text = new StringBuilder();
    List<Citation> citations = new ArrayList<>();
    blocks.forEach((i, block) -> {
      if (block.path("type").asText().equals("text")) {
        int start = codePoints(text);
        text.append(texts.get(i));
        for (JsonNode citation : cited.get(i)) {
          citations.add(Citation.newBuilder().setUrl(citation.path("url").asText())
              .setTitle(citation.path("title").asText()).setCitedText(citation.path("cited_text").asText())
              .setStartIndex(start).setEndIndex(codePoints(text)).build());
        }
      }
    });
    return new Expected(text.toString(), citations, searches);
  }

  // generateContent: the text parts that are not thoughts; the last grounding, its segments' byte offsets in code
  // points, and each segment's text the span of the answer it names.
  private static Expected gemini(WireExchange exchange) {
    StringBuilder text = new StringBuilder();
    JsonNode grounding = JSON.createObjectNode();
    for (JsonNode data : dataOf(exchange)) {
      JsonNode candidate = data.path("candidates").path(0);
      for (JsonNode part : candidate.path("content").path("parts")) {
        if (!part.path("thought").asBoolean(false)) {
          text.append(part.path("text").asText(""));
        }
      }
      if (!candidate.path("groundingMetadata").isEmpty()) {
        grounding = candidate.path("groundingMetadata");
      }
    }
    byte[] utf8 = text.toString().getBytes(StandardCharsets.UTF_8);
    List<Citation> citations = new ArrayList<>();
    for (JsonNode support : grounding.path("groundingSupports")) {
      JsonNode segment = support.path("segment");
      int start = codePoints(new String(utf8, 0, segment.path("startIndex").asInt(0), StandardCharsets.UTF_8));
      int end = codePoints(new String(utf8, 0, segment.path("endIndex").asInt(), StandardCharsets.UTF_8));
      assertEquals(segment.path("text").asText(), text.toString().substring(text.offsetByCodePoints(0, start),
          text.offsetByCodePoints(0, end)), "the segment's offsets locate its text");
      for (JsonNode index : support.path("groundingChunkIndices")) {
        JsonNode web = grounding.path("groundingChunks").path(index.asInt()).path("web");
        citations.add(Citation.newBuilder().setUrl(web.path("uri").asText()).setTitle(web.path("title").asText())
            .setStartIndex(start).setEndIndex(end).setCitedText(segment.path("text").asText()).build());
      }
    }
    return new Expected(text.toString(), citations, grounding.path("webSearchQueries").size());
  }
}
