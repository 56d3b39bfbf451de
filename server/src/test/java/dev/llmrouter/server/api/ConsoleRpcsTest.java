package dev.llmrouter.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.CassetteEntry;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.CassetteServiceGrpc;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CreateKeyRequest;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.GetCallRequest;
import dev.llmrouter.api.v1.GetCassetteRequest;
import dev.llmrouter.api.v1.GetCassetteResponse;
import dev.llmrouter.api.v1.GetUsageRequest;
import dev.llmrouter.api.v1.ListCallsRequest;
import dev.llmrouter.api.v1.ListCassettesRequest;
import dev.llmrouter.api.v1.ListReplayMissesRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.ObservabilityServiceGrpc;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ReplayMiss;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.UsageBucket;
import dev.llmrouter.api.v1.UsageGrouping;
import dev.llmrouter.api.v1.UsageRow;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.PostgresServer;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.TestCallLog;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The RPCs the console reads besides ListCalls, GetTrace and GetUsage: GetCall, usage in hourly and daily buckets, and
 * CassetteService (the cassettes of the router's folder and its replay misses), called with grpc-java on a real
 * router replaying the demo cassettes; each bad request ends with a status saying what to fix. The usage buckets are
 * read from both call log stores: the SQLite file, and a real PostgreSQL (skipped when absent).
 */
class ConsoleRpcsTest {

  private static final Path DEMO_CASSETTES = Path.of("../cassettes/recorded").toAbsolutePath().normalize();
  private static final String CAPITAL = "What is the capital of France?";

  /** Started by the first test on PostgreSQL, for the class. */
  private static PostgresServer postgres;
  @TempDir
  Path dataDir;
  private Vertx vertx;
  private RunningRouter router;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    if (router != null) {
      router.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stopPostgres() {
    if (postgres != null) {
      postgres.close();
      postgres = null;
    }
  }

  /** The YAML of a call log in {@code store}: the SQLite file of the test's data folder, or a new database. */
  private String callLog(TestCallLog.Store store) {
    if (store == TestCallLog.Store.SQLITE) {
      return TestCallLog.sqlite(dataDir).yaml("");
    }
    Assumptions.assumeTrue(PostgresServer.installed(), PostgresServer.NOT_INSTALLED);
    if (postgres == null) {
      postgres = PostgresServer.start();
    }
    return TestCallLog.postgres(postgres).yaml("");
  }

  /** The demo set's scopes, in name order: one folder each. */
  private static List<String> scopeFolders() {
    try (Stream<Path> folders = Files.list(DEMO_CASSETTES)) {
      return folders.filter(Files::isDirectory).map(folder -> folder.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private RunningRouter router(String moreYaml) {
    router = RunningRouter.start(vertx, """
        cassettes: { dir: "%s", mode: replay }
        providers:
          - { name: openai, type: openai, base_url: https://api.openai.com/v1, models: [gpt-4o-mini] }
          - { name: anthropic, type: anthropic, base_url: https://api.anthropic.com, models: [claude-haiku-4-5] }
        %s
        """.formatted(DEMO_CASSETTES, moreYaml));
    return router;
  }

  private static ChatRequest ask(String model, String text) {
    return ChatRequest.newBuilder().setModel(model).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText(text))).build();
  }

  private ObservabilityServiceGrpc.ObservabilityServiceBlockingStub callLog() {
    return ObservabilityServiceGrpc.newBlockingStub(router.channel());
  }

  private CassetteServiceGrpc.CassetteServiceBlockingStub cassettes() {
    return CassetteServiceGrpc.newBlockingStub(router.channel());
  }

  /** The logged calls, once the writer has written {@code count}. */
  private List<CallRecord> awaitCalls(int count) throws Exception {
    return Await.poll(Duration.ofSeconds(10), () -> callLog().listCalls(ListCallsRequest.newBuilder()
        .setFilter(CallFilter.getDefaultInstance()).build()).getCallsList(), calls -> calls.size() == count);
  }

  private static String refused(Status.Code code, Executable call) {
    StatusRuntimeException refusal = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, refusal.getStatus().getCode(), refusal::toString);
    return refusal.getStatus().getDescription();
  }

  @Test
  void getCallReturnsOneLoggedCallAndSaysWhatIsMissing() throws Exception {
    router("");
    router.chat().chat(ask("openai/gpt-4o-mini", CAPITAL));
    String id = awaitCalls(1).get(0).getId();

    CallRecord call = callLog().getCall(GetCallRequest.newBuilder().setCallId(id).build()).getCall();
    assertEquals(id, call.getId());
    assertEquals("openai/gpt-4o-mini", call.getModel());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, call.getCassetteOutcome());
    assertEquals(CAPITAL, call.getMessages(0).getParts(0).getText());
    assertTrue(call.getResponseMessage().getParts(0).getText().contains("Paris"), call::toString);

    assertEquals("call_id is required: the id of a call, as ListCalls or x-call-id gives it",
        refused(Status.Code.INVALID_ARGUMENT, () -> callLog().getCall(GetCallRequest.getDefaultInstance())));
    assertEquals("the call log has no call with id 0123456789abcdef", refused(Status.Code.NOT_FOUND,
        () -> callLog().getCall(GetCallRequest.newBuilder().setCallId("0123456789abcdef").build())));
  }

  @ParameterizedTest
  @EnumSource(TestCallLog.Store.class)
  void usageComesInHourlyAndDailyBucketsPerModel(TestCallLog.Store store) throws Exception {
    router(callLog(store));
    router.chat().chat(ask("openai/gpt-4o-mini", CAPITAL));
    router.chat().chat(ask("openai/gpt-4o-mini", CAPITAL));
    router.chat().chat(ask("anthropic/claude-haiku-4-5", CAPITAL));
    List<CallRecord> calls = awaitCalls(3);

    for (UsageBucket bucket : List.of(UsageBucket.USAGE_BUCKET_HOUR, UsageBucket.USAGE_BUCKET_DAY)) {
      long bucketMillis = bucket == UsageBucket.USAGE_BUCKET_HOUR ? 3_600_000 : 86_400_000;
      List<UsageRow> rows = callLog().getUsage(GetUsageRequest.newBuilder()
          .addGroupBy(UsageGrouping.USAGE_GROUPING_MODEL).setBucket(bucket).build()).getRowsList();
      for (UsageRow row : rows) {
        long start = Timestamps.toMillis(row.getBucketStartTime());
        assertEquals(0, start % bucketMillis, "a bucket starts on the hour or at midnight UTC: " + row);
        long inBucket = calls.stream().filter(call -> call.getModel().equals(row.getModel())
            && Timestamps.toMillis(call.getStartTime()) / bucketMillis * bucketMillis == start).count();
        assertEquals(inBucket, row.getTotals().getCalls(), row::toString);
      }
      assertEquals(3, rows.stream().mapToLong(row -> row.getTotals().getCalls()).sum(), rows::toString);
      assertEquals(rows.stream().map(row -> Timestamps.toMillis(row.getBucketStartTime())).sorted().toList(),
          rows.stream().map(row -> Timestamps.toMillis(row.getBucketStartTime())).toList(), "oldest bucket first");
    }
    assertTrue(callLog().getUsage(GetUsageRequest.newBuilder().addGroupBy(UsageGrouping.USAGE_GROUPING_MODEL)
        .build()).getRowsList().stream().noneMatch(UsageRow::hasBucketStartTime), "no bucket unless asked");
    assertEquals("bucket is not a known UsageBucket: UNRECOGNIZED", refused(Status.Code.INVALID_ARGUMENT,
        () -> callLog().getUsage(GetUsageRequest.newBuilder().setBucketValue(7).build())));
  }

  @Test
  void cassettesAreListedByScopeAndReadWithTheirRequestAndEvents() {
    router("");
    List<CassetteEntry> all = cassettes().listCassettes(ListCassettesRequest.getDefaultInstance())
        .getCassettesList();
    assertEquals(scopeFolders(), all.stream().map(CassetteEntry::getScope).distinct().toList());
    List<CassetteEntry> toolCalls = cassettes().listCassettes(ListCassettesRequest.newBuilder()
        .setScope("tool-call").build()).getCassettesList();
    assertFalse(toolCalls.isEmpty());
    assertTrue(toolCalls.stream().allMatch(entry -> entry.getScope().equals("tool-call")
        && entry.getSummary().contains("What's the weather in Paris?")), toolCalls::toString);

    CassetteEntry first = toolCalls.get(0);
    GetCassetteResponse cassette = cassettes().getCassette(GetCassetteRequest.newBuilder().setScope("tool-call")
        .setKey(first.getShortKey()).build());
    assertTrue(cassette.getKey().startsWith(first.getShortKey()), cassette::toString);
    assertTrue(cassette.getRequestJson().contains("get_weather"), cassette::getRequestJson);
    assertTrue(first.getSummary().startsWith(cassette.getProvider() + "/"), first::toString);
    assertEquals(1, cassette.getTakesCount());
    assertTrue(cassette.getTakes(0).getEvents(0).hasStart(), cassette::toString);
    assertTrue(cassette.getTakes(0).getEventsList().stream().anyMatch(event -> event.hasToolCallDelta()));
    assertEquals(cassette, cassettes().getCassette(GetCassetteRequest.newBuilder().setScope("tool-call")
        .setKey(cassette.getKey()).build()), "by its full key too");

    assertTrue(refused(Status.Code.INVALID_ARGUMENT, () -> cassettes().listCassettes(ListCassettesRequest
        .newBuilder().setScope("../etc").build())).startsWith("invalid cassette scope \"../etc\""));
    assertEquals("scope and key are required: a scope and a cassette key (or file name) as ListCassettes gives them",
        refused(Status.Code.INVALID_ARGUMENT, () -> cassettes().getCassette(GetCassetteRequest.getDefaultInstance())));
    assertEquals("not a cassette key (64 lowercase hex characters) nor a cassette file name (its first 16): "
        + "\"cafe\"", refused(Status.Code.INVALID_ARGUMENT, () -> cassettes().getCassette(GetCassetteRequest
        .newBuilder().setScope("default").setKey("cafe").build())));
    assertEquals("scope \"default\" has no cassette 0123456789abcdef", refused(Status.Code.NOT_FOUND,
        () -> cassettes().getCassette(GetCassetteRequest.newBuilder().setScope("default")
            .setKey("0123456789abcdef").build())));
  }

  @Test
  void replayMissesListWhatTheClosestCassetteDiffersIn() {
    router("");
    assertEquals(0, cassettes().listReplayMisses(ListReplayMissesRequest.getDefaultInstance()).getMissesCount());
    ChatRequest warmer = ask("openai/gpt-4o-mini", CAPITAL).toBuilder()
        .setSettings(GenerationSettings.newBuilder().setTemperature(0.7)).build();
    for (int i = 0; i < 2; i++) {
      refused(Status.Code.FAILED_PRECONDITION, () -> router.chat().chat(warmer));
    }

    List<ReplayMiss> misses = cassettes().listReplayMisses(ListReplayMissesRequest.getDefaultInstance())
        .getMissesList();
    assertEquals(1, misses.size(), misses::toString);
    ReplayMiss miss = misses.get(0);
    assertEquals("default", miss.getScope());
    assertEquals(2, miss.getCalls(), "identical misses are counted together");
    assertEquals("openai/gpt-4o-mini  " + CAPITAL, miss.getRequestSummary());
    assertEquals(64, miss.getKey().length());
    assertEquals(List.of("settings.temperature: (absent) -> 0.7"), miss.getDifferencesList());
    GetCassetteResponse closest = cassettes().getCassette(GetCassetteRequest.newBuilder().setScope("default")
        .setKey(miss.getClosestKey()).build());
    assertTrue(closest.getRequestJson().contains(CAPITAL), closest::getRequestJson);
  }

  @Test
  void onlyTheAdminKeyReadsTheCassettesWhereKeysAreRequired() {
    router("auth: { required: true, admin_key: \"${ROUTER_ADMIN_KEY}\" }");
    String callerKey = router.admin().createKey(CreateKeyRequest.newBuilder().setName("app").build()).getSecret();

    refused(Status.Code.UNAUTHENTICATED, () -> cassettes().listCassettes(ListCassettesRequest.getDefaultInstance()));
    refused(Status.Code.PERMISSION_DENIED, () -> RunningRouter.withKey(cassettes(), callerKey)
        .listReplayMisses(ListReplayMissesRequest.getDefaultInstance()));
    refused(Status.Code.PERMISSION_DENIED, () -> RunningRouter.withKey(callLog(), callerKey)
        .getCall(GetCallRequest.newBuilder().setCallId("0123456789abcdef").build()));
    assertFalse(RunningRouter.withKey(cassettes(), RunningRouter.TEST_ADMIN_KEY)
        .listCassettes(ListCassettesRequest.getDefaultInstance()).getCassettesList().isEmpty());
  }
}
