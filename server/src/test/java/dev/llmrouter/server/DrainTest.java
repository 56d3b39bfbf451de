package dev.llmrouter.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.api.GrpcRequestGuard;
import dev.llmrouter.server.pipeline.RunningCalls;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.Conversation;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RawHttp2Connection;
import dev.llmrouter.server.testing.RawHttp2Connection.Frame;
import dev.llmrouter.server.testing.RedisServer;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.grpc.server.GrpcServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A drain, as SIGTERM runs it ({@link RouterServer#drain}, driven here in process): real clients on every door, a
 * provider whose answers wait for the test to let them finish.
 */
class DrainTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String CHAT = "/llmrouter.v1.ChatService/Chat";
  private static final String CHUNK = "data: {\"id\":\"c1\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
      + "\"delta\":{\"content\":\"%s\"},\"finish_reason\":null}]}\n\n";
  private static final String LAST_CHUNK = "data: {\"id\":\"c1\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
      + "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
  private static final List<String> HEALTH_NAMES = List.of("", "llmrouter.v1.ChatService", "llmrouter.v1.ModelService",
      RouterServer.DEPLOYMENT_HEALTH_PREFIX + "openai");

  private Vertx vertx;
  private MockUpstream upstream;
  private RunningRouter router;
  /** The upstream answers begun: each has sent its first word and finishes when the test runs it. */
  private final Queue<Runnable> held = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void startUpstream() {
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx).answer(request -> {
      Context context = Vertx.currentContext();
      HttpServerResponse response = request.response().setChunked(true)
          .putHeader("content-type", "text/event-stream");
      response.write(CHUNK.formatted("Hello"));
      held.add(() -> context.runOnContext(v -> response.end(CHUNK.formatted(" there") + LAST_CHUNK)));
    });
  }

  @AfterEach
  void stopAll() throws Exception {
    if (router != null) {
      router.close();
    }
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private RunningRouter router(String drainTimeout) {
    return router(drainTimeout, "");
  }

  private RunningRouter router(String drainTimeout, String more) {
    router = RunningRouter.start(vertx, config(drainTimeout, more));
    return router;
  }

  private String config(String drainTimeout, String more) {
    return """
        event_loops: 2
        drain_timeout: %s
        cassettes: { mode: "off" }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}", max_connections: 100 }
        """.formatted(drainTimeout, upstream.baseUrl()) + more;
  }

  private void finishHeldAnswers() {
    for (Runnable finish = held.poll(); finish != null; finish = held.poll()) {
      finish.run();
    }
  }

  private static ChatRequest ask(String text) {
    return ChatRequest.newBuilder().setModel("openai/m").addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText(text))).build();
  }

  @Test
  void fiftyStreamsInFlightFinishWhileNewCallsAreRefusedAndHealthSaysNotServing() throws Exception {
    router("30s");
    List<ManagedChannel> connections = List.of(router.newConnection(), router.newConnection(),
        router.newConnection(), router.newConnection(), router.newConnection());
    List<StreamedAnswer> streams = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      streams.add(StreamedAnswer.ask(connections.get(i % connections.size()), ask("stream " + i)));
    }
    CompletableFuture<IngressClient.Reply> ingressStream = CompletableFuture.supplyAsync(() ->
        new IngressClient(router.port()).post("/v1/chat/completions", """
            {"model": "openai/m", "stream": true, "messages": [{"role": "user", "content": "over HTTP"}]}"""));
    assertTrue(Await.until(WAIT, () -> held.size() == 51 && streams.stream().allMatch(s -> !s.events.isEmpty())),
        "every call is in flight: " + held.size() + " upstream answers begun");
    ManagedChannel watching = router.newConnection();
    List<HealthWatch> watches = HEALTH_NAMES.stream().map(name -> HealthWatch.of(watching, name)).toList();
    assertTrue(Await.until(WAIT, () -> watches.stream().allMatch(w -> w.statuses.contains(ServingStatus.SERVING))));

    Future<Void> drained = router.server().drain();

    for (int i = 0; i < HEALTH_NAMES.size(); i++) {
      HealthWatch watch = watches.get(i);
      assertTrue(Await.until(WAIT, () -> watch.statuses.contains(ServingStatus.NOT_SERVING)),
          "'" + HEALTH_NAMES.get(i) + "': a watcher hears NOT_SERVING at once: " + watch.statuses);
    }
    assertTrue(Await.until(WAIT, () -> refusesConnections(router.port())),
        "the port soon takes no new connection: a balancer retries it on another replica");
    ChatServiceGrpc.ChatServiceBlockingStub late = ChatServiceGrpc.newBlockingStub(router.newConnection());
    StatusRuntimeException unary = assertThrows(StatusRuntimeException.class, () -> late.chat(ask("too late")));
    StatusRuntimeException stream = assertThrows(StatusRuntimeException.class,
        () -> late.streamChat(ask("too late")).hasNext());
    for (StatusRuntimeException refused : List.of(unary, stream)) {
      assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
    }
    assertThrows(UncheckedIOException.class, () -> new IngressClient(router.port()).post("/v1/chat/completions", """
        {"model": "openai/m", "messages": [{"role": "user", "content": "too late"}]}"""));
    assertEquals(51, upstream.received().size(), "no refused call went upstream");
    assertFalse(drained.isComplete(), "the drain waits for the running calls");

    finishHeldAnswers();

    for (StreamedAnswer answer : streams) {
      assertEquals(Status.Code.OK, answer.ended.get(10, TimeUnit.SECONDS).getCode());
      assertEquals("Hello there", answer.text());
      assertTrue(answer.events.get(answer.events.size() - 1).hasDone());
    }
    IngressClient.Reply overHttp = ingressStream.get(10, TimeUnit.SECONDS);
    assertEquals(200, overHttp.status());
    assertTrue(overHttp.body().endsWith("data: [DONE]\n\n"), overHttp.body());
    Await.result(drained);
    assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", router.port()).close(),
        "the port is still closed once the drain is over");
    // The call log was written out: every call that ran is in it.
    try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + router.dataDir().resolve("calls.db"));
        ResultSet row = db.createStatement().executeQuery("SELECT count(*) FROM calls WHERE status = 'OK'")) {
      assertTrue(row.next());
      assertEquals(51, row.getInt(1));
    }
  }

  @Test
  void aCallSentOnAnOpenConnectionBeforeItsClientReadTheFirstGoAwayIsServed() throws Exception {
    router("30s");
    byte[] question = ask("crossing the GOAWAY").toByteArray();
    try (RawHttp2Connection client = RawHttp2Connection.open(router.port())) {
      client.grpcCall(1, RawHttp2Connection.grpcHeaders(CHAT), question);
      assertTrue(Await.until(WAIT, () -> held.size() == 1), "the connection serves calls");
      finishHeldAnswers();
      assertEquals("0", trailersOf(client, 1).headers().get("grpc-status").toString());

      Future<Void> drained = router.server().drain();

      Frame first = client.next(frame -> frame.type() == Frame.Type.GOAWAY);
      assertEquals(Integer.MAX_VALUE, first.lastStreamId(), "the first GOAWAY lets in the streams already sent");
      assertEquals(0, first.code(), "NO_ERROR");
      assertTrue(refusesConnections(router.port()), "the port was closed before the GOAWAY: a balancer that drops "
          + "its connections on it opens its next ones elsewhere");
      Frame ping = client.next(frame -> frame.type() == Frame.Type.PING);
      // This client has not read the GOAWAY yet: its next call crosses it, as a balancer's may.
      client.grpcCall(3, RawHttp2Connection.grpcHeaders(CHAT), question);
      assertTrue(Await.until(WAIT, () -> held.size() == 1), "the call that crossed the GOAWAY is served");
      client.answerPing(ping.pingData());
      Frame last = client.next(frame -> frame.type() == Frame.Type.GOAWAY);
      assertEquals(3, last.lastStreamId(), "once the client has read the first GOAWAY, the final one names the last "
          + "stream received");
      assertFalse(drained.isComplete(), "the drain waits for the call");
      finishHeldAnswers();
      Frame answered = client.next(frame -> frame.streamId() == 3);
      assertEquals(Frame.Type.HEADERS, answered.type(), answered::toString);
      assertEquals("200", answered.headers().status().toString(), answered::toString);
      assertEquals("0", trailersOf(client, 3).headers().get("grpc-status").toString());
      Await.result(drained);
    }
    assertEquals(2, upstream.received().size());
  }

  /** The trailers of a gRPC call on this stream (its last HEADERS frame). */
  private static Frame trailersOf(RawHttp2Connection client, int streamId) throws InterruptedException {
    return client.next(frame -> frame.streamId() == streamId && frame.type() == Frame.Type.HEADERS
        && frame.endStream());
  }

  @Test
  void whileDrainingACallOverHttp11OrOnTheAdminListenerIsRefusedWith503ThatABalancerMayRetry() {
    RunningCalls running = new RunningCalls();
    running.drain();
    HttpServer main = listen(new GrpcRequestGuard(GrpcServer.server(vertx), 1 << 20, running,
        GrpcRequestGuard.WhileDraining.REFUSE_HTTP1));
    HttpServer admin = listen(new GrpcRequestGuard(GrpcServer.server(vertx), 1 << 20, running,
        GrpcRequestGuard.WhileDraining.REFUSE_ALL));
    HttpClient http11 = vertx.createHttpClient(new HttpClientOptions());
    HttpClient http2 = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false));
    try {
      for (HttpClientResponse refused : List.of(chat(http11, main), chat(http2, admin))) {
        assertEquals(503, refused.statusCode(), "a balancer sees an unavailable replica, and may retry elsewhere");
        assertEquals("14", refused.getHeader("grpc-status"));
        assertTrue(refused.getHeader("grpc-message").contains("draining"), refused.getHeader("grpc-message"));
      }
      HttpClientResponse letIn = chat(http2, main);
      assertEquals(200, letIn.statusCode(), "HTTP/2 on the main listener: a call its GOAWAY let in goes on");
      assertEquals(String.valueOf(Status.Code.UNIMPLEMENTED.value()), letIn.getHeader("grpc-status"),
          "(to a gRPC server without services)");
    } finally {
      Await.result(http11.close());
      Await.result(http2.close());
      Await.result(main.close());
      Await.result(admin.close());
    }
  }

  private HttpServer listen(GrpcRequestGuard guard) {
    return Await.result(vertx.createHttpServer().requestHandler(guard).listen(0, "127.0.0.1"));
  }

  private static HttpClientResponse chat(HttpClient client, HttpServer server) {
    return Await.result(client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
            .setPort(server.actualPort()).setURI(CHAT).putHeader("content-type", "application/grpc")
            .putHeader("te", "trailers"))
        .compose(request -> request.send(Buffer.buffer(new byte[5]))));
  }

  @Test
  void aConverseStreamEndsAfterItsTurnToldToResumeTheSessionOnAnotherReplica() throws Exception {
    router("30s");
    Conversation idle = Conversation.open(router);
    idle.send(start());
    String idleSession = idle.until(ConverseEvent::hasSessionStarted).getSessionStarted().getSessionId();
    Conversation talking = Conversation.open(router.newConnection(), new Metadata());
    talking.send(start()).until(ConverseEvent::hasSessionStarted);
    talking.user("Hi");
    talking.until(ConverseEvent::hasTextDelta);
    String session = talking.all.get(0).getSessionStarted().getSessionId();

    Future<Void> drained = router.server().drain();

    Status idleEnd = idle.closed.get(10, TimeUnit.SECONDS);
    assertEquals(Status.Code.UNAVAILABLE, idleEnd.getCode(), "a stream between turns ends at once");
    assertTrue(idleEnd.getDescription().contains(idleSession), idleEnd.getDescription());
    assertFalse(talking.closed.isDone(), "a stream in a turn ends after it");
    finishHeldAnswers();
    ConverseEvent completed = talking.until(ConverseEvent::hasTurnCompleted);
    assertEquals("Hello there", completed.getTurnCompleted().getMessage().getParts(0).getText());
    Status end = talking.closed.get(10, TimeUnit.SECONDS);
    assertEquals(Status.Code.UNAVAILABLE, end.getCode());
    assertTrue(end.getDescription().contains("session " + session) && end.getDescription().contains(
        "resume on another replica with start { resume_session_id: \"" + session + "\" }"), end.getDescription());
    Await.result(drained);
  }

  @Test
  void aSessionEndedByADrainResumesOnAnotherReplicaSharingRedis(@TempDir Path dir) throws Exception {
    assumeTrue(RedisServer.installed(), "redis-server is not on the PATH (Debian: apt-get install -y redis-server): "
        + "skipping the resume of a drained replica's session on another one");
    try (RedisServer redis = RedisServer.start(dir)) {
      String sharing = "shared_state: { redis_url: \"" + redis.url() + "\" }\n";
      router("30s", sharing);
      try (RunningRouter other = RunningRouter.start(vertx, config("30s", sharing))) {
        Conversation onDrained = Conversation.open(router).send(start());
        String session = onDrained.until(ConverseEvent::hasSessionStarted).getSessionStarted().getSessionId();
        onDrained.user("Hi, I am Ada.");
        onDrained.until(ConverseEvent::hasTextDelta);

        Future<Void> drained = router.server().drain();
        finishHeldAnswers();

        onDrained.until(ConverseEvent::hasTurnCompleted);
        assertEquals(Status.Code.UNAVAILABLE, onDrained.closed.get(10, TimeUnit.SECONDS).getCode());
        Await.result(drained);
        Conversation resumed = Conversation.open(other).send(ConverseRequest.newBuilder().setStart(
            ConverseStart.newBuilder().setResumeSessionId(session)).build());
        assertTrue(resumed.until(ConverseEvent::hasSessionStarted).getSessionStarted().getResumed());
        resumed.user("Who am I?");
        assertTrue(Await.until(WAIT, () -> !held.isEmpty()));
        finishHeldAnswers();
        resumed.until(ConverseEvent::hasTurnCompleted);
        String history = upstream.lastRequest().body();
        assertTrue(history.contains("Hi, I am Ada.") && history.contains("Hello there")
            && history.contains("Who am I?"), "the other replica sends the whole history: " + history);
        resumed.requests.onCompleted();
        resumed.closed.get(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void callsStillRunningAtTheDrainTimeoutAreCancelledWithUnavailable() throws Exception {
    router("50ms");
    StreamedAnswer answer = StreamedAnswer.ask(router.channel(), ask("never finished"));
    assertTrue(Await.until(WAIT, () -> !answer.events.isEmpty()));

    Future<Void> drained = router.server().drain();

    Status cut = answer.ended.get(10, TimeUnit.SECONDS);
    assertEquals(Status.Code.UNAVAILABLE, cut.getCode());
    assertTrue(cut.getDescription().contains("drain_timeout"), cut.getDescription());
    Await.result(drained);
  }

  @Test
  void aSecondDrainIsTheSameDrain() {
    router("30s");
    Future<Void> first = router.server().drain();
    assertTrue(first == router.server().drain());
    Await.result(first);
  }

  private static ConverseRequest start() {
    return ConverseRequest.newBuilder().setStart(ConverseStart.newBuilder().setModel("openai/m")).build();
  }

  /** One StreamChat call seen from a grpc-java client. */
  private static final class StreamedAnswer implements StreamObserver<ChatEvent> {
    final List<ChatEvent> events = new CopyOnWriteArrayList<>();
    final CompletableFuture<Status> ended = new CompletableFuture<>();

    static StreamedAnswer ask(Channel channel, ChatRequest request) {
      StreamedAnswer answer = new StreamedAnswer();
      ChatServiceGrpc.newStub(channel).streamChat(request, answer);
      return answer;
    }

    String text() {
      return events.stream().filter(ChatEvent::hasTextDelta).map(event -> event.getTextDelta().getText())
          .collect(Collectors.joining());
    }

    @Override
    public void onNext(ChatEvent event) {
      events.add(event);
    }

    @Override
    public void onError(Throwable failure) {
      ended.complete(Status.fromThrowable(failure));
    }

    @Override
    public void onCompleted() {
      ended.complete(Status.OK);
    }
  }

  /** A Watch of the server's overall health: the statuses it was told, in order. */
  private static boolean refusesConnections(int port) {
    try (Socket ignored = new Socket("127.0.0.1", port)) {
      return false;
    } catch (ConnectException refused) {
      return true;
    } catch (IOException other) {
      throw new UncheckedIOException(other);
    }
  }

  private static final class HealthWatch implements StreamObserver<HealthCheckResponse> {
    final List<ServingStatus> statuses = new CopyOnWriteArrayList<>();

    static HealthWatch of(Channel channel, String service) {
      HealthWatch watch = new HealthWatch();
      HealthGrpc.newStub(channel).watch(HealthCheckRequest.newBuilder().setService(service).build(), watch);
      return watch;
    }

    @Override
    public void onNext(HealthCheckResponse response) {
      statuses.add(response.getStatus());
    }

    @Override
    public void onError(Throwable failure) {
    }

    @Override
    public void onCompleted() {
    }
  }
}
