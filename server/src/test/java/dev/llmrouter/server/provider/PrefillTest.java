package dev.llmrouter.server.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import com.google.protobuf.util.JsonFormat;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.testing.AnthropicWire;
import dev.llmrouter.server.testing.ProviderWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.Status;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Prefill, a request whose last message is the assistant's: the adapters that declare `prefill` send it and the
 * answer is the continuation alone, with `origin.prefilled` set, through Chat and StreamChat, live and replayed (the
 * exchanges are every wire's prefill samples, own and shared); every other adapter refuses it, naming its provider,
 * before anything is sent.
 */
class PrefillTest {

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("cassettes: { mode: \"off\" }\nretry: { max_attempts: 1 }\nproviders:\n"
        + ProviderConformanceTest.WIRES.stream().map(w -> w.providersYaml("%1$s")).collect(Collectors.joining()));
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  static Stream<Arguments> prefillExchanges() {
    return ProviderConformanceTest.WIRES.stream().flatMap(wire -> ProviderConformanceTest.exchangesOf(wire)
        .filter(exchange -> CapabilityCheck.isPrefill(wire.requestFor(exchange)))
        .map(exchange -> Arguments.of(wire, exchange)));
  }

  /** Each wire's first successful exchange that is not a prefill: it is made one by adding an assistant message. */
  static Stream<Arguments> eachWire() {
    return ProviderConformanceTest.WIRES.stream().flatMap(wire -> ProviderConformanceTest.exchangesOf(wire)
        .filter(exchange -> wire.statusOf(exchange) == 200 && !CapabilityCheck.isPrefill(wire.requestFor(exchange)))
        .limit(1).map(exchange -> Arguments.of(wire, exchange)));
  }

  private static String text(ChatResponse response) {
    return response.getMessage().getPartsList().stream().filter(Part::hasText).map(Part::getText)
        .collect(Collectors.joining());
  }

  private static String prefillOf(ChatRequest request) {
    return text(ChatResponse.newBuilder().setMessage(request.getMessages(request.getMessagesCount() - 1)).build());
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("prefillExchanges")
  void theAnswerIsTheContinuationAndSaysThePrefillWasApplied(ProviderWire wire, WireExchange exchange) {
    setup.upstream().replay(exchange);
    ChatRequest request = wire.requestFor(exchange);
    ChatResponse answer = setup.router().chat().chat(request);
    assertEquals(wire.answerOf(exchange).text(), text(answer), "the continuation, as the provider sent it");
    assertFalse(text(answer).startsWith(prefillOf(request)), "the prefill is not repeated");
    assertTrue(answer.getOrigin().getPrefilled());
    wire.assertSent(exchange, setup.upstream().lastRequest(), false);

    List<ChatEvent> events = new ArrayList<>();
    setup.router().chat().streamChat(request).forEachRemaining(events::add);
    assertTrue(events.get(0).getStart().getOrigin().getPrefilled());
    ChatResponse done = events.get(events.size() - 1).getDone().getResponse();
    assertTrue(done.getOrigin().getPrefilled());
    assertEquals(text(answer), events.stream().filter(ChatEvent::hasTextDelta).map(e -> e.getTextDelta().getText())
        .collect(Collectors.joining()));
    wire.assertSent(exchange, setup.upstream().lastRequest(), true);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("eachWire")
  void aProviderThatCannotContinueAPrefillRefusesItNamingItself(ProviderWire wire, WireExchange exchange) {
    ChatRequest request = wire.requestFor(exchange).toBuilder().addMessages(Message.newBuilder()
        .setRole(Role.ROLE_ASSISTANT).addParts(Part.newBuilder().setText("The answer is"))).build();
    String model = request.getModel().substring(request.getModel().indexOf('/') + 1);
    if (wire.capabilitiesOf(request).getPrefill()) {
      assertTrue(prefillExchanges().anyMatch(arguments -> arguments.get()[0] == wire),
          wire.type() + " declares prefill: it needs a prefill sample under wire/" + wire.folders());
      return;
    }
    int sentBefore = setup.upstream().received().size();
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> setup.router().chat().chat(request));
    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().startsWith(wire.providerFor(exchange) + " cannot honour prefill "
        + "with model " + model), refused.getStatus().getDescription());
    assertEquals(sentBefore, setup.upstream().received().size(), "nothing is sent upstream");
  }

  @Test
  void theReadmePrefillIsReplayedByTheEmbeddedDefault(@TempDir Path dataDir) throws Exception {
    RouterConfig defaults = ConfigLoader.embeddedDefault(name -> null);
    ChatRequest.Builder readme = ChatRequest.newBuilder();
    JsonFormat.parser().merge("""
        {"model": "anthropic/claude-haiku-4-5", "messages": [
          {"role": "ROLE_USER", "parts": [{"text": "List the three primary colours as a JSON array."}]},
          {"role": "ROLE_ASSISTANT", "parts": [{"text": "["}]}]}""", readme);
    Metadata scope = new Metadata();
    scope.put(Metadata.Key.of("x-cassette-scope", Metadata.ASCII_STRING_MARSHALLER), "prefill");
    try (RunningRouter router = RunningRouter.start(setup.vertx(), defaults
        .withCassettes(defaults.cassettes().withDir("../cassettes/recorded"))
        .withObservability(defaults.observability().withDataDir(dataDir.toString())))) {
      ChatResponse answer = router.chat().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(scope))
          .chat(readme.build());
      assertEquals("\"red\", \"yellow\", \"blue\"]", text(answer));
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, answer.getOrigin().getCassette());
      assertTrue(answer.getOrigin().getPrefilled());
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> router.chat()
          .chat(readme.setModel("openai/gpt-4o-mini").build()));
      assertTrue(refused.getStatus().getDescription().startsWith("openai cannot honour prefill with model "
          + "gpt-4o-mini"), refused.getStatus().getDescription());
    }
  }

  @Test
  void aReplayedContinuationSaysThePrefillWasAppliedToo(@TempDir Path cassettes) throws Exception {
    AnthropicWire wire = new AnthropicWire();
    WireExchange exchange = WireExchange.own("anthropic").stream()
        .filter(e -> e.name().contains("prefill") && e.name().contains("nonstream")).findFirst().orElseThrow();
    try (RouterWithUpstream recording = RouterWithUpstream.start("cassettes: { dir: \"" + cassettes
        + "\", mode: auto }\nproviders:\n" + wire.providersYaml("%1$s"))) {
      recording.upstream().replay(exchange);
      ChatRequest request = wire.requestFor(exchange);
      ChatResponse recorded = recording.router().chat().chat(request);
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, recorded.getOrigin().getCassette());
      assertTrue(recorded.getOrigin().getPrefilled());
      List<ChatEvent> replayed = new ArrayList<>();
      recording.router().chat().streamChat(request).forEachRemaining(replayed::add);
      ChatResponse done = replayed.get(replayed.size() - 1).getDone().getResponse();
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, done.getOrigin().getCassette());
      assertTrue(done.getOrigin().getPrefilled());
      assertTrue(replayed.get(0).getStart().getOrigin().getPrefilled());
      assertEquals(text(recorded), text(done));
      assertEquals(1, recording.upstream().received().size());
    }
  }
}
