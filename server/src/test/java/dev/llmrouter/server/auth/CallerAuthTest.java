package dev.llmrouter.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.FieldMask;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.llmrouter.api.v1.AdminServiceGrpc;
import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.CallerKey;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.CreateKeyRequest;
import dev.llmrouter.api.v1.CreateKeyResponse;
import dev.llmrouter.api.v1.GetUsageRequest;
import dev.llmrouter.api.v1.KeyLimits;
import dev.llmrouter.api.v1.ListCallsRequest;
import dev.llmrouter.api.v1.ListKeysRequest;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.api.v1.ModelServiceGrpc;
import dev.llmrouter.api.v1.ObservabilityServiceGrpc;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.RevokeKeyRequest;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.UpdateKeyRequest;
import dev.llmrouter.api.v1.UsageGrouping;
import dev.llmrouter.api.v1.UsageRow;
import dev.llmrouter.server.cli.CallsCommand;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.Conversation;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.OpenAiAnswerTable;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Caller keys end to end through grpc-java, on a router keeping them in its data folder: every decision of
 * {@link CallerAuth} at the gRPC door (no key, an unknown, revoked or expired one; models and cassette modes; calls
 * and tokens per minute; the budget, replays costing nothing), `ListModels`, Converse, the call log and usage by key,
 * `AdminService` for the admin key only, the admin listener's lock, and the key found nowhere: not upstream, not on
 * disk, not in the logs.
 */
class CallerAuthTest {

