package dev.llmrouter.server.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ReasoningEffort;
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.ResponseFormatType;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.api.v1.WebSearch;
import dev.llmrouter.server.testing.GeminiWire;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.AnthropicWire;
import dev.llmrouter.server.testing.AzureOpenAiWire;
import dev.llmrouter.server.testing.BedrockWire;
import dev.llmrouter.server.testing.CohereWire;
import dev.llmrouter.server.testing.OpenAiResponsesWire;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.ProviderWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.VertexWire;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The conformance suite every adapter runs: each recorded exchange of its wire format (the shared corpus of real
 * traffic, and this project's own samples) is served byte for byte by a local upstream, through the real router,
 * with `Chat` and with `StreamChat`. The answer must equal what the recording says, and the request the adapter
 * sent must equal the recorded one.
 *
 * <p>The negative cases are switched by what each adapter declares of the exchange's model: a setting it cannot
 * honour is refused with INVALID_ARGUMENT naming it and the provider, and nothing is sent; with dropping allowed the
 * recorded exchange goes through unchanged (the setting left out) and the answer's origin names what was dropped. A
 * model that cannot search the web refuses `web_search`, dropping allowed or not.
 */
class ProviderConformanceTest {

  /** Every adapter's test-side wire knowledge; a new adapter adds itself here. */
  static final List<ProviderWire> WIRES = List.of(new OpenAiWire(), new AzureOpenAiWire(), new AnthropicWire(),
      new GeminiWire(), new CohereWire(), new OpenAiResponsesWire(), new VertexWire(),
      new BedrockWire());

  private static final Map<Integer, Status.Code> STATUS_OF_HTTP = Map.of(
      400, Status.Code.INVALID_ARGUMENT, 401, Status.Code.FAILED_PRECONDITION, 403, Status.Code.FAILED_PRECONDITION,
      404, Status.Code.NOT_FOUND, 429, Status.Code.RESOURCE_EXHAUSTED, 500, Status.Code.UNAVAILABLE,
      529, Status.Code.UNAVAILABLE);

  private static final ManualClock CLOCK = new ManualClock();
  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("cassettes: { mode: \"off\" }\n"
        // Adapters are tested here, not resilience: one attempt, and no circuit opened by the error cases.
        + "retry: { max_attempts: 1 }\ncircuit_breaker: { failure_threshold: 1000 }\nproviders:\n"
        + WIRES.stream().map(w -> w.providersYaml("%1$s")).collect(Collectors.joining()), CLOCK);
  }

  @BeforeEach
  void pastEveryRetryAfter() {
    CLOCK.advance(Duration.ofDays(1)); // a recorded 429 leaves its deployment rate-limited: not for the next exchange
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  /** A value a caller would give each setting. */
  private static final Map<String, UnaryOperator<ChatRequest.Builder>> SETTING_VALUES = Map.of(
      CapabilityCheck.TEMPERATURE, r -> r.setSettings(r.getSettings().toBuilder().setTemperature(0.5)),
      CapabilityCheck.TOP_P, r -> r.setSettings(r.getSettings().toBuilder().setTopP(0.9)),
      CapabilityCheck.MAX_OUTPUT_TOKENS, r -> r.setSettings(r.getSettings().toBuilder().setMaxOutputTokens(100)),
      CapabilityCheck.STOP_SEQUENCES, r -> r.setSettings(r.getSettings().toBuilder().addStopSequences("END")),
      CapabilityCheck.SEED, r -> r.setSettings(r.getSettings().toBuilder().setSeed(42)),
      CapabilityCheck.PRESENCE_PENALTY, r -> r.setSettings(r.getSettings().toBuilder().setPresencePenalty(0.5)),
      CapabilityCheck.FREQUENCY_PENALTY, r -> r.setSettings(r.getSettings().toBuilder().setFrequencyPenalty(0.5)),
      CapabilityCheck.REASONING_EFFORT, r -> r.setSettings(r.getSettings().toBuilder()
          .setReasoningEffort(ReasoningEffort.REASONING_EFFORT_LOW)),
      CapabilityCheck.PARALLEL_TOOL_CALLS, r -> r.setParallelToolCalls(false));

  static Stream<Arguments> exchanges() {
    return WIRES.stream().flatMap(wire -> exchangesOf(wire).map(exchange -> Arguments.of(wire, exchange)));
  }

  static Stream<WireExchange> exchangesOf(ProviderWire wire) {
    return wire.folders().stream()
        .flatMap(folder -> Stream.concat(WireExchange.own(folder).stream(), WireExchange.shared(folder).stream()))
        .filter(wire::speaks);
  }

  /**
   * For each wire and each setting some exchange's model cannot honour: the first such exchange whose request sets
   * nothing else its model lacks, a successful one when there is one (so that the answer's origin can be checked).
   */
  static Stream<Arguments> unsupportedSettings() {
    assertEquals(Set.copyOf(CapabilityCheck.SETTINGS), SETTING_VALUES.keySet(), "every setting has a test value");
    return WIRES.stream().flatMap(wire -> CapabilityCheck.SETTINGS.stream().flatMap(setting -> exchangesOf(wire)
        .filter(exchange -> {
          ChatRequest request = wire.requestFor(exchange);
          Capabilities capabilities = capabilitiesOf(wire, request);
          return !capabilities.getSettingsList().contains(setting)
              && CapabilityCheck.unsupportedSettings(request, capabilities).isEmpty();
        })
        .sorted(Comparator.comparing(exchange -> wire.statusOf(exchange) != 200)).limit(1)
        .map(exchange -> Arguments.of(wire, setting, exchange))));
  }

  /** For each wire whose exchanges' models lack a JSON object mode: its first successful exchange. */
  static Stream<Arguments> withoutJsonObjectMode() {
    return WIRES.stream().flatMap(wire -> exchangesOf(wire)
        .filter(exchange -> wire.statusOf(exchange) == 200
            && !capabilitiesOf(wire, wire.requestFor(exchange)).getJsonObject())
        .limit(1).map(exchange -> Arguments.of(wire, exchange)));
  }

  /** For each wire whose exchanges' models cannot search the web: its first successful exchange. */
  static Stream<Arguments> withoutWebSearch() {
    return WIRES.stream().flatMap(wire -> exchangesOf(wire)
        .filter(exchange -> wire.statusOf(exchange) == 200
            && !capabilitiesOf(wire, wire.requestFor(exchange)).getWebSearch())
        .limit(1).map(exchange -> Arguments.of(wire, exchange)));
  }

  private static Capabilities capabilitiesOf(ProviderWire wire, ChatRequest request) {
    return wire.capabilitiesOf(request);
  }

  @Test
  void everyProviderTypeHasAWire() {
    assertEquals(ProviderTypes.names(), WIRES.stream().map(ProviderWire::type).collect(Collectors.toSet()));
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

  @ParameterizedTest(name = "{0} refuses {1}: {2}")
  @MethodSource("unsupportedSettings")
  void anUnsupportedSettingIsRefusedNamingItAndTheProvider(ProviderWire wire, String setting, WireExchange exchange) {
    int sentBefore = setup.upstream().received().size();
    ChatRequest request = SETTING_VALUES.get(setting).apply(wire.requestFor(exchange).toBuilder()).build();
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> setup.router().chat().chat(request));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode(), error.getMessage());
    String provider = wire.providerFor(exchange);
    assertTrue(error.getStatus().getDescription().startsWith(provider + " cannot honour " + setting + " "),
        error.getStatus().getDescription());
    assertEquals(sentBefore, setup.upstream().received().size(), "nothing is sent upstream");
  }

  @ParameterizedTest(name = "{0} drops {1}: {2}")
  @MethodSource("unsupportedSettings")
  void withDroppingAllowedTheSettingIsLeftOutAndTheOriginSaysSo(ProviderWire wire, String setting,
      WireExchange exchange) {
    ChatRequest request = SETTING_VALUES.get(setting).apply(serve(wire, exchange).toBuilder())
        .setDropUnsupportedSettings(true).build();
    if (wire.statusOf(exchange) != 200) {
      assertFailsLikeRecording(wire, exchange, () -> setup.router().chat().chat(request));
    } else {
      ChatResponse answer = setup.router().chat().chat(request);
      assertAnswerEqualsRecording(wire, exchange, answer);
      assertEquals(List.of(setting), answer.getOrigin().getDroppedSettingsList());
      List<ChatEvent> events = new ArrayList<>();
      setup.router().chat().streamChat(request).forEachRemaining(events::add);
      assertEquals(List.of(setting), events.get(0).getStart().getOrigin().getDroppedSettingsList());
      assertEquals(List.of(setting), events.get(events.size() - 1).getDone().getResponse().getOrigin()
          .getDroppedSettingsList());
    }
    // The recorded request, which does not have the setting: it was left out.
    wire.assertSent(exchange, setup.upstream().lastRequest(), wire.statusOf(exchange) == 200);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("withoutJsonObjectMode")
  void aResponseFormatTheModelLacksIsRefusedEvenWithDroppingAllowed(ProviderWire wire, WireExchange exchange) {
    int sentBefore = setup.upstream().received().size();
    ChatRequest request = wire.requestFor(exchange).toBuilder().setDropUnsupportedSettings(true)
        .setResponseFormat(ResponseFormat.newBuilder().setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_OBJECT))
        .build();
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> setup.router().chat().chat(request));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode(), error.getMessage());
    assertTrue(error.getStatus().getDescription().startsWith(wire.providerFor(exchange) + " cannot honour "
        + "response_format"), error.getStatus().getDescription());
    assertEquals(sentBefore, setup.upstream().received().size(), "nothing is sent upstream");
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("withoutWebSearch")
  void webSearchOnAModelWithoutItIsRefusedBeforeAnyRequest(ProviderWire wire, WireExchange exchange) {
    int sentBefore = setup.upstream().received().size();
    ChatRequest request = wire.requestFor(exchange).toBuilder().setDropUnsupportedSettings(true)
        .setWebSearch(WebSearch.getDefaultInstance()).build();
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> setup.router().chat().chat(request));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode(), error.getMessage());
    assertTrue(error.getStatus().getDescription().startsWith(wire.providerFor(exchange) + " cannot honour "
        + "web_search"), error.getStatus().getDescription());
    assertEquals(sentBefore, setup.upstream().received().size(), "nothing is sent upstream");
  }

  private static ChatRequest serve(ProviderWire wire, WireExchange exchange) {
    setup.upstream().replay(exchange);
    // Past the context-window check: some recordings are the host refusing a request for its size.
    return wire.requestFor(exchange).toBuilder().setSkipContextCheck(true).build();
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
