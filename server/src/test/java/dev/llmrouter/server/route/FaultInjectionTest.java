package dev.llmrouter.server.route;

import static dev.llmrouter.server.testing.TwoUpstreams.ask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.TwoUpstreams;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fault-injection matrix: a scriptable local upstream fails in every way the issue lists, and for each row the
 * test asserts the status, what the caller received, how many upstream attempts were made, and that no upstream
 * request is left open.
 */
class FaultInjectionTest {

  private static final String CHUNK = "data: {\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
      + "\"delta\":{\"content\":\"%s\"},\"finish_reason\":null}]}\n\n";

  private static TwoUpstreams setup;
  private static Vertx vertx;
  private static MockUpstream a;
  private static MockUpstream b;
  private static RunningRouter router;

  @BeforeAll
  static void start() {
    setup = TwoUpstreams.start("""
        cassettes: { mode: "off" }
        retry: { max_attempts: 3, initial_backoff: 10ms, max_backoff: 50ms }
        circuit_breaker: { failure_threshold: 1000 }
        providers:
          - { name: a, type: openai, base_url: "%1$s/v1", api_key: "${TEST_API_KEY}" }
          - { name: b, type: openai, base_url: "%2$s/v1", api_key: "${TEST_API_KEY}" }
          - { name: refused, type: openai, base_url: "http://127.0.0.1:9/v1" }
        models:
          - alias: ab
            strategy: fallback
            targets: [{ model: a/m }, { model: b/m }]
          - alias: refused-then-a
            targets: [{ model: refused/m }, { model: a/m }]
        """);
    vertx = setup.vertx();
    a = setup.a();
    b = setup.b();
    router = setup.router();
    // A first call through each upstream warms the JVM, so the deadline rows measure the router, not class loading.
    a.script(ok());
    b.script(ok());
    router.chat().chat(ask("a/m"));
    router.chat().chat(ask("b/m"));
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  @BeforeEach
  void reset() {
    setup.forgetRequests();
  }

  @AfterEach
  void noUpstreamRequestIsLeftOpen() {
    assertTrue(a.awaitNoRequestInFlight(2, TimeUnit.SECONDS), "a request to upstream a was left open");
    assertTrue(b.awaitNoRequestInFlight(2, TimeUnit.SECONDS), "a request to upstream b was left open");
  }

  private static Consumer<HttpServerRequest> status(int code, String retryAfter) {
    return r -> {
      HttpServerResponse response = r.response().setStatusCode(code).putHeader("content-type", "application/json");
      if (retryAfter != null) {
        response.putHeader("retry-after", retryAfter);
      }
      response.end("{\"error\":{\"message\":\"injected " + code + "\"}}");
    };
  }

  private static Consumer<HttpServerRequest> ok() {
    return r -> r.response().putHeader("content-type", "application/json").end(TwoUpstreams.OK_JSON);
  }

  /** Opens an event stream, writes {@code chunks}, then does {@code then} with the response. */
  private static Consumer<HttpServerRequest> stream(List<String> chunks, Handler<HttpServerRequest> then) {
    return r -> {
      HttpServerResponse response = r.response().setChunked(true).putHeader("content-type", "text/event-stream");
      chunks.forEach(response::write);
      vertx.setTimer(50, t -> then.handle(r));
    };
  }

  private static ErrorInfo errorInfo(StatusRuntimeException error) throws InvalidProtocolBufferException {
    for (var detail : StatusProto.fromThrowable(error).getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        return detail.unpack(ErrorInfo.class);
      }
    }
    throw new AssertionError("no ErrorInfo in " + error);
  }

  /** Streams a call, collecting the events received before it ended; the failure, if any, is returned. */
  private static StatusRuntimeException streamInto(List<ChatEvent> events, ChatRequest request) {
    try {
      router.chat().withDeadlineAfter(10, TimeUnit.SECONDS).streamChat(request).forEachRemaining(events::add);
      return null;
    } catch (StatusRuntimeException e) {
      return e;
    }
  }

