package dev.llmrouter.server.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmrouter.server.testing.GeminiWire;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.ProviderWire.Answer;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.WireExchange;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Recorded Gemini exchanges (this project's own samples and the shared corpus of real traffic) sent through the
 * Gemini door: the recorded request body goes in as a Gemini SDK sent it, the local upstream answers with the
 * recorded response, and
 * <ul>
 *   <li>the router sends the upstream the recorded request again: the dialect reads a request as the exact inverse
 *       of what the adapter writes;</li>
 *   <li>the caller gets, as a whole answer, an SSE stream and a JSON-array stream alike, what the recorded response
 *       says (read by the same test-side {@link GeminiWire} that checks the adapter), or the recorded error in
 *       Google's shape.</li>
 * </ul>
 */
class GeminiIngressWireTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final GeminiWire WIRE = new GeminiWire();
  private static final ManualClock CLOCK = new ManualClock();
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static RouterWithUpstream setup;

  /** How the caller asks for the answer. */
  enum Framing {
    WHOLE(":generateContent"), EVENTS(":streamGenerateContent?alt=sse"), ARRAY(":streamGenerateContent");

    final String method;

    Framing(String method) {
      this.method = method;
    }
  }

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("cassettes: { mode: \"off\" }\n"
        + "retry: { max_attempts: 1 }\ncircuit_breaker: { failure_threshold: 1000 }\nproviders:\n"
        + WIRE.providersYaml("%1$s"), CLOCK);
  }

  @BeforeEach
  void pastEveryRetryAfter() {
    CLOCK.advance(Duration.ofDays(1)); // a recorded 429 leaves its deployment rate-limited: not for the next exchange
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  static Stream<WireExchange> own() {
    return WireExchange.own("gemini").stream().filter(WIRE::speaks);
  }

  static Stream<WireExchange> shared() {
    return WireExchange.shared("gemini").stream().filter(WIRE::speaks);
  }

  @Test
  void theProjectHasItsOwnSamples() {
    assertTrue(own().count() >= 8, "the own Gemini samples are on the test class path");
  }

  /** The own samples and, where `../shared` is beside the checkout, the shared ones: never an empty source. */
  static Stream<WireExchange> exchanges() {
    return Stream.concat(own(), shared());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("exchanges")
  void anExchangeGoesThroughTheGeminiDoorUnchanged(WireExchange exchange) throws Exception {
    throughTheDoor(exchange);
  }

  @Test
  void theSharedCorpusIsUsedWhenItIsThere() {
    assumeTrue(WireExchange.sharedCorpus().isPresent(),
        "no ../shared/conformance beside this checkout: the shared Gemini exchanges are skipped");
    assertTrue(shared().count() > 0, "the shared corpus has Gemini exchanges");
  }

  private static void throughTheDoor(WireExchange exchange) throws Exception {
    boolean streamed = exchange.path().endsWith(":streamGenerateContent");
    for (Framing framing : streamed ? List.of(Framing.EVENTS, Framing.ARRAY) : List.of(Framing.WHOLE)) {
      setup.upstream().reply(exchange.status(), exchange.headers().getOrDefault("content-type", "application/json"),
          exchange.body());
      int sentBefore = setup.upstream().received().size();
      String model = exchange.path().substring(exchange.path().lastIndexOf('/') + 1, exchange.path().lastIndexOf(':'));
      HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
              + setup.router().port() + "/v1beta/models/gemini/" + model + framing.method))
          .header("content-type", "application/json").header("x-goog-api-key", "AIza-caller")
          .POST(HttpRequest.BodyPublishers.ofString(exchange.request().toString())).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(sentBefore + 1, setup.upstream().received().size(), () -> framing + ": " + response.body());
      WIRE.assertSent(exchange, setup.upstream().lastRequest(), streamed);
      if (WIRE.statusOf(exchange) == 200) {
        assertEquals(200, response.statusCode(), () -> framing + ": " + response.body());
        Answer expected = WIRE.answerOf(exchange);
        Answer received = WIRE.answerOf(asRecorded(exchange, framing, response.body()));
        assertFalse(received.id().isEmpty());
        assertEquals(new Answer(expected.text(), expected.refusal(), expected.reasoning(),
            expected.reasoningSignature(), expected.toolCalls(), expected.usage(), expected.finishReason(),
            received.id(), expected.model()), received, framing::toString);
      } else {
        assertEquals(exchange.status(), response.statusCode(), response.body());
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertEquals(exchange.status(), error.get("code").asInt());
        assertFalse(error.get("status").asText().isEmpty());
        assertTrue(error.get("message").asText().contains(WIRE.errorMessageOf(exchange)), error::toString);
      }
    }
  }

  /** The router's answer as an exchange GeminiWire reads: a JSON body, or a stream as events (an array's too). */
  private static WireExchange asRecorded(WireExchange exchange, Framing framing, String body) throws Exception {
    if (framing == Framing.WHOLE) {
      return new WireExchange("ours", exchange.endpoint(), exchange.request(), 200,
          Map.of("content-type", "application/json"), body);
    }
    String events = body;
    if (framing == Framing.ARRAY) {
      StringBuilder asEvents = new StringBuilder();
      for (JsonNode chunk : JSON.readTree(body)) {
        asEvents.append("data: ").append(chunk).append("\n\n");
      }
      events = asEvents.toString();
    }
    return new WireExchange("ours", exchange.endpoint(), exchange.request(), 200,
        Map.of("content-type", "text/event-stream"), events);
  }
}