  private static final ManualClock CLOCK = new ManualClock();
  private static final String MODEL = "openai/gpt-4o-mini";
  /** Each answer of the upstream: 9 input and 4 output tokens, at 1000 USD per million each. */
  private static final double COST = 0.013;
  private static final ConcurrentLinkedQueue<String> LOGGED = new ConcurrentLinkedQueue<>();
  private static final Handler LOG_CAPTURE = new Handler() {
    @Override
    public void publish(LogRecord record) {
      LOGGED.add(record.getMessage() + " " + record.getThrown());
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
  };

  @TempDir
  static Path dir;

  private static RouterWithUpstream setup;
  private static RunningRouter router;

  @BeforeAll
  static void start() {
    Logger.getLogger("").addHandler(LOG_CAPTURE);
    setup = RouterWithUpstream.start("""
        data_dir: "%s"
        admin_listen: 127.0.0.1:0
        cassettes: { dir: "%s", mode: "off", allow_mode_override: true }
        auth: { required: true, admin_key: "${ROUTER_ADMIN_KEY}", max_failed_attempts: 1000 }
        prices:
          gpt-4o-mini: { input: 1000, output: 1000 }
        providers:
          - { name: openai, type: openai, base_url: "%%1$s", api_key: "${TEST_API_KEY}", models: [gpt-4o-mini, gpt-4o] }
        models:
          - { alias: fast, targets: [{ model: openai/gpt-4o-mini }] }
        """.formatted(dir.resolve("data"), dir.resolve("cassettes")), CLOCK);
    router = setup.router();
    OpenAiAnswerTable.answer(setup.upstream(), Map.of("What is the capital of France?", "Paris."));
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
    Logger.getLogger("").removeHandler(LOG_CAPTURE);
  }

  /** Every test starts after every window of the one before has ended. */
  @BeforeEach
  void nextMonth() {
    CLOCK.advance(java.time.Duration.ofDays(31));
  }

  private static CreateKeyResponse create(KeyLimits limits) {
    return router.admin().createKey(CreateKeyRequest.newBuilder().setName("test").setLimits(limits).build());
  }

  private static ChatRequest ask(String model) {
    return ChatRequest.newBuilder().setModel(model).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText("What is the capital of France?"))).build();
  }

  private static ChatServiceGrpc.ChatServiceBlockingStub chat(String key) {
    return RunningRouter.withKey(router.chat(), key);
  }

  private static <S extends AbstractStub<S>> S withHeader(S stub, String name, String value) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private static StatusRuntimeException refused(Status.Code code, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getMessage());
    return e;
  }

  private static <T extends com.google.protobuf.Message> T detail(StatusRuntimeException e, Class<T> type)
      throws InvalidProtocolBufferException {
    for (Any detail : StatusProto.fromThrowable(e).getDetailsList()) {
      if (detail.is(type)) {
        return detail.unpack(type);
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in " + e);
  }

  private static String reason(StatusRuntimeException e) throws InvalidProtocolBufferException {
    return detail(e, ErrorInfo.class).getReason();
  }

  private static java.time.Duration retryAfter(StatusRuntimeException e) throws InvalidProtocolBufferException {
    Duration delay = detail(e, RetryInfo.class).getRetryDelay();
    return java.time.Duration.ofSeconds(delay.getSeconds(), delay.getNanos());
  }

  private static CallerKey listed(String id) {
    return router.admin().listKeys(ListKeysRequest.getDefaultInstance()).getKeysList().stream()
        .filter(key -> key.getId().equals(id)).findFirst().orElseThrow();
  }

  @Test
  void aCallWithoutAValidKeyIsUnauthenticated() throws Exception {
    int sent = setup.upstream().received().size();
    assertEquals("KEY_MISSING", reason(refused(Status.Code.UNAUTHENTICATED, () -> router.chat().chat(ask(MODEL)))));
    String unknown = "llmr_" + "A".repeat(43);
    StatusRuntimeException notOurs = refused(Status.Code.UNAUTHENTICATED, () -> chat(unknown).chat(ask(MODEL)));
    assertEquals("KEY_INVALID", reason(notOurs));
    assertFalse(notOurs.getMessage().contains(unknown), "an error never quotes a key");
    refused(Status.Code.UNAUTHENTICATED, () -> chat("sk-not-a-router-key").chat(ask(MODEL)));
    refused(Status.Code.UNAUTHENTICATED, () -> RunningRouter.withKey(router.models(), unknown)
        .listModels(ListModelsRequest.getDefaultInstance()));
    Iterator<ChatEvent> stream = router.chat().streamChat(ask(MODEL));
    refused(Status.Code.UNAUTHENTICATED, stream::hasNext);
    assertEquals(sent, setup.upstream().received().size(), "nothing was sent upstream");
  }

  @Test
  void aValidKeyIsAnsweredOnEveryRpcAndSentAsAnyOfItsHeaders() throws Exception {
    String key = create(KeyLimits.getDefaultInstance()).getSecret();

    assertEquals("Paris.", chat(key).chat(ask(MODEL)).getMessage().getParts(0).getText());
    String oneOff = key.substring(0, key.length() - 1) + (key.endsWith("A") ? "B" : "A");
    assertEquals("KEY_INVALID", reason(refused(Status.Code.UNAUTHENTICATED, () -> chat(oneOff).chat(ask(MODEL)))),
        "a key one character off the key the event loop let in last");
    Iterator<ChatEvent> events = chat(key).streamChat(ask(MODEL));
    ChatEvent last = null;
    while (events.hasNext()) {
      last = events.next();
    }
    assertTrue(last.hasDone());
    assertEquals("Paris.", withHeader(router.chat(), "x-api-key", key).chat(ask(MODEL)).getMessage().getParts(0)
        .getText());
    assertEquals("Paris.", withHeader(router.chat(), "x-goog-api-key", key).chat(ask(MODEL)).getMessage()
        .getParts(0).getText());
    assertEquals("Paris.", chat(RunningRouter.TEST_ADMIN_KEY).chat(ask(MODEL)).getMessage().getParts(0).getText(),
        "the admin key may call too");
    for (var request : setup.upstream().received()) {
      assertFalse(request.headers().toString().contains(key), "the caller's key is never forwarded");
      assertEquals("Bearer " + RunningRouter.TEST_KEY, request.headers().get("authorization"));
    }
  }

  @Test
  void aRevokedOrExpiredKeyIsRefusedAtOnce() throws Exception {
    CreateKeyResponse revoked = create(KeyLimits.getDefaultInstance());
    chat(revoked.getSecret()).chat(ask(MODEL));
    router.admin().revokeKey(RevokeKeyRequest.newBuilder().setId(revoked.getKey().getId()).build());
    assertEquals("KEY_REVOKED", reason(refused(Status.Code.UNAUTHENTICATED,
        () -> chat(revoked.getSecret()).chat(ask(MODEL)))), "the router that revoked it forgets it at once");

    CreateKeyResponse expiring = router.admin().createKey(CreateKeyRequest.newBuilder().setName("temp")
        .setExpiresIn(Duration.newBuilder().setSeconds(3600)).build());
    chat(expiring.getSecret()).chat(ask(MODEL));
    CLOCK.advance(java.time.Duration.ofHours(1));
    assertEquals("KEY_EXPIRED", reason(refused(Status.Code.UNAUTHENTICATED,
        () -> chat(expiring.getSecret()).chat(ask(MODEL)))));
  }

  @Test
  void aKeyCallsOnlyItsModelsAndSeesOnlyThem() throws Exception {
    String key = create(KeyLimits.newBuilder().addModels("openai/gpt-4o-m*").build()).getSecret();

    chat(key).chat(ask(MODEL));
    StatusRuntimeException other = refused(Status.Code.PERMISSION_DENIED, () -> chat(key).chat(ask("openai/gpt-4o")));
    assertEquals("MODEL_NOT_ALLOWED", reason(other));
    assertEquals("PERMISSION_DENIED: key " + other.getStatus().getDescription().split(" ")[1]
        + " may not call 'openai/gpt-4o'; it may call [openai/gpt-4o-m*]", other.getMessage());
    refused(Status.Code.PERMISSION_DENIED, () -> chat(key).chat(ask("fast")));
    List<String> visible = RunningRouter.withKey(router.models(), key)
        .listModels(ListModelsRequest.getDefaultInstance()).getModelsList().stream().map(Model::getName).toList();
    assertEquals(List.of(MODEL), visible);
    assertTrue(RunningRouter.withKey(router.models(), RunningRouter.TEST_ADMIN_KEY)
        .listModels(ListModelsRequest.getDefaultInstance()).getModelsCount() > 1);
  }

  @Test
  void aReplayOnlyKeyCannotRecordNorReachAProvider() throws Exception {
    String key = create(KeyLimits.newBuilder().addCassetteModes("replay").build()).getSecret();

    assertEquals("CASSETTE_MODE_NOT_ALLOWED", reason(refused(Status.Code.PERMISSION_DENIED,
        () -> chat(key).chat(ask(MODEL)))), "the router's own mode is off");
    refused(Status.Code.PERMISSION_DENIED, () -> withHeader(chat(key), "x-cassette-mode", "record").chat(ask(MODEL)));
    StatusRuntimeException miss = refused(Status.Code.FAILED_PRECONDITION,
        () -> withHeader(chat(key), "x-cassette-mode", "replay").chat(ask("openai/gpt-4o")));
    assertEquals("CASSETTE_MISS", reason(miss), "replay is allowed: it got as far as the cassettes");
  }

  @Test
  void callsPerMinuteAreCountedUntilTheMinuteEnds() throws Exception {
    String key = create(KeyLimits.newBuilder().setRequestsPerMinute(3).build()).getSecret();

    for (int i = 0; i < 3; i++) {
      chat(key).chat(ask(MODEL));
    }
    CLOCK.advance(java.time.Duration.ofSeconds(20));
    StatusRuntimeException limited = refused(Status.Code.RESOURCE_EXHAUSTED, () -> chat(key).chat(ask(MODEL)));
    assertEquals("KEY_RATE_LIMITED", reason(limited));
    assertEquals("requests_per_minute", detail(limited, ErrorInfo.class).getMetadataOrThrow("limit"));
    assertEquals(java.time.Duration.ofSeconds(40), retryAfter(limited));
    CLOCK.advance(java.time.Duration.ofSeconds(40));
    chat(key).chat(ask(MODEL));
  }

  @Test
  void tokensPerMinuteRefuseOnceTheMinutesTokensReachTheLimit() throws Exception {
    String key = create(KeyLimits.newBuilder().setTokensPerMinute(20).build()).getSecret();

    chat(key).chat(ask(MODEL));
    chat(key).chat(ask(MODEL)); // 13 tokens so far: under the limit, so this one runs (26 then)
    StatusRuntimeException limited = refused(Status.Code.RESOURCE_EXHAUSTED, () -> chat(key).chat(ask(MODEL)));
    assertEquals("tokens_per_minute", detail(limited, ErrorInfo.class).getMetadataOrThrow("limit"));
    CLOCK.advance(java.time.Duration.ofMinutes(1));
    chat(key).chat(ask(MODEL));
  }

  @Test
  void aSpentBudgetRefusesCallsUntilItsWindowRollsOverAndReplaysCostNothing() throws Exception {
    CreateKeyResponse created = create(KeyLimits.newBuilder().setBudgetUsd(0.03).build());
    String key = created.getSecret();
    ChatRequest recorded = ask(MODEL);

    withHeader(chat(key), "x-cassette-mode", "record").chat(recorded);
    for (int i = 0; i < 3; i++) {
      ChatResponse replayed = withHeader(chat(key), "x-cassette-mode", "replay").chat(recorded);
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, replayed.getOrigin().getCassette());
      assertEquals(COST, replayed.getUsage().getCostUsd(), 1e-9, "a replay still shows what it would have cost");
    }
    assertEquals(COST, listed(created.getKey().getId()).getSpend().getSpentUsd(), 1e-9, "replays cost nothing");
    chat(key).chat(ask(MODEL));
    Iterator<ChatEvent> crossing = chat(key).streamChat(ask(MODEL)); // admitted at 0.026: it runs to its end
    ChatEvent last = null;
    while (crossing.hasNext()) {
      last = crossing.next();
    }
    assertTrue(last.hasDone(), "a call admitted before the budget ran out is finished");
    StatusRuntimeException spent = refused(Status.Code.RESOURCE_EXHAUSTED, () -> chat(key).chat(ask(MODEL)));
    assertEquals("BUDGET_EXHAUSTED", reason(spent));
    assertEquals(java.time.Duration.ofDays(30), retryAfter(spent), "the window opened with the first spend");
    CallerKey listed = listed(created.getKey().getId());
    assertEquals(3 * COST, listed.getSpend().getSpentUsd(), 1e-9);
    assertTrue(listed.hasLastUseTime());
    CLOCK.advance(java.time.Duration.ofDays(30));
    chat(key).chat(ask(MODEL));
    assertEquals(COST, listed(created.getKey().getId()).getSpend().getSpentUsd(), 1e-9, "a new window");
  }

  @Test
  void aConverseSessionIsTheKeysAlone() throws Exception {
    String key = create(KeyLimits.getDefaultInstance()).getSecret();
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
    ConverseRequest start = ConverseRequest.newBuilder().setStart(ConverseStart.newBuilder().setModel(MODEL)).build();

    Conversation session = Conversation.open(router, headers).send(start).user("What is the capital of France?");
    String id = session.until(ConverseEvent::hasSessionStarted).getSessionStarted().getSessionId();
    assertEquals("Paris.", session.until(ConverseEvent::hasTurnCompleted).getTurnCompleted().getMessage()
        .getParts(0).getText());
    Conversation stranger = Conversation.open(router).send(start);
    assertEquals(Status.Code.UNAUTHENTICATED, stranger.closed.get().getCode());
    Metadata otherKey = new Metadata();
    otherKey.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer "
        + create(KeyLimits.getDefaultInstance()).getSecret());
    Conversation thief = Conversation.open(router, otherKey).send(ConverseRequest.newBuilder().setStart(
        ConverseStart.newBuilder().setResumeSessionId(id)).build());
    assertEquals(Status.Code.NOT_FOUND, thief.closed.get().getCode(), "another key cannot resume the session");
    session.requests.onCompleted();
  }

  @Test
  void theCallLogKeepsEachCallsKeyAndUsageGroupsByIt() throws Exception {
    CreateKeyResponse created = create(KeyLimits.getDefaultInstance());
    String id = created.getKey().getId();
    chat(created.getSecret()).chat(ask(MODEL));
    chat(created.getSecret()).chat(ask(MODEL));

    var callLog = RunningRouter.withKey(ObservabilityServiceGrpc.newBlockingStub(router.channel()),
        RunningRouter.TEST_ADMIN_KEY);
    List<CallRecord> calls = Await.poll(java.time.Duration.ofSeconds(10), () -> callLog.listCalls(
            ListCallsRequest.newBuilder().setFilter(CallFilter.newBuilder().setKeyId(id)).build()).getCallsList(),
        found -> found.size() == 2);
    assertEquals(2, calls.size());
    assertEquals("test", calls.get(0).getKeyName());
    UsageRow row = callLog.getUsage(GetUsageRequest.newBuilder().addGroupBy(UsageGrouping.USAGE_GROUPING_KEY)
        .build()).getRowsList().stream().filter(usage -> usage.getKeyId().equals(id)).findFirst().orElseThrow();
    assertEquals("test", row.getKeyName());
    assertEquals(2, row.getTotals().getCalls());
    assertEquals(2 * COST, row.getTotals().getCostUsd(), 1e-9);
    assertEquals("ADMIN_KEY_REQUIRED", reason(refused(Status.Code.PERMISSION_DENIED, () -> RunningRouter.withKey(
        ObservabilityServiceGrpc.newBlockingStub(router.channel()), created.getSecret())
        .listCalls(ListCallsRequest.getDefaultInstance()))), "the call log holds every caller's prompts");
    String usage = calls("usage", "--by", "key");
    assertTrue(usage.lines().anyMatch(line -> line.startsWith(id + " (test)") && line.contains(" 2 ")), usage);
    assertEquals(2, calls("list", "--key", id, "--json").lines().count());
  }

  /** What `calls ...` prints about the router's call log. */
  private static String calls(String... arguments) {
    List<String> args = new ArrayList<>(List.of(arguments));
    args.addAll(List.of("--data-dir", dir.resolve("data").toString()));
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    assertEquals(0, CallsCommand.run(args, new java.io.PrintStream(out, true, StandardCharsets.UTF_8), System.err));
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void onlyTheAdminKeyManagesKeys() throws Exception {
    CreateKeyResponse created = create(KeyLimits.newBuilder().setRequestsPerMinute(5).build());
    var asCaller = RunningRouter.withKey(AdminServiceGrpc.newBlockingStub(router.channel()), created.getSecret());
    assertEquals("ADMIN_KEY_REQUIRED", reason(refused(Status.Code.PERMISSION_DENIED,
        () -> asCaller.listKeys(ListKeysRequest.getDefaultInstance()))));
    refused(Status.Code.UNAUTHENTICATED, () -> AdminServiceGrpc.newBlockingStub(router.channel())
        .createKey(CreateKeyRequest.newBuilder().setName("x").build()));

    CallerKey updated = router.admin().updateKey(UpdateKeyRequest.newBuilder().setId(created.getKey().getId())
        .setKey(CallerKey.newBuilder().setName("renamed").setLimits(KeyLimits.newBuilder().addModels("fast")))
        .setUpdateMask(FieldMask.newBuilder().addPaths("name").addPaths("limits.models")).build()).getKey();
    assertEquals("renamed", updated.getName());
    assertEquals(5, updated.getLimits().getRequestsPerMinute(), "what the mask does not name stays");
    refused(Status.Code.PERMISSION_DENIED, () -> chat(created.getSecret()).chat(ask(MODEL)));
    StatusRuntimeException invalid = refused(Status.Code.INVALID_ARGUMENT, () -> router.admin().createKey(
        CreateKeyRequest.newBuilder().setName("x").setLimits(KeyLimits.newBuilder().setRequestsPerMinute(-1)
            .addCassetteModes("live")).build()));
    assertTrue(invalid.getMessage().contains("limits.requests_per_minute: must be 0 (no limit) or more"),
        invalid.getMessage());
    refused(Status.Code.NOT_FOUND, () -> router.admin().revokeKey(RevokeKeyRequest.newBuilder()
        .setId("key_000000000000").build()));
  }

  @Test
  void theAdminListenerNeedsAKey() throws Exception {
    String key = create(KeyLimits.getDefaultInstance()).getSecret();
    HttpClient http = HttpClient.newHttpClient();
    URI metrics = URI.create("http://127.0.0.1:" + router.adminPort() + "/metrics");

    HttpResponse<String> locked = http.send(HttpRequest.newBuilder(metrics).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(401, locked.statusCode());
    assertEquals("Basic realm=\"llm-router\", charset=\"UTF-8\"", locked.headers().firstValue("www-authenticate")
        .orElseThrow(), "a browser asks for the key");
    String basic = Base64.getEncoder().encodeToString(("anyone:" + key).getBytes(StandardCharsets.UTF_8));
    assertEquals(200, http.send(HttpRequest.newBuilder(metrics).header("authorization", "Basic " + basic).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
    assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.adminPort() + "/"))
        .header("authorization", "Bearer " + RunningRouter.TEST_ADMIN_KEY).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
  }

  @Test
  void theKeyIsFoundNowhereOnDiskNorInTheLogs() throws Exception {
    CreateKeyResponse created = create(KeyLimits.newBuilder().setBudgetUsd(1).build());
    String key = created.getSecret();
    withHeader(chat(key), "x-cassette-mode", "record").chat(ask(MODEL));
    withHeader(chat(key), "x-cassette-mode", "replay").chat(ask(MODEL));
    String wrong = key.substring(0, key.length() - 1) + (key.endsWith("x") ? "y" : "x");
    refused(Status.Code.UNAUTHENTICATED, () -> chat(wrong).chat(ask(MODEL)));
    var callLog = RunningRouter.withKey(ObservabilityServiceGrpc.newBlockingStub(router.channel()),
        RunningRouter.TEST_ADMIN_KEY);
    Await.poll(java.time.Duration.ofSeconds(10), () -> callLog.listCalls(ListCallsRequest.newBuilder()
        .setFilter(CallFilter.newBuilder().setKeyId(created.getKey().getId())).build()).getCallsCount(), n -> n == 2);

    List<Path> files = new ArrayList<>();
    try (Stream<Path> all = Files.walk(dir)) {
      all.filter(Files::isRegularFile).forEach(files::add);
    }
    assertTrue(files.stream().anyMatch(file -> file.endsWith("calls.db-wal")), "the WAL is looked at: " + files);
    assertTrue(files.stream().anyMatch(file -> file.getFileName().toString().endsWith(".json")), "a cassette too");
    for (Path file : files) {
      String content = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
      for (String secret : List.of(key, wrong, RunningRouter.TEST_ADMIN_KEY)) {
        assertFalse(content.contains(secret.substring(5)), "a key is in " + file);
      }
    }
    String logs = String.join("\n", LOGGED);
    for (String secret : List.of(key, wrong, RunningRouter.TEST_ADMIN_KEY)) {
      assertFalse(logs.contains(secret.substring(5)), "a key is in the logs");
    }
  }

  /** The keys file is the router user's alone. */
  @Test
  void theKeyStoreIsReadableByTheRoutersUserOnly() throws IOException {
    create(KeyLimits.getDefaultInstance());
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(dir.resolve("data").resolve(SqliteKeyStore.FILE_NAME))));
  }
}
