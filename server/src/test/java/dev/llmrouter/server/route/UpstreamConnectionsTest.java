package dev.llmrouter.server.route;

import static dev.llmrouter.server.testing.TwoUpstreams.OK_JSON;
import static dev.llmrouter.server.testing.TwoUpstreams.ask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.ErrorInfo;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A deployment's connections (`max_connections`): calls beyond them wait in line, the wait is bounded apart from the
 * provider's `timeout` and named in errors, a call that stops waiting never makes the pool open a connection, and each
 * event loop's calls use connections of that loop.
 */
class UpstreamConnectionsTest {

  private Vertx vertx;
  private MockUpstream narrow;
  /** The requests the upstream holds unanswered until the test answers them. */
  private final List<HttpServerRequest> held = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    narrow = MockUpstream.start(vertx);
  }

  @AfterEach
  void stop() {
    narrow.close();
    Await.result(vertx.close());
  }

  private RunningRouter router(String providerSettings) {
    return RunningRouter.start(vertx, """
        event_loops: 2
        cassettes: { mode: "off" }
        retry: { max_attempts: 1 }
        circuit_breaker: { failure_threshold: 1 }
        providers:
          - { name: narrow, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}", %s }
        """.formatted(narrow.baseUrl(), providerSettings));
  }

  /** Holds the first {@code count} requests, answers the later ones at once. */
  private void holdTheFirst(int count) {
    narrow.answer(r -> {
      if (held.size() < count) {
        held.add(r);
      } else {
        answer(r);
      }
    });
  }

  private static void answer(HttpServerRequest request) {
    request.response().putHeader("content-type", "application/json").end(OK_JSON);
  }

  /** Starts a call in the background, cancelled when {@code context} is; its answer or failure completes the result. */
  private static CompletableFuture<ChatResponse> callInBackground(RunningRouter router, Context.CancellableContext context) {
    CompletableFuture<ChatResponse> result = new CompletableFuture<>();
    context.run(() -> router.chatAsync().chat(ask("narrow/m"), new StreamObserver<>() {
      @Override
      public void onNext(ChatResponse value) {
        result.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
      }
    }));
    return result;
  }

  @Test
  void aWaitForAConnectionIsNotPartOfTheProviderTimeoutAndIsNamedInTheCallersError() throws Exception {
    RunningRouter router = router("max_connections: 1, timeout: 2s, connection_wait_timeout: 30s");
    try {
      holdTheFirst(2);
      CompletableFuture<ChatResponse> first = callInBackground(router, Context.current().withCancellation());
      assertTrue(Await.until(Duration.ofSeconds(10), () -> held.size() == 1), "the first call has the connection");
      CompletableFuture<ChatResponse> second = callInBackground(router, Context.current().withCancellation());
      CompletableFuture<ChatResponse> third = callInBackground(router, Context.current().withCancellation());

      // Callers who give up after 1.2 s in line mark the time: each held call is answered within its 2 s timeout,
      // while the third call waits behind both, longer than 2 s, before its turn.
      com.google.rpc.Status gaveUp = router.chatWithDeadlineLeftToTheRouter(vertx, ask("narrow/m"),
          Duration.ofMillis(1200));
      assertEquals(Status.Code.DEADLINE_EXCEEDED.value(), gaveUp.getCode());
      assertTrue(gaveUp.getMessage().startsWith("the caller's deadline of 1200 ms passed while waiting for a free "
          + "connection to narrow (all 1 were busy: providers[].max_connections)"), gaveUp.getMessage());
      assertEquals("CALLER_DEADLINE_EXCEEDED", gaveUp.getDetails(0).unpack(ErrorInfo.class).getReason());
      answer(held.get(0));
      assertTrue(Await.until(Duration.ofSeconds(10), () -> held.size() == 2), "the second call has the connection");
      assertEquals(Status.Code.DEADLINE_EXCEEDED.value(), router.chatWithDeadlineLeftToTheRouter(vertx,
          ask("narrow/m"), Duration.ofMillis(1200)).getCode());
      answer(held.get(1));

      for (CompletableFuture<ChatResponse> call : List.of(first, second, third)) {
        assertEquals("fine", call.get(10, TimeUnit.SECONDS).getMessage().getParts(0).getText(),
            "a call's time in line does not count against its timeout");
      }
      assertEquals(3, narrow.received().size(), "the callers who gave up in line sent nothing");
    } finally {
      router.close();
    }
  }

  @Test
  void aCallThatFindsNoFreeConnectionInTimeIsBusyNotAFailureOfTheDeployment() throws Exception {
    RunningRouter router = router("max_connections: 1, connection_wait_timeout: 200ms");
    try {
      holdTheFirst(1);
      CompletableFuture<ChatResponse> first = callInBackground(router, Context.current().withCancellation());
      assertTrue(Await.until(Duration.ofSeconds(10), () -> held.size() == 1), "the first call has the connection");

      com.google.rpc.Status busy = router.chatWithDeadlineLeftToTheRouter(vertx, ask("narrow/m"),
          Duration.ofSeconds(30));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED.value(), busy.getCode());
      assertTrue(busy.getMessage().startsWith("narrow had no free connection for 200 ms"), busy.getMessage());
      assertEquals("DEPLOYMENT_BUSY", busy.getDetails(0).unpack(ErrorInfo.class).getReason());

      answer(held.get(0));
      assertEquals("fine", first.get(10, TimeUnit.SECONDS).getMessage().getParts(0).getText());
      assertEquals("fine", router.chat().chat(ask("narrow/m")).getMessage().getParts(0).getText(),
          "a full line opened no circuit, even with failure_threshold 1");
    } finally {
      router.close();
    }
  }

  @Test
  void callersWhoLeftTheLineNeverMakeThePoolOpenAConnection() throws Exception {
    RunningRouter router = router("max_connections: 2");
    try {
      holdTheFirst(2);
      List<Context.CancellableContext> holders = List.of(Context.current().withCancellation(),
          Context.current().withCancellation());
      holders.forEach(context -> callInBackground(router, context));
      assertTrue(Await.until(Duration.ofSeconds(10), () -> held.size() == 2), "both connections are in use");
      for (int i = 0; i < 2; i++) {
        assertEquals(Status.Code.DEADLINE_EXCEEDED.value(), router.chatWithDeadlineLeftToTheRouter(vertx,
            ask("narrow/m"), Duration.ofMillis(300)).getCode(), "a caller gives up in line");
      }

      // The two callers in flight cancel: their HTTP/1.1 connections close, which frees room in the pool.
      holders.forEach(context -> context.cancel(null));
      assertTrue(Await.until(Duration.ofSeconds(10), () -> narrow.openConnections() == 0),
          "the cancelled requests' connections were closed");

      assertEquals("fine", router.chat().chat(ask("narrow/m")).getMessage().getParts(0).getText());
      assertEquals(3, narrow.connectionsOpened(), "two for the held calls, one for the last: none for those who left");
      assertEquals(3, narrow.received().size());
    } finally {
      router.close();
    }
  }

  @Test
  void eachEventLoopSendsItsCallsOverConnectionsOfItsOwn() throws Exception {
    RunningRouter router = router("max_connections: 4");
    try {
      narrow.answer(UpstreamConnectionsTest::answer);
      // The router hands its connections to its 2 loops in turn: these 4 callers' calls run on both.
      List<ChatServiceGrpc.ChatServiceBlockingStub> callers = router.chatsOnNewConnections(4);
      for (int round = 0; round < 3; round++) {
        for (ChatServiceGrpc.ChatServiceBlockingStub caller : callers) {
          assertEquals("fine", caller.chat(ask("narrow/m")).getMessage().getParts(0).getText());
        }
      }
      // One after the other, the 12 calls would all reuse the first connection if the loops shared one pool.
      assertEquals(12, narrow.received().size());
      assertEquals(2, narrow.connectionsOpened(), "one connection per event loop, reused by that loop's calls");
    } finally {
      router.close();
    }
  }
}