  @Test
  void rateLimitWithRetryAfterThenSuccessWaitsAndRetries() {
    a.script(status(429, "1"), ok());
    long started = System.nanoTime();
    ChatResponse response = router.chat().chat(ask("a/m"));
    assertTrue(System.nanoTime() - started >= TimeUnit.MILLISECONDS.toNanos(950), "Retry-After was honoured");
    assertEquals("fine", response.getMessage().getParts(0).getText());
    assertEquals(2, a.received().size());
    assertEquals(2, response.getOrigin().getAttempts());
  }

  @ParameterizedTest(name = "HTTP {0} then 200")
  @ValueSource(ints = {500, 503, 529})
  void serverErrorsAreRetried(int code) {
    a.script(status(code, null), ok());
    ChatResponse response = router.chat().chat(ask("a/m"));
    assertEquals("fine", response.getMessage().getParts(0).getText());
    assertEquals(2, a.received().size());
    assertEquals(2, response.getOrigin().getAttempts());
  }

  @Test
  void rateLimitedOnEveryAttemptIsResourceExhaustedWithRetryInfo() throws Exception {
    a.script(status(429, "0"));
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> router.chat().chat(ask("a/m")));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, error.getStatus().getCode());
    assertEquals(3, a.received().size(), "max_attempts");
    assertTrue(StatusProto.fromThrowable(error).getDetailsList().stream().anyMatch(d -> d.is(RetryInfo.class)));
    ErrorInfo info = errorInfo(error);
    assertEquals("3", info.getMetadataOrThrow("attempts"));
    assertEquals("a", info.getMetadataOrThrow("deployment"));
    assertEquals("429", info.getMetadataOrThrow("upstream_status"));
  }

  @Test
  void whenTheFirstTargetIsRateLimitedTheSecondServes() {
    a.script(status(429, "0")); // Retry-After 0: the shared upstream a is not left rate-limited for the other rows
    b.script(ok());
    ChatResponse response = router.chat().chat(ask("ab"));
    assertEquals("fine", response.getMessage().getParts(0).getText());
    assertEquals("b", response.getOrigin().getDeployment());
    assertEquals(2, response.getOrigin().getAttempts());
    assertEquals(1, a.received().size(), "a rate limit moves on at once when another target exists");
    assertEquals(1, b.received().size());
  }

  @Test
  void connectionRefusedIsRetriedThenFallsBack() throws Exception {
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> router.chat().chat(ask("refused/m")));
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    assertEquals("3", errorInfo(error).getMetadataOrThrow("attempts"));
    a.script(ok());
    ChatResponse response = router.chat().chat(ask("refused-then-a"));
    assertEquals("a", response.getOrigin().getDeployment());
    assertEquals(4, response.getOrigin().getAttempts(), "three refused, then a");
  }

  @Test
  void noResponseHeadersBeforeTheDeadlineIsDeadlineExceeded() {
    a.script(r -> { });
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> router.chat().withDeadlineAfter(500, TimeUnit.MILLISECONDS).chat(ask("a/m")));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, error.getStatus().getCode());
    assertEquals(1, a.received().size(), "no retry past the caller's deadline");
  }

  @Test
  void headersThenSilencePastTheDeadlineEndsAfterTheEventsSent() {
    a.script(stream(List.of(CHUNK.formatted("slow")), r -> { }));
    List<ChatEvent> events = new ArrayList<>();
    StatusRuntimeException error;
    try {
      Iterator<ChatEvent> it = router.chat().withDeadlineAfter(1, TimeUnit.SECONDS).streamChat(ask("a/m"));
      it.forEachRemaining(events::add);
      error = null;
    } catch (StatusRuntimeException e) {
      error = e;
    }
    assertEquals(Status.Code.DEADLINE_EXCEEDED, error.getStatus().getCode(), error + " after " + events);
    assertEquals("slow", events.get(1).getTextDelta().getText(), error + " after " + events);
    assertEquals(1, a.received().size());
  }

  @Test
  void aConnectionResetBeforeTheFirstByteIsRetried() {
    a.script(r -> r.connection().close(), ok());
    ChatResponse response = router.chat().chat(ask("a/m"));
    assertEquals("fine", response.getMessage().getParts(0).getText());
    assertEquals(2, a.received().size());
  }

  @Test
  void aResetMidStreamEndsWithUnavailableAfterTheDeltasAndIsNotRetried() {
    a.script(stream(List.of(CHUNK.formatted("one"), CHUNK.formatted("two")), r -> r.connection().close()));
    List<ChatEvent> events = new ArrayList<>();
    StatusRuntimeException error = streamInto(events, ask("a/m"));
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    assertEquals(List.of("one", "two"), events.stream().filter(ChatEvent::hasTextDelta)
        .map(e -> e.getTextDelta().getText()).toList());
    assertFalse(events.stream().anyMatch(ChatEvent::hasDone));
    assertEquals(1, a.received().size(), "no retry after the first event reached the caller");
  }

  @Test
  void aMalformedSseLineAloneIsRetriedAsAFailedAttempt() {
    a.script(stream(List.of("data {\"missing\": \"colon\"}\n\n"), r -> r.response().end()), ok());
    ChatResponse response = router.chat().chat(ask("a/m").toBuilder().build());
    assertEquals("fine", response.getMessage().getParts(0).getText());
    List<ChatEvent> events = new ArrayList<>();
    a.script(stream(List.of("data {\"missing\": \"colon\"}\n\n"), r -> r.response().end()));
    StatusRuntimeException error = streamInto(events, ask("a/m"));
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    assertTrue(events.isEmpty(), "nothing reached the caller");
  }

  @Test
  void invalidJsonInAChunkEndsTheStreamAfterTheEventsSent() {
    a.script(stream(List.of(CHUNK.formatted("good"), "data: {\"choices\": [\n\n"), r -> { }));
    List<ChatEvent> events = new ArrayList<>();
    StatusRuntimeException error = streamInto(events, ask("a/m"));
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("malformed"), error.getMessage());
    assertEquals("good", events.get(1).getTextDelta().getText());
    assertEquals(1, a.received().size());
  }

  @Test
  void aTwoHundredWithAnEmptyBodyIsAFailedAttempt() {
    a.script(r -> r.response().putHeader("content-type", "application/json").end(), ok());
    ChatResponse response = router.chat().chat(ask("a/m"));
    assertEquals("fine", response.getMessage().getParts(0).getText());
    assertEquals(2, a.received().size());
  }

  @Test
  void aStreamEndingWithoutItsTerminalEventIsAnErrorNotACleanEnd() {
    a.script(stream(List.of(CHUNK.formatted("partial")), r -> r.response().end()));
    List<ChatEvent> events = new ArrayList<>();
    StatusRuntimeException error = streamInto(events, ask("a/m"));
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    assertEquals("partial", events.get(1).getTextDelta().getText());
    assertEquals(1, a.received().size());
  }

  @Test
  void aBadRequestIsNeverRetried() throws Exception {
    a.script(status(400, null));
    b.script(ok());
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> router.chat().chat(ask("ab")));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    assertEquals(1, a.received().size());
    assertEquals(0, b.received().size(), "a caller error does not fall back either");
    assertEquals("1", errorInfo(error).getMetadataOrThrow("attempts"));
  }

  @Test
  void aCallerCancelDuringTheRetryWaitStopsEveryLaterAttempt() throws Exception {
    a.script(status(429, "1"), status(429, "1"), ok());
    ChatRequest cancelled = ask("a/m").toBuilder().setModel("a/cancelled").build();
    Context.CancellableContext context = Context.current().withCancellation();
    context.run(() -> router.chatAsync().chat(cancelled, new io.grpc.stub.StreamObserver<>() {
      @Override
      public void onNext(ChatResponse value) {
      }

      @Override
      public void onError(Throwable t) {
      }

      @Override
      public void onCompleted() {
      }
    }));
    assertTrue(Await.until(Duration.ofSeconds(5), () -> !a.received().isEmpty()), "the first attempt reached a");
    context.cancel(null);
    // A later call on the same channel (so on the same router event loop), rate-limited alike by b (a is skipped while
    // its Retry-After holds): its retry timer is due after the cancelled call's would be, so once it is answered, that
    // retry would have reached the upstream.
    b.script(status(429, "1"), ok());
    assertEquals("fine", router.chat().chat(ask("b/m")).getMessage().getParts(0).getText());
    assertEquals(1, a.received().stream().filter(r -> r.body().contains("\"cancelled\"")).count(),
        "no attempt after the caller cancelled");
  }

  /** A router with one deployment, `flaky`, tried once per call, whose circuit opens after so many failures. */
  private RunningRouter flakyRouter(MockUpstream flaky, ManualClock clock, int failureThreshold) {
    return RunningRouter.start(vertx, """
        cassettes: { mode: "off" }
        retry: { max_attempts: 1 }
        circuit_breaker: { failure_threshold: %d, cool_down: 30s }
        providers:
          - { name: flaky, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}", models: [m] }
        """.formatted(failureThreshold, flaky.baseUrl()), clock);
  }

  @Test
  void aFailingDeploymentOpensItsCircuitIsSkippedAndRecoversAfterAProbe() throws Exception {
    ManualClock clock = new ManualClock();
    try (MockUpstream flaky = MockUpstream.start(vertx)) {
      RunningRouter breaking = flakyRouter(flaky, clock, 2);
      try {
        flaky.script(status(500, null));
        for (int i = 0; i < 2; i++) {
          assertThrows(StatusRuntimeException.class, () -> breaking.chat().chat(ask("flaky/m")));
        }
        StatusRuntimeException skipped = assertThrows(StatusRuntimeException.class,
            () -> breaking.chat().chat(ask("flaky/m")));
        assertEquals(Status.Code.UNAVAILABLE, skipped.getStatus().getCode());
        assertEquals("CIRCUIT_OPEN", errorInfo(skipped).getReason());
        assertEquals(Duration.ofSeconds(30), retryDelay(skipped), "the caller is told when to come back");
        assertEquals(2, flaky.received().size(), "an open circuit sends nothing upstream");
        assertFalse(available(breaking, "flaky/m"), "ListModels reports the open circuit");
        assertEquals(HealthCheckResponse.ServingStatus.NOT_SERVING, HealthGrpc.newBlockingStub(breaking.channel())
            .check(HealthCheckRequest.newBuilder().setService(RouterServer.DEPLOYMENT_HEALTH_PREFIX + "flaky")
                .build()).getStatus());

        clock.advance(Duration.ofSeconds(30));
        flaky.script(ok());
        assertEquals("fine", breaking.chat().chat(ask("flaky/m")).getMessage().getParts(0).getText(),
            "after the cool-down one probe goes through");
        assertTrue(available(breaking, "flaky/m"), "a successful probe closes the circuit");
      } finally {
        breaking.close();
      }
    }
  }

  @Test
  void aCallersDeadlineNeverCountsAgainstTheDeploymentAndSaysWhoseItWas() throws Exception {
    try (MockUpstream slow = MockUpstream.start(vertx)) {
      RunningRouter deadlines = RunningRouter.start(vertx, """
          cassettes: { mode: "off" }
          retry: { max_attempts: 1 }
          circuit_breaker: { failure_threshold: 2 }
          providers:
            - { name: slow, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}", timeout: 30s, models: [m] }
          """.formatted(slow.baseUrl()));
      try {
        slow.answer(r -> { }); // healthy, but slower than these callers are willing to wait
        for (int i = 0; i < 3; i++) {
          StatusRuntimeException impatient = assertThrows(StatusRuntimeException.class,
              () -> deadlines.chat().withDeadlineAfter(300, TimeUnit.MILLISECONDS).chat(ask("slow/m")));
          assertEquals(Status.Code.DEADLINE_EXCEEDED, impatient.getStatus().getCode());
        }
        com.google.rpc.Status routers = deadlines.chatWithDeadlineLeftToTheRouter(vertx, ask("slow/m"),
            Duration.ofMillis(300));
        assertEquals(Status.Code.DEADLINE_EXCEEDED.value(), routers.getCode());
        assertTrue(routers.getMessage().startsWith("the caller's deadline of 300 ms passed while waiting for slow's "
            + "answer"), routers.getMessage());
        ErrorInfo info = routers.getDetails(0).unpack(ErrorInfo.class);
        assertEquals("CALLER_DEADLINE_EXCEEDED", info.getReason());
        assertEquals("slow", info.getMetadataOrThrow("deployment"));
        assertTrue(slow.awaitNoRequestInFlight(5, TimeUnit.SECONDS), "every upstream request was aborted");

        assertTrue(available(deadlines, "slow/m"), "four callers' deadlines open no circuit");
        slow.script(ok());
        assertEquals("fine", deadlines.chat().withDeadlineAfter(30, TimeUnit.SECONDS).chat(ask("slow/m"))
            .getMessage().getParts(0).getText(), "a patient caller is served");
      } finally {
        deadlines.close();
      }
    }
  }

  @Test
  void aProbeWhoseCallerLeavesGivesItsPlaceToTheNextCall() throws Exception {
    ManualClock clock = new ManualClock();
    try (MockUpstream flaky = MockUpstream.start(vertx)) {
      RunningRouter probing = flakyRouter(flaky, clock, 1);
      try {
        flaky.script(status(500, null), r -> { }, ok());
        assertThrows(StatusRuntimeException.class, () -> probing.chat().chat(ask("flaky/m")));
        clock.advance(Duration.ofSeconds(30));
        assertEquals(Status.Code.DEADLINE_EXCEEDED.value(), probing.chatWithDeadlineLeftToTheRouter(vertx,
            ask("flaky/m"), Duration.ofMillis(300)).getCode(), "the probe's caller gives up");
        assertEquals("fine", probing.chat().chat(ask("flaky/m")).getMessage().getParts(0).getText(),
            "the next call probes, and closes the circuit");
        assertTrue(available(probing, "flaky/m"));
      } finally {
        probing.close();
      }
    }
  }

  @Test
  void rateLimitsNeverOpenTheCircuitAndTellTheCallerWhenToComeBack() throws Exception {
    ManualClock clock = new ManualClock();
    try (MockUpstream limited = MockUpstream.start(vertx); MockUpstream spare = MockUpstream.start(vertx)) {
      RunningRouter limits = RunningRouter.start(vertx, """
          cassettes: { mode: "off" }
          retry: { max_attempts: 1 }
          circuit_breaker: { failure_threshold: 1, cool_down: 30s }
          providers:
            - { name: limited, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}", models: [m] }
            - { name: spare, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
          models:
            - alias: limited-then-spare
              targets: [{ model: limited/m }, { model: spare/m }]
          """.formatted(limited.baseUrl(), spare.baseUrl()), clock);
      try {
        limited.script(status(429, "20"));
        spare.script(ok());
        StatusRuntimeException limit = assertThrows(StatusRuntimeException.class,
            () -> limits.chat().chat(ask("limited/m")));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, limit.getStatus().getCode());
        assertEquals(Duration.ofSeconds(20), retryDelay(limit), "the provider's Retry-After");
        assertTrue(available(limits, "limited/m"), "a 429 opens no circuit, even with failure_threshold 1");

        assertEquals("spare", limits.chat().chat(ask("limited-then-spare")).getOrigin().getDeployment(),
            "while the Retry-After holds, the next target serves");
        clock.advance(Duration.ofSeconds(5));
        StatusRuntimeException waitMore = assertThrows(StatusRuntimeException.class,
            () -> limits.chat().chat(ask("limited/m")));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, waitMore.getStatus().getCode());
        assertEquals("UPSTREAM_RATE_LIMITED", errorInfo(waitMore).getReason());
        assertEquals(Duration.ofSeconds(15), retryDelay(waitMore), "what is left of the Retry-After");
        assertEquals(1, limited.received().size(), "nothing is sent while the Retry-After holds");

        clock.advance(Duration.ofSeconds(15));
        limited.script(ok());
        assertEquals("fine", limits.chat().chat(ask("limited/m")).getMessage().getParts(0).getText());
      } finally {
        limits.close();
      }
    }
  }

  private static Duration retryDelay(StatusRuntimeException error) throws InvalidProtocolBufferException {
    for (var detail : StatusProto.fromThrowable(error).getDetailsList()) {
      if (detail.is(RetryInfo.class)) {
        com.google.protobuf.Duration delay = detail.unpack(RetryInfo.class).getRetryDelay();
        return Duration.ofSeconds(delay.getSeconds(), delay.getNanos());
      }
    }
    throw new AssertionError("no RetryInfo in " + error);
  }

  private static boolean available(RunningRouter router, String model) {
    return router.models().listModels(ListModelsRequest.getDefaultInstance()).getModelsList().stream()
        .filter(m -> m.getName().equals(model)).findFirst().orElseThrow().getAvailable();
  }
}
