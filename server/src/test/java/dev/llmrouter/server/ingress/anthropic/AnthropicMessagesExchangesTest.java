package dev.llmrouter.server.ingress.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.testing.AnthropicWire;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.ProviderWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every recorded Anthropic exchange (the shared corpus of real traffic and the project's own samples), sent by an
 * Anthropic caller through the router's HTTP door to an Anthropic upstream replaying it: the upstream receives the
 * recorded request as the caller wrote it, the caller gets the recorded answer back in Anthropic's shape (read by
 * the test-side wire reader, as if the router were Anthropic), and the same call over gRPC shares its cassette.
 */
class AnthropicMessagesExchangesTest {

  private static final AnthropicWire WIRE = new AnthropicWire();
  private static final ManualClock CLOCK = new ManualClock();
  private static final String CALLER_KEY = "sk-ant-caller-key-never-forwarded";

  @TempDir
  static Path cassettes;
  private static RouterWithUpstream setup;
  private static IngressClient http;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("cassettes: { dir: \"" + cassettes + "\", mode: \"off\", "
        + "allow_mode_override: true }\n"
        // One attempt, and no circuit opened by the error cases: each exchange is answered as recorded.
        + "retry: { max_attempts: 1 }\ncircuit_breaker: { failure_threshold: 1000 }\nproviders:\n"
        + WIRE.providersYaml("%1$s"), CLOCK);
    http = new IngressClient(setup.router().port());
  }

  @BeforeEach
  void pastEveryRetryAfter() {
    CLOCK.advance(Duration.ofDays(1)); // a recorded 429 leaves its deployment rate-limited: not for the next exchange
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  static Stream<WireExchange> exchanges() {
    return Stream.concat(WireExchange.own("anthropic").stream(), WireExchange.shared("anthropic").stream())
        .filter(WIRE::speaks);
  }

  static Stream<Arguments> exchangesStreamedOrNot() {
    return exchanges().flatMap(e -> Stream.of(Arguments.of(e, false), Arguments.of(e, true)));
  }

  /** The exchanges with a recorded request and answer, which a cassette can hold. */
  static Stream<WireExchange> recordedAnswers() {
    return exchanges().filter(e -> e.request().isObject() && WIRE.statusOf(e) == 200);
  }

  @Test
  void sharedCorpusIsPresent() {
    assumeTrue(WireExchange.sharedCorpus().isPresent(), "../shared/conformance is not beside this checkout: only "
        + "the project's own Anthropic samples ran through the HTTP door");
    assertFalse(WireExchange.shared("anthropic").isEmpty());
  }

  @ParameterizedTest(name = "{0}, stream {1}")
  @MethodSource("exchangesStreamedOrNot")
  void theUpstreamGetsTheRecordedRequestAndTheCallerTheRecordedAnswer(WireExchange exchange, boolean stream) {
    setup.upstream().replay(exchange);
    int sentBefore = setup.upstream().received().size();
    IngressClient.Reply reply = http.post("/v1/messages", bodyOf(exchange, stream).toString(),
        "anthropic-version", "2023-06-01", "x-api-key", CALLER_KEY);
    if (setup.upstream().received().size() == sentBefore) {
      // A request that is not of the Messages shape: refused by the router as by Anthropic, and never sent.
      assertEquals(400, WIRE.statusOf(exchange), reply.body());
      assertEquals(400, reply.status(), reply.body());
      assertEquals("invalid_request_error", reply.json().path("error").path("type").asText(), reply.body());
      return;
    }
    WIRE.assertSent(exchange, setup.upstream().lastRequest(), stream);
    assertFalse(setup.upstream().lastRequest().headers().contains("authorization"));
    assertFalse(setup.upstream().lastRequest().body().contains(CALLER_KEY), "the caller's key is never sent on");
    if (WIRE.statusOf(exchange) != 200) {
      assertFailsLikeRecording(exchange, reply);
      return;
    }
    assertEquals(200, reply.status(), reply.body());
    if (stream) {
      assertEquals("text/event-stream", reply.header("content-type"));
      AnthropicStreams.assertWellFormed(reply.events());
    }
    ProviderWire.Answer expected = WIRE.answerOf(exchange);
    ProviderWire.Answer received = WIRE.answerOf(new WireExchange(exchange.name(), exchange.endpoint(),
        exchange.request(), reply.status(), Map.of("content-type", reply.header("content-type")), reply.body()));
    assertEquals(withArgumentsAsJson(expected), withArgumentsAsJson(received), "the answer, read back as Anthropic's");
  }

  /** The answer with each tool call's arguments in one JSON form: a whole message holds them as an object. */
  private static ProviderWire.Answer withArgumentsAsJson(ProviderWire.Answer answer) {
    return new ProviderWire.Answer(answer.text(), answer.refusal(), answer.reasoning(), answer.reasoningSignature(),
        answer.toolCalls().stream().map(call -> call.toBuilder()
            .setArgumentsJson(OpenAiWire.read(call.getArgumentsJson()).toString()).build()).toList(),
        answer.usage(), answer.finishReason(), answer.id(), answer.model());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("recordedAnswers")
  void aCassetteRecordedOverGrpcReplaysForTheAnthropicCallerAndTheOtherWayRound(WireExchange exchange) {
    setup.upstream().replay(exchange);
    String scope = "grpc-first-" + exchange.name().replaceAll("[^A-Za-z0-9-]", "-");
    ChatRequest request = WIRE.requestFor(exchange);
    setup.router().chat().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(cassette("record", scope)))
        .chat(request);
    setup.upstream().reply(500, "application/json", "{}");
    int sentBefore = setup.upstream().received().size();
    IngressClient.Reply replayed = http.post("/v1/messages", bodyOf(exchange, false).toString(),
        "x-cassette-mode", "replay", "x-cassette-scope", scope);
    assertEquals(200, replayed.status(), replayed.body());
    assertEquals("hit", replayed.header("x-cassette-outcome"));
    assertEquals(sentBefore, setup.upstream().received().size(), "the replay sent nothing upstream");

    setup.upstream().replay(exchange);
    String otherScope = "http-first-" + exchange.name().replaceAll("[^A-Za-z0-9-]", "-");
    IngressClient.Reply recorded = http.post("/v1/messages", bodyOf(exchange, true).toString(),
        "x-cassette-mode", "record", "x-cassette-scope", otherScope);
    assertEquals("recorded", recorded.header("x-cassette-outcome"), recorded.body());
    setup.upstream().reply(500, "application/json", "{}");
    int sentAfterRecording = setup.upstream().received().size();
    var answer = setup.router().chat().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(
        cassette("replay", otherScope))).chat(request);
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, answer.getOrigin().getCassette());
    assertEquals(recorded.header("x-cassette-key"), answer.getOrigin().getCassetteKey());
    assertEquals(sentAfterRecording, setup.upstream().received().size(), "the replay sent nothing upstream");
  }

  private static Metadata cassette(String mode, String scope) {
    Metadata metadata = new Metadata();
    metadata.put(Metadata.Key.of("x-cassette-mode", Metadata.ASCII_STRING_MARSHALLER), mode);
    metadata.put(Metadata.Key.of("x-cassette-scope", Metadata.ASCII_STRING_MARSHALLER), scope);
    return metadata;
  }

  /**
   * What an Anthropic caller sends for the exchange: the recorded request with the router's model name and the stream
   * flag, or a plain question when the recording kept no request.
   */
  static ObjectNode bodyOf(WireExchange exchange, boolean stream) {
    ObjectNode body;
    if (exchange.request().isObject()) {
      body = exchange.request().deepCopy();
      body.put("model", "anthropic/" + body.path("model").asText());
    } else {
      body = (ObjectNode) OpenAiWire.read("{\"model\": \"anthropic/claude-sonnet-4-6\", \"max_tokens\": 1024, "
          + "\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}");
    }
    return body.put("stream", stream);
  }

  private static void assertFailsLikeRecording(WireExchange exchange, IngressClient.Reply reply) {
    JsonNode error;
    if ("text/event-stream".equals(reply.header("content-type"))) {
      assertEquals(200, reply.status(), "the stream had started");
      List<IngressClient.ServerSentEvent> events = reply.events();
      IngressClient.ServerSentEvent last = events.get(events.size() - 1);
      assertEquals("error", last.event(), "an error after the start is the stream's last event");
      error = last.json();
    } else {
      assertEquals(WIRE.statusOf(exchange), reply.status(), reply.body());
      error = reply.json();
    }
    assertEquals("error", error.path("type").asText(), reply.body());
    assertEquals(recordedErrorType(exchange), error.path("error").path("type").asText(), reply.body());
    assertTrue(error.path("error").path("message").asText().contains(WIRE.errorMessageOf(exchange)),
        "the provider's message reaches the caller: " + reply.body());
  }

  /** The error type of the recording, in its body or in its stream's error event. */
  private static String recordedErrorType(WireExchange exchange) {
    String body = exchange.body();
    int data = body.lastIndexOf("data: {\"type\":\"error\"");
    JsonNode error = OpenAiWire.read(data < 0 ? body : body.substring(data + "data: ".length()).strip());
    return error.path("error").path("type").asText();
  }
}
