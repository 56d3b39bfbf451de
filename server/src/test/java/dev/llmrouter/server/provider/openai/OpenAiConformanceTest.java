package dev.llmrouter.server.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every recorded OpenAI-format exchange (the shared corpus of real traffic, and this project's own samples) served
 * byte for byte by a local upstream, through the real router, with `Chat` and with `StreamChat`: the answer must
 * equal what the recording says, and the JSON the adapter sent must equal the recorded request.
 */
class OpenAiConformanceTest {

  private static final Map<Integer, Status.Code> STATUS_OF_HTTP = Map.of(
      400, Status.Code.INVALID_ARGUMENT, 401, Status.Code.FAILED_PRECONDITION, 404, Status.Code.NOT_FOUND,
      429, Status.Code.RESOURCE_EXHAUSTED, 500, Status.Code.UNAVAILABLE);

  private static Vertx vertx;
  private static MockUpstream upstream;
  private static RunningRouter router;

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    // One deployment per path prefix of the corpus: OpenAI itself, and Groq's OpenAI-compatible API.
    setup = RouterWithUpstream.start("""
        cassettes: { mode: off }
        providers:
          - { name: openai, type: openai, base_url: "%1$s/v1", api_key: "${TEST_API_KEY}" }
          - { name: groq, type: openai, base_url: "%1$s/openai/v1", api_key: "${TEST_API_KEY}" }
        """);
    vertx = setup.vertx();
    upstream = setup.upstream();
    router = setup.router();
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  static Stream<WireExchange> exchanges() {
    return Stream.of(WireExchange.own("openai-chat"), WireExchange.shared("openai-chat"), WireExchange.shared("groq"))
        .flatMap(List::stream);
  }

  @Test
  void sharedCorpusIsPresent() {
    assumeTrue(WireExchange.sharedCorpus().isPresent(),
        "../shared/conformance is not beside this checkout: the real-traffic exchanges were skipped, "
            + "only the project's own wire samples ran");
    assertFalse(WireExchange.shared("openai-chat").isEmpty());
    assertFalse(WireExchange.shared("groq").isEmpty());
  }

  @ParameterizedTest(name = "Chat {0}")
  @MethodSource("exchanges")
  void chat(WireExchange exchange) {
    ChatRequest request = serve(exchange);
    if (exchange.status() != 200) {
      assertFailsLikeRecording(exchange, () -> router.chat().chat(request));
    } else {
      assertAnswerEqualsRecording(exchange, router.chat().chat(request));
    }
    assertSentRecordedRequest(exchange, false);
  }

  @ParameterizedTest(name = "StreamChat {0}")
  @MethodSource("exchanges")
  void streamChat(WireExchange exchange) {
    ChatRequest request = serve(exchange);
    if (exchange.status() != 200) {
      assertFailsLikeRecording(exchange, () -> {
        router.chat().streamChat(request).forEachRemaining(e -> { });
        return null;
      });
    } else {
      List<ChatEvent> events = new ArrayList<>();
      router.chat().streamChat(request).forEachRemaining(events::add);
      assertTrue(events.get(0).hasStart(), "the first event is start");
      ChatEvent last = events.get(events.size() - 1);
      assertTrue(last.hasDone(), "the last event is done");
      ChatResponse response = last.getDone().getResponse();
      assertAnswerEqualsRecording(exchange, response);
      assertEquals(text(response), events.stream().filter(ChatEvent::hasTextDelta)
          .map(e -> e.getTextDelta().getText()).collect(Collectors.joining()), "text deltas concatenate to the text");
      assertEquals(response.getMessage().getToolCallsList(), toolCallsFromDeltas(events),
          "tool-call deltas join to the tool calls");
    }
    assertSentRecordedRequest(exchange, true);
  }

  private ChatRequest serve(WireExchange exchange) {
    upstream.answer(r -> {
      var response = r.response().setStatusCode(exchange.status());
      exchange.headers().forEach(response::putHeader);
      response.end(exchange.body());
    });
    return OpenAiWire.requestFor(exchange.request(), exchange.path().startsWith("/openai/") ? "groq" : "openai");
  }

  private static void assertAnswerEqualsRecording(WireExchange exchange, ChatResponse response) {
    OpenAiWire.Answer expected = OpenAiWire.answerOf(exchange);
    assertEquals(expected.text(), text(response), "text");
    assertEquals(expected.refusal(), part(response, Part::hasRefusal, Part::getRefusal), "refusal");
    assertEquals(expected.reasoning(), part(response, Part::hasReasoning, p -> p.getReasoning().getText()), "reasoning");
    assertEquals(expected.toolCalls(), response.getMessage().getToolCallsList(), "tool calls");
    assertEquals(expected.usage() == null ? dev.llmrouter.api.v1.Usage.getDefaultInstance() : expected.usage(),
        response.getUsage(), "usage");
    assertEquals(expected.finishReason(), response.getFinishReason(), "finish reason");
    assertEquals(expected.id(), response.getId(), "id");
    assertEquals(expected.model(), response.getModel(), "model");
  }

  private static void assertFailsLikeRecording(WireExchange exchange, java.util.concurrent.Callable<?> call) {
    StatusRuntimeException error = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        call::call);
    assertEquals(STATUS_OF_HTTP.get(exchange.status()), error.getStatus().getCode(), error.getMessage());
    assertTrue(error.getStatus().getDescription().contains(OpenAiWire.errorMessageOf(exchange)),
        "the provider's message reaches the caller: " + error.getStatus().getDescription());
  }

  private static void assertSentRecordedRequest(WireExchange exchange, boolean streamed) {
    MockUpstream.Received sent = upstream.lastRequest();
    assertEquals(exchange.path(), sent.uri());
    assertEquals("Bearer " + RunningRouter.TEST_KEY, sent.headers().get("authorization"));
    JsonNode body = OpenAiWire.read(sent.body());
    assertEquals(streamed, body.path("stream").asBoolean());
    assertEquals(streamed, body.path("stream_options").path("include_usage").asBoolean(false));
    assertEquals(OpenAiWire.read(OpenAiWire.comparable(exchange.request()).toString()),
        OpenAiWire.read(OpenAiWire.comparable(body).toString()), "the adapter sends the recorded request");
  }

  private static String text(ChatResponse response) {
    return part(response, Part::hasText, Part::getText);
  }

  private static String part(ChatResponse response, java.util.function.Predicate<Part> kind,
      java.util.function.Function<Part, String> value) {
    return response.getMessage().getPartsList().stream().filter(kind).map(value).collect(Collectors.joining());
  }

  private static List<ToolCall> toolCallsFromDeltas(List<ChatEvent> events) {
    java.util.TreeMap<Integer, ToolCall.Builder> calls = new java.util.TreeMap<>();
    for (Iterator<ChatEvent> it = events.iterator(); it.hasNext(); ) {
      ChatEvent e = it.next();
      if (e.hasToolCallDelta()) {
        var d = e.getToolCallDelta();
        ToolCall.Builder b = calls.computeIfAbsent(d.getIndex(), i -> ToolCall.newBuilder());
        if (!d.getId().isEmpty()) {
          b.setId(d.getId());
        }
        b.setName(b.getName() + d.getName()).setArgumentsJson(b.getArgumentsJson() + d.getArgumentsDelta());
      }
    }
    return calls.values().stream().map(ToolCall.Builder::build).toList();
  }
}
