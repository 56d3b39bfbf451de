package dev.llmrouter.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Record and replay through the real router: what a caller sees live in record mode is byte for byte what it sees
 * replayed (origin aside), replays need no upstream, re-recording changes no byte, failures write nothing. The router
 * runs {@value #EVENT_LOOPS} event loops, and concurrent calls come over several connections, so they meet on
 * different loops.
 */
class CassetteRecordReplayTest {

  private static final int EVENT_LOOPS = 4;
  private static final int CONNECTIONS = 8;

  private static final String TEXT_STREAM = chunk("{\"role\":\"assistant\",\"content\":\"Bonjour\"}", null)
      + chunk("{\"content\":\" le monde\"}", null) + chunk("{}", "\"stop\"")
      + "data: {\"id\":\"chatcmpl-live-%1$s\",\"created\":%1$s,\"model\":\"gpt-4o-mini-2024\",\"choices\":[],"
      + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3}}\n\ndata: [DONE]\n\n";
  private static final String TOOL_STREAM = chunk("{\"tool_calls\":[{\"index\":0,\"id\":\"call_live_%1$s\","
      + "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\"}}]}", null)
      + chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}", null)
      + chunk("{}", "\"tool_calls\"") + "data: [DONE]\n\n";

  @TempDir
  Path cassettes;
  private Vertx vertx;
  private MockUpstream upstream;
  private final List<RunningRouter> routers = new ArrayList<>();
  private int served;
  private boolean recordTiming;

  private static String chunk(String delta, String finish) {
    return "data: {\"id\":\"chatcmpl-live-%1$s\",\"created\":%1$s,\"model\":\"gpt-4o-mini-2024\",\"choices\":"
        + "[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + finish + "}]}\n\n";
  }

  @BeforeEach
  void start() {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(EVENT_LOOPS));
    upstream = MockUpstream.start(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    for (RunningRouter router : routers) {
      router.close();
    }
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  /** Serves {@code sse} (ids and timestamps differ on every call, as a real provider's do) or its JSON twin. */
  private void upstreamAnswers(String sse) {
    upstream.answer(r -> {
      served++;
      String body = sse.formatted(1_700_000_000 + served);
      r.response().putHeader("content-type", "text/event-stream").end(body);
    });
  }

  private RunningRouter router(String mode) {
    RunningRouter router = RunningRouter.start(vertx, """
        event_loops: %s
        cassettes:
          dir: "%s"
          mode: %s
          record_timing: %s
          redact: { patterns: ["acct_[0-9]{6}"], fields: [customer_email] }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        """.formatted(EVENT_LOOPS, cassettes, mode, recordTiming, upstream.baseUrl()));
    routers.add(router);
    return router;
  }

  private static ChatRequest ask(String text) {
    return ChatRequest.newBuilder().setModel("openai/gpt-4o-mini").addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText(text))).build();
  }

  private static ChatRequest withTool(ChatRequest request) {
    return request.toBuilder().addTools(Tool.newBuilder().setName("get_weather").setParameters(Struct.newBuilder()
        .putFields("type", Value.newBuilder().setStringValue("object").build()))).build();
  }

  private static ChatServiceGrpc.ChatServiceBlockingStub scoped(RunningRouter router, String scope) {
    return withHeader(router.chat(), "x-cassette-scope", scope);
  }

  private static ChatServiceGrpc.ChatServiceBlockingStub withHeader(ChatServiceGrpc.ChatServiceBlockingStub stub,
      String name, String value) {
    Metadata metadata = new Metadata();
    metadata.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata));
  }

  private static List<byte[]> streamBytes(ChatServiceGrpc.ChatServiceBlockingStub stub, ChatRequest request) {
    List<byte[]> events = new ArrayList<>();
    stub.streamChat(request).forEachRemaining(e -> events.add(withoutOutcome(e).toByteArray()));
    return events;
  }

  private static ChatEvent withoutOutcome(ChatEvent event) {
    if (event.hasStart()) {
      return event.toBuilder().setStart(event.getStart().toBuilder().setOrigin(
          event.getStart().getOrigin().toBuilder().clearCassette().clearAttempts())).build();
    }
    if (event.hasDone()) {
      return event.toBuilder().setDone(event.getDone().toBuilder().setResponse(
          withoutOutcome(event.getDone().getResponse()))).build();
    }
    return event;
  }

  private static ChatResponse withoutOutcome(ChatResponse response) {
    return response.toBuilder().setOrigin(response.getOrigin().toBuilder().clearCassette().clearAttempts()).build();
  }

  private List<Path> files() throws IOException {
    try (Stream<Path> walk = Files.walk(cassettes)) {
      return walk.filter(Files::isRegularFile).sorted().toList();
    }
  }

  @Test
  void streamChatRecordedThenReplayedWithTheUpstreamStoppedIsByteIdentical() throws Exception {
    for (String sse : List.of(TEXT_STREAM, TOOL_STREAM)) {
      upstreamAnswers(sse);
      ChatRequest request = sse == TEXT_STREAM ? ask("Say hello in French") : withTool(ask("Weather in Paris?"));
      List<byte[]> live = streamBytes(scoped(router("record"), "shapes"), request);
      List<ChatEvent> recorded = new ArrayList<>();
      scoped(routers.get(routers.size() - 1), "shapes").streamChat(request).forEachRemaining(recorded::add);
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, recorded.get(0).getStart().getOrigin().getCassette());

      int before = upstream.received().size();
      List<byte[]> replayed = streamBytes(scoped(router("replay"), "shapes"), request);
      assertEquals(before, upstream.received().size(), "replay made no upstream call");
      assertEquals(live.size(), replayed.size());
      for (int i = 0; i < live.size(); i++) {
        assertArrayEquals(live.get(i), replayed.get(i), "event " + i);
      }
    }
    upstream.close(); // the upstream is gone: replays still answer
    RunningRouter replaying = router("replay");
    ChatResponse tool = scoped(replaying, "shapes").chat(withTool(ask("Weather in Paris?")));
    assertEquals("get_weather", tool.getMessage().getToolCalls(0).getName());
    assertEquals("{\"city\":\"Paris\"}", tool.getMessage().getToolCalls(0).getArgumentsJson());
    assertTrue(tool.getMessage().getToolCalls(0).getId().startsWith("call_"), "ids derive from the key");
    assertFalse(tool.getMessage().getToolCalls(0).getId().contains("live"), "the upstream's id is not kept");
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, tool.getOrigin().getCassette());
  }

  @Test
  void aSettingTheModelCannotHonourIsRefusedInReplayAsLiveAndADroppedOneIsNamedByTheReplay() {
    ChatRequest warm = ask("Think warmly").toBuilder().setModel("openai/o3")
        .setSettings(GenerationSettings.newBuilder().setTemperature(0.5)).build();
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> router("replay").chat().chat(warm));
    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode(), "not a cassette miss");
    assertTrue(refused.getStatus().getDescription().contains("settings.temperature"));

    upstreamAnswers(TEXT_STREAM);
    ChatRequest dropping = warm.toBuilder().setDropUnsupportedSettings(true).build();
    ChatResponse live = router("record").chat().chat(dropping);
    ChatResponse replayed = router("replay").chat().chat(dropping);

    assertEquals(List.of("settings.temperature"), live.getOrigin().getDroppedSettingsList());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, replayed.getOrigin().getCassette());
    assertEquals(List.of("settings.temperature"), replayed.getOrigin().getDroppedSettingsList());
  }

  @Test
  void anAnswerEchoingASecretIsRedactedInItsCassetteAndItsReplaySaysSo() throws Exception {
    String key = "sk-proj-" + "Z".repeat(40);
    upstreamAnswers(chunk("{\"role\":\"assistant\",\"content\":\"Your key is " + key + "\"}", null)
        + chunk("{}", "\"stop\"") + "data: [DONE]\n\n");
    ChatRequest request = ask("Which key did I give you?");

    ChatResponse live = router("record").chat().chat(request);
    ChatResponse replayed = router("replay").chat().chat(request);

    assertEquals("Your key is " + key, live.getMessage().getParts(0).getText(), "the live caller gets the answer");
    assertFalse(live.getOrigin().getRedacted());
    assertEquals("Your key is [REDACTED]", replayed.getMessage().getParts(0).getText());
    assertTrue(replayed.getOrigin().getRedacted(), "the replay says it is not what the provider sent");
    assertFalse(Files.readString(files().get(0)).contains(key));
  }

  @Test
  void chatRecordedThenReplayedIsByteIdenticalAndSharesTheStreamsCassette() {
    upstreamAnswers(TEXT_STREAM);
    ChatRequest request = ask("Say hello in French");
    ChatResponse live = router("record").chat().chat(request);
    assertEquals("Bonjour le monde", live.getMessage().getParts(0).getText());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, live.getOrigin().getCassette());
    assertEquals(64, live.getOrigin().getCassetteKey().length());
    assertEquals("default", live.getOrigin().getCassetteScope());
    RunningRouter replaying = router("replay");
    ChatResponse replayed = replaying.chat().chat(request);
    assertArrayEquals(withoutOutcome(live).toByteArray(), withoutOutcome(replayed).toByteArray());
    List<ChatEvent> streamed = new ArrayList<>();
    replaying.chat().streamChat(request).forEachRemaining(streamed::add);
    assertEquals(withoutOutcome(replayed), withoutOutcome(streamed.get(streamed.size() - 1).getDone().getResponse()),
        "a unary call and a streaming call share one cassette");
  }

  @Test
  void recordingTheSameExchangeTwiceWritesTheSameBytes() throws Exception {
    upstreamAnswers(TOOL_STREAM);
    RunningRouter recording = router("record");
    recording.chat().chat(withTool(ask("Weather in Paris?")));
    Path file = files().get(0);
    byte[] first = Files.readAllBytes(file);
    recording.chat().chat(withTool(ask("Weather in Paris?")));
    assertEquals(2, served, "both calls went upstream, with different ids and timestamps");
    assertEquals(1, files().size());
    assertArrayEquals(first, Files.readAllBytes(file));
    String text = new String(first);
    assertFalse(text.contains("chatcmpl-live"), "no upstream id in the file");
    assertFalse(text.contains("17000000"), "no upstream timestamp in the file");
  }

  /** Makes {@code count} calls at once, spread over the connections, and returns their results in call order. */
  private static <T> List<T> concurrently(int count, List<ChatServiceGrpc.ChatServiceBlockingStub> connections,
      Function<ChatServiceGrpc.ChatServiceBlockingStub, T> call) throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(count);
    try {
      List<Future<T>> calls = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        ChatServiceGrpc.ChatServiceBlockingStub connection = connections.get(i % connections.size());
        calls.add(callers.submit(() -> call.apply(connection)));
      }
      List<T> results = new ArrayList<>();
      for (Future<T> result : calls) {
        results.add(result.get());
      }
      return results;
    } finally {
      callers.shutdownNow();
    }
  }

  @Test
  void concurrentIdenticalRequestsOverSeveralConnectionsInAutoModeMakeOneUpstreamCall() throws Exception {
    int calls = 48;
    CompletableFuture<HttpServerRequest> heldUpstreamRequest = new CompletableFuture<>();
    upstream.answer(heldUpstreamRequest::complete);
    RunningRouter router = router("auto");
    List<ChatServiceGrpc.ChatServiceBlockingStub> connections = router.chatsOnNewConnections(CONNECTIONS);
    ExecutorService releaser = Executors.newSingleThreadExecutor();
    try {
      // The upstream answers once every call is in the router: they all meet the one recording in flight.
      releaser.submit(() -> {
        Await.poll(Duration.ofSeconds(10), () -> router.openStreams("StreamChat"), open -> open == calls);
        heldUpstreamRequest.get(10, TimeUnit.SECONDS).response().putHeader("content-type", "text/event-stream")
            .end(TEXT_STREAM.formatted(1));
        return null;
      });
      List<List<byte[]>> answers = concurrently(calls, connections,
          connection -> streamBytes(connection, ask("Say hello in French")));

      assertEquals(1, upstream.received().size(), "one upstream call");
      assertEquals(1, files().size(), "one file");
      for (List<byte[]> answer : answers) {
        assertEquals(answers.get(0).size(), answer.size());
        for (int event = 0; event < answer.size(); event++) {
          assertArrayEquals(answers.get(0).get(event), answer.get(event), "identical answers");
        }
      }
    } finally {
      releaser.shutdownNow();
    }
  }

  @Test
  void whenTheCallRecordingAnAnswerIsCancelledTheCallsWaitingForItAreToldAndTheNextOneRecordsAgain()
      throws Exception {
    CompletableFuture<HttpServerRequest> heldUpstreamRequest = new CompletableFuture<>();
    upstream.script(heldUpstreamRequest::complete,
        r -> r.response().putHeader("content-type", "text/event-stream").end(TEXT_STREAM.formatted(2)));
    RunningRouter router = router("auto");
    List<ChatServiceGrpc.ChatServiceBlockingStub> connections = router.chatsOnNewConnections(2);
    AtomicReference<ClientCallStreamObserver<ChatRequest>> recordingCall = new AtomicReference<>();
    router.chatAsync().streamChat(ask("Say hello in French"), new ClientResponseObserver<ChatRequest, ChatEvent>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<ChatRequest> call) {
        recordingCall.set(call);
      }

      @Override
      public void onNext(ChatEvent event) {
      }

      @Override
      public void onError(Throwable failure) {
      }

      @Override
      public void onCompleted() {
      }
    });
    heldUpstreamRequest.get(10, TimeUnit.SECONDS);
    ExecutorService waiting = Executors.newSingleThreadExecutor();
    try {
      Future<List<byte[]>> waiter = waiting.submit(() -> streamBytes(connections.get(0), ask("Say hello in French")));
      // The second call has joined the recording (not merely begun: its cassette lookup runs on a worker first).
      assertEquals(1.0, Await.poll(Duration.ofSeconds(10),
          () -> router.count("llmrouter.cassette.recordings.joined"), joined -> joined == 1));

      recordingCall.get().cancel("the caller left", null);

      StatusRuntimeException told = assertThrows(StatusRuntimeException.class, () -> {
        try {
          waiter.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          throw e.getCause();
        }
      });
      assertEquals(Status.Code.ABORTED, told.getStatus().getCode(), told.getMessage());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, connections.get(1).chat(ask("Say hello in French"))
          .getOrigin().getCassette(), "the next identical call records, instead of waiting for the cancelled one");
      assertEquals(2, upstream.received().size());
    } finally {
      waiting.shutdownNow();
    }
  }

  @Test
  void plantedSecretsNeverReachTheDisk() throws Exception {
    String secretKey = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123456789";
    upstream.answer(r -> r.response().putHeader("content-type", "application/json").end("""
        {"id":"x","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant",
         "content":"your token is Bearer eyJhbGciOi.secret-part and key AIzaSyA1234567890abcdefghijklmnopqrstuv"},
         "finish_reason":"stop"}]}"""));
    ChatRequest request = ask("my key is " + secretKey + ", my account acct_123456").toBuilder()
        .setSettings(GenerationSettings.newBuilder().setProviderOptions(Struct.newBuilder()
            .putFields("api_key", Value.newBuilder().setStringValue("hunter2").build())
            .putFields("customer_email", Value.newBuilder().setStringValue("ada@example.com").build()))).build();
    router("record").chat().chat(request);
    String written = Files.readString(files().get(0));
    for (String secret : List.of(secretKey, "hunter2", "eyJhbGciOi.secret-part", "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        RunningRouter.TEST_KEY, "acct_123456", "ada@example.com")) {
      assertFalse(written.contains(secret), "secret on disk: " + secret);
    }
    assertTrue(written.contains("[REDACTED]"));
  }

  @Test
  void aMissNamesTheKeyTheScopeTheClosestCassetteAndWhatDiffers() {
    upstreamAnswers(TEXT_STREAM);
    scoped(router("record"), "suite/test").chat(ask("Say hello in French"));
    StatusRuntimeException miss = assertThrows(StatusRuntimeException.class,
        () -> scoped(router("replay"), "suite/test").chat(ask("Say hello in German")));
    assertEquals(Status.Code.FAILED_PRECONDITION, miss.getStatus().getCode());
    String message = miss.getStatus().getDescription();
    assertTrue(message.contains("suite/test"), message);
    assertTrue(message.contains("closest cassette"), message);
    assertTrue(message.contains("Say hello in French") && message.contains("Say hello in German"), message);
    assertTrue(message.contains("--mode record"), message);
  }

  @Test
  void aCorruptCassetteIsReportedWithItsPathAndOthersKeepWorking() throws Exception {
    upstreamAnswers(TEXT_STREAM);
    RunningRouter recording = router("record");
    recording.chat().chat(ask("one"));
    recording.chat().chat(ask("two"));
    Path broken = files().get(0);
    Files.writeString(broken, "{\"format_version\": 1, \"key\": ");
    RunningRouter replaying = router("replay");
    List<String> outcomes = new ArrayList<>();
    for (String text : List.of("one", "two")) {
      try {
        outcomes.add(replaying.chat().chat(ask(text)).getMessage().getParts(0).getText());
      } catch (StatusRuntimeException e) {
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains(broken.toString()), e.getStatus().getDescription());
        outcomes.add("corrupt");
      }
    }
    assertTrue(outcomes.contains("corrupt") && outcomes.contains("Bonjour le monde"), outcomes.toString());
  }

  @Test
  void anExchangeCutOffMidStreamOrFailingUpstreamWritesNothing() throws Exception {
    upstream.answer(r -> r.response().setChunked(true).putHeader("content-type", "text/event-stream")
        .write(chunk("{\"content\":\"half\"}", null).formatted(1))
        .onComplete(v -> r.connection().close()));
    RunningRouter router = router("record");
    assertThrows(StatusRuntimeException.class, () -> router.chat().streamChat(ask("cut")).forEachRemaining(e -> { }));
    upstream.reply(500, "application/json", "{\"error\":{\"message\":\"boom\"}}");
    assertEquals(Status.Code.UNAVAILABLE, assertThrows(StatusRuntimeException.class,
        () -> router.chat().chat(ask("fails"))).getStatus().getCode());
    assertEquals(List.of(), files(), "no cassette written");
  }

  @Test
  void unsafeScopesAreRejected() {
    RunningRouter router = router("replay");
    for (String scope : List.of("../escape", "/etc", "a/../b")) {
      StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
          () -> scoped(router, scope).chat(ask("x")));
      assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode(), scope);
      assertTrue(error.getStatus().getDescription().contains("x-cassette-scope"), error.getMessage());
    }
  }

  @Test
  void theModeCanBeChosenPerCallOnlyWhereTheConfigAllowsIt() {
    RunningRouter router = router("replay");
    Metadata metadata = new Metadata();
    metadata.put(Metadata.Key.of("x-cassette-mode", Metadata.ASCII_STRING_MARSHALLER), "record");
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> router.chat()
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata)).chat(ask("x")));
    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("allow_mode_override"), error.getMessage());
  }

  @Test
  void withSequencingTheNthIdenticalRequestGetsTheNthTake() throws Exception {
    upstream.answer(r -> {
      served++;
      r.response().putHeader("content-type", "application/json").end(("{\"id\":\"x\",\"created\":1,\"model\":\"m\","
          + "\"choices\":[{\"index\":0,\"message\":{\"content\":\"take %d\"},\"finish_reason\":\"stop\"}]}")
          .formatted(served));
    });
    ChatServiceGrpc.ChatServiceBlockingStub recording = withHeader(router("record").chat(), "x-cassette-take",
        "sequence");
    recording.chat(ask("roll a die"));
    recording.chat(ask("roll a die"));
    assertEquals(1, files().size(), "both takes live in one cassette");

    RunningRouter replaying = router("replay");
    ChatServiceGrpc.ChatServiceBlockingStub sequenced = withHeader(replaying.chat(), "x-cassette-take", "sequence");
    assertEquals("take 1", sequenced.chat(ask("roll a die")).getMessage().getParts(0).getText());
    assertEquals("take 2", sequenced.chat(ask("roll a die")).getMessage().getParts(0).getText());
    StatusRuntimeException third = assertThrows(StatusRuntimeException.class, () -> sequenced.chat(ask("roll a die")));
    assertEquals(Status.Code.FAILED_PRECONDITION, third.getStatus().getCode());
    assertTrue(third.getStatus().getDescription().contains("has 2 take(s)"), third.getMessage());
    assertEquals("take 1", replaying.chat().chat(ask("roll a die")).getMessage().getParts(0).getText(),
        "without sequencing every identical request gets the first take");
  }

  @Test
  void concurrentSequencedCallsOverSeveralConnectionsRecordEveryTakeAndReplayEachOnce() throws Exception {
    int takes = 24;
    AtomicInteger answered = new AtomicInteger();
    upstream.answer(r -> r.response().putHeader("content-type", "application/json").end(("{\"id\":\"x\","
        + "\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{\"content\":\"take %d\"},"
        + "\"finish_reason\":\"stop\"}]}").formatted(answered.incrementAndGet())));
    List<ChatServiceGrpc.ChatServiceBlockingStub> recording = router("record").chatsOnNewConnections(CONNECTIONS)
        .stream().map(stub -> withHeader(stub, "x-cassette-take", "sequence")).toList();
    Set<String> everyTake = IntStream.rangeClosed(1, takes).mapToObj(n -> "take " + n).collect(Collectors.toSet());

    List<String> recorded = concurrently(takes, recording, stub -> textOf(stub.chat(ask("roll a die"))));

    assertEquals(takes, upstream.received().size());
    assertEquals(everyTake, new HashSet<>(recorded), "each caller got its own take");
    assertEquals(1, files().size(), "all takes live in one cassette");

    RunningRouter replaying = router("replay");
    List<ChatServiceGrpc.ChatServiceBlockingStub> sequenced = replaying.chatsOnNewConnections(CONNECTIONS).stream()
        .map(stub -> withHeader(stub, "x-cassette-take", "sequence")).toList();
    List<String> replayed = concurrently(takes, sequenced, stub -> textOf(stub.chat(ask("roll a die"))));
    assertEquals(everyTake, new HashSet<>(replayed), "every recorded take, each replayed once");
    StatusRuntimeException oneTooMany = assertThrows(StatusRuntimeException.class,
        () -> sequenced.get(0).chat(ask("roll a die")));
    assertTrue(oneTooMany.getStatus().getDescription().contains("has " + takes + " take(s)"), oneTooMany.getMessage());
  }

  private static String textOf(ChatResponse response) {
    return response.getMessage().getParts(0).getText();
  }

  @Test
  void pacedReplayKeepsTheRecordedGapsOrAFixedOne() throws Exception {
    upstream.answer(r -> {
      HttpServerResponse response = r.response().setChunked(true).putHeader("content-type", "text/event-stream");
      response.write(chunk("{\"content\":\"tick\"}", null).formatted(1));
      vertx.setTimer(300, t -> response.end(chunk("{\"content\":\" tock\"}", "\"stop\"").formatted(1)
          + "data: [DONE]\n\n"));
    });
    recordTiming = true; // off by default: offsets differ between recordings, so they would show in `git diff`
    router("record").chat().streamChat(ask("clock")).forEachRemaining(e -> { });
    assertTrue(Files.readString(files().get(0)).contains("offsets_ms"), "timing is recorded when asked for");

    RunningRouter replaying = router("replay");
    assertTrue(gapBetweenTextDeltas(withHeader(replaying.chat(), "x-cassette-pace", "recorded")) >= 250,
        "the recorded gap is kept");
    assertTrue(gapBetweenTextDeltas(withHeader(replaying.chat(), "x-cassette-pace", "120")) >= 100,
        "a fixed gap is kept");
    StatusRuntimeException bad = assertThrows(StatusRuntimeException.class, () -> withHeader(replaying.chat(),
        "x-cassette-pace", "slowly").chat(ask("clock")));
    assertEquals(Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
  }

  private static long gapBetweenTextDeltas(ChatServiceGrpc.ChatServiceBlockingStub stub) {
    List<Long> arrivals = new ArrayList<>();
    stub.streamChat(ask("clock")).forEachRemaining(e -> {
      if (e.hasTextDelta()) {
        arrivals.add(System.nanoTime());
      }
    });
    return (arrivals.get(1) - arrivals.get(0)) / 1_000_000;
  }

  @Test
  void aLargeRequestIsKeyedOffTheEventLoopAndStoredByDigest() throws Exception {
    upstreamAnswers(TEXT_STREAM);
    ChatRequest large = ask("Describe this").toBuilder().setMessages(0, ask("Describe this").getMessages(0)
        .toBuilder().addParts(Part.newBuilder().setImage(dev.llmrouter.api.v1.Image.newBuilder()
            .setMimeType("image/png").setData(com.google.protobuf.ByteString.copyFrom(new byte[1024 * 1024])))))
        .build();
    router("record").chat().chat(large);
    assertTrue(Files.size(files().get(0)) < 16 * 1024, "binary parts are stored by digest, not inline");
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, router("replay").chat().chat(large).getOrigin().getCassette());
  }
}
