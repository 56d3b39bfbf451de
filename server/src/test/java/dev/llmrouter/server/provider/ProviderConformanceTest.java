package dev.llmrouter.server.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.testing.GeminiWire;
import dev.llmrouter.server.testing.AnthropicWire;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.ProviderWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The conformance suite every adapter runs: each recorded exchange of its wire format (the shared corpus of real
 * traffic, and this project's own samples) is served byte for byte by a local upstream, through the real router,
 * with `Chat` and with `StreamChat`. The answer must equal what the recording says, and the request the adapter
 * sent must equal the recorded one.
 */
class ProviderConformanceTest {

  /** Every adapter's test-side wire knowledge; a new adapter adds itself here. */
  static final List<ProviderWire> WIRES = List.of(new OpenAiWire(), new AnthropicWire(), new GeminiWire());

  private static final Map<Integer, Status.Code> STATUS_OF_HTTP = Map.of(
      400, Status.Code.INVALID_ARGUMENT, 401, Status.Code.FAILED_PRECONDITION, 403, Status.Code.FAILED_PRECONDITION,
      404, Status.Code.NOT_FOUND, 429, Status.Code.RESOURCE_EXHAUSTED, 500, Status.Code.UNAVAILABLE,
      529, Status.Code.UNAVAILABLE);

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("cassettes: { mode: \"off\" }\n"
        // Adapters are tested here, not resilience: one attempt, and no circuit opened by the error cases.
        + "retry: { max_attempts: 1 }\ncircuit_breaker: { failure_threshold: 1000 }\nproviders:\n"
        + WIRES.stream().map(w -> w.providersYaml("%1$s")).collect(Collectors.joining()));
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  static Stream<Arguments> exchanges() {
    return WIRES.stream().flatMap(wire -> wire.folders().stream()
        .flatMap(folder -> Stream.concat(WireExchange.own(folder).stream(), WireExchange.shared(folder).stream()))
        .filter(wire::speaks).map(exchange -> Arguments.of(wire, exchange)));
  }

  @Test
  void sharedCorpusIsPresent() {
    assumeTrue(WireExchange.sharedCorpus().isPresent(),
        "../shared/conformance is not beside this checkout: the real-traffic exchanges were skipped, "
            + "only the project's own wire samples ran");
    for (ProviderWire wire : WIRES) {
      assertFalse(wire.folders().stream().allMatch(f -> WireExchange.shared(f).isEmpty()), wire.type());
    }
  }

  @ParameterizedTest(name = "Chat {1}")
  @MethodSource("exchanges")
  void chat(ProviderWire wire, WireExchange exchange) {
    ChatRequest request = serve(wire, exchange);
    if (wire.statusOf(exchange) != 200) {
      assertFailsLikeRecording(wire, exchange, () -> setup.router().chat().chat(request));
    } else {
      assertAnswerEqualsRecording(wire, exchange, setup.router().chat().chat(request));
    }
    wire.assertSent(exchange, setup.upstream().lastRequest(), false);
  }

  @ParameterizedTest(name = "StreamChat {1}")
  @MethodSource("exchanges")
  void streamChat(ProviderWire wire, WireExchange exchange) {
    ChatRequest request = serve(wire, exchange);
    if (wire.statusOf(exchange) != 200) {
      assertFailsLikeRecording(wire, exchange, () -> {
        setup.router().chat().streamChat(request).forEachRemaining(e -> { });
        return null;
      });
    } else {
      List<ChatEvent> events = new ArrayList<>();
      setup.router().chat().streamChat(request).forEachRemaining(events::add);
      assertTrue(events.get(0).hasStart(), "the first event is start");
      ChatEvent last = events.get(events.size() - 1);
      assertTrue(last.hasDone(), "the last event is done");
      ChatResponse response = last.getDone().getResponse();
      assertAnswerEqualsRecording(wire, exchange, response);
      assertEquals(part(response, Part::hasText, Part::getText), events.stream().filter(ChatEvent::hasTextDelta)
          .map(e -> e.getTextDelta().getText()).collect(Collectors.joining()), "text deltas concatenate to the text");
      assertEquals(response.getMessage().getToolCallsList(), toolCallsFromDeltas(events),
          "tool-call deltas join to the tool calls");
    }
    wire.assertSent(exchange, setup.upstream().lastRequest(), true);
  }

  private static ChatRequest serve(ProviderWire wire, WireExchange exchange) {
    setup.upstream().answer(r -> {
      var response = r.response().setStatusCode(exchange.status());
      exchange.headers().forEach(response::putHeader);
      response.end(exchange.body());
    });
    return wire.requestFor(exchange);
  }

  private static void assertAnswerEqualsRecording(ProviderWire wire, WireExchange exchange, ChatResponse response) {
    ProviderWire.Answer expected = wire.answerOf(exchange);
    assertEquals(expected.text(), part(response, Part::hasText, Part::getText), "text");
    assertEquals(expected.refusal(), part(response, Part::hasRefusal, Part::getRefusal), "refusal");
    assertEquals(expected.reasoning(), part(response, Part::hasReasoning, p -> p.getReasoning().getText()),
        "reasoning");
    assertEquals(expected.reasoningSignature(), part(response, Part::hasReasoning,
        p -> p.getReasoning().getSignature()), "reasoning signature");
    assertEquals(expected.toolCalls(), response.getMessage().getToolCallsList(), "tool calls");
    // The cost comes from the router's price table, not the provider: PriceTableTest and ObservabilityTest check it.
    assertEquals(expected.usage() == null ? Usage.getDefaultInstance() : expected.usage(),
        response.getUsage().toBuilder().clearCostUsd().build(), "usage");
    assertEquals(expected.finishReason(), response.getFinishReason(), "finish reason");
    assertEquals(expected.id(), response.getId(), "id");
    assertEquals(expected.model(), response.getModel(), "model");
  }

  private static void assertFailsLikeRecording(ProviderWire wire, WireExchange exchange, Callable<?> call) {
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, call::call);
    assertEquals(STATUS_OF_HTTP.get(wire.statusOf(exchange)), error.getStatus().getCode(), error.getMessage());
    assertTrue(error.getStatus().getDescription().contains(wire.errorMessageOf(exchange)),
        "the provider's message reaches the caller: " + error.getStatus().getDescription());
  }

  private static String part(ChatResponse response, Predicate<Part> kind, Function<Part, String> value) {
    return response.getMessage().getPartsList().stream().filter(kind).map(value).collect(Collectors.joining());
  }

  private static List<ToolCall> toolCallsFromDeltas(List<ChatEvent> events) {
    TreeMap<Integer, ToolCall.Builder> calls = new TreeMap<>();
    for (ChatEvent e : events) {
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
