package dev.llmrouter.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.CallNode;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.GetTraceRequest;
import dev.llmrouter.api.v1.GetTraceResponse;
import dev.llmrouter.api.v1.ListCallsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.ObservabilityServiceGrpc;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.cli.CallsCommand;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.PostgresServer;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.TestCallLog;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The call log of a fleet: several real routers writing to one real PostgreSQL (started by the test, skipped when it
 * is not installed), each reading every replica's calls; its schema migrated once by Flyway; a database that cannot
 * be reached stopping the start with one line that never shows the password. What the log holds, its retention and
 * its drop counter are tested on PostgreSQL as on SQLite by {@link ObservabilityTest}.
 */
class PostgresCallLogTest {

  private static PostgresServer postgres;

  @TempDir
  Path dir;
  private Vertx vertx;
  private MockUpstream upstream;
  private final List<RunningRouter> routers = new ArrayList<>();

  @BeforeAll
  static void startPostgres() {
    Assumptions.assumeTrue(PostgresServer.installed(), PostgresServer.NOT_INSTALLED);
    postgres = PostgresServer.start();
  }

  @AfterAll
  static void stopPostgres() {
    if (postgres != null) {
      postgres.close();
    }
  }

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx);
    upstream.reply(200, "application/json", "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
        + "\"model\":\"gpt-test\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi.\"},"
        + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}");
  }

  @AfterEach
  void stop() throws Exception {
    for (RunningRouter router : routers) {
      router.close();
    }
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** The config of a replica whose call log is {@code log}. */
  private String config(TestCallLog log) {
    return """
        cassettes: { mode: "off" }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        %s""".formatted(upstream.baseUrl(), log.yaml(""));
  }

  private RunningRouter replica(TestCallLog log) {
    return replica(log, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /** A replica whose metrics go to {@code registry}. */
  private RunningRouter replica(TestCallLog log, PrometheusMeterRegistry registry) {
    RunningRouter router = RunningRouter.start(vertx, ConfigLoader.parse(config(log),
        Map.of("TEST_API_KEY", RunningRouter.TEST_KEY)::get), registry);
    routers.add(router);
    return router;
  }

  /** A Chat with call metadata; returns the call's id (x-call-id) and trace id (x-trace-id). */
  private static String[] chat(RunningRouter router, String text, String... namesAndValues) {
    Metadata headers = new Metadata();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      headers.put(Metadata.Key.of(namesAndValues[i], Metadata.ASCII_STRING_MARSHALLER), namesAndValues[i + 1]);
    }
    AtomicReference<Metadata> answered = new AtomicReference<>();
    ChatServiceGrpc.newBlockingStub(router.channel())
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers),
            MetadataUtils.newCaptureMetadataInterceptor(answered, new AtomicReference<>()))
        .chat(ChatRequest.newBuilder().setModel("openai/gpt-test").addMessages(Message.newBuilder()
            .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText(text))).build());
    return new String[] {header(answered.get(), "x-call-id"), header(answered.get(), "x-trace-id")};
  }

  private static String header(Metadata headers, String name) {
    return headers.get(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER));
  }

  private static List<String> listedIds(RunningRouter router, int atLeast) throws Exception {
    return Await.poll(Duration.ofSeconds(10), () -> ObservabilityServiceGrpc.newBlockingStub(router.channel())
        .listCalls(ListCallsRequest.newBuilder().setPageSize(100).build()).getCallsList().stream()
        .map(CallRecord::getId).toList(), ids -> ids.size() >= atLeast);
  }

  @Test
  void everyReplicaSeesEveryReplicasCallsAndATraceSpanningThemIsReturnedWhole() throws Exception {
    TestCallLog log = TestCallLog.postgres(postgres);
    RunningRouter first = replica(log);
    RunningRouter second = replica(log);

    String[] parent = chat(first, "plan the trip", "x-user-id", "alice");
    String[] child = chat(second, "book the train", "x-trace-id", parent[1], "x-parent-call-id", parent[0],
        "x-user-id", "alice");
    String[] other = chat(second, "unrelated");

    List<String> all = List.of(other[0], child[0], parent[0]);
    assertEquals(all, listedIds(first, 3), "the first replica lists the second's calls, newest first");
    assertEquals(all, listedIds(second, 3), "and the second the first's");
    assertEquals(List.of(child[0], parent[0]), ObservabilityServiceGrpc.newBlockingStub(first.channel())
        .listCalls(ListCallsRequest.newBuilder().setFilter(CallFilter.newBuilder().setUserId("alice")).build())
        .getCallsList().stream().map(CallRecord::getId).toList());

    for (RunningRouter replica : List.of(first, second)) {
      GetTraceResponse trace = ObservabilityServiceGrpc.newBlockingStub(replica.channel())
          .getTrace(GetTraceRequest.newBuilder().setTraceId(parent[1]).build());
      assertEquals(1, trace.getRootsCount(), trace.toString());
      CallNode root = trace.getRoots(0);
      assertEquals(parent[0], root.getCall().getId(), "the call on the first replica is the root");
      assertEquals(List.of(child[0]), root.getChildrenList().stream().map(node -> node.getCall().getId()).toList(),
          "the call on the second replica follows it");
    }

    // The command line reads the fleet's log by URL, or where a replica's config puts it.
    String listed = runCalls(0, "list", "--postgres-url", log.postgresUrl());
    assertTrue(all.stream().allMatch(listed::contains), listed);
    Path config = Files.writeString(dir.resolve("router.yaml"), log.yaml(""));
    String fromConfig = runCalls(0, "list", "--config", config.toString());
    assertTrue(all.stream().allMatch(fromConfig::contains), fromConfig);
    String tree = runCalls(0, "trace", parent[1], "--config", config.toString());
    assertTrue(tree.lines().anyMatch(line -> line.startsWith("  2") && line.contains(parent[0]))
        && tree.lines().anyMatch(line -> line.startsWith("    2") && line.contains(child[0])), tree);
  }

  @Test
  void aFreshDatabaseIsMigratedOnceEvenByReplicasStartingTogether() throws Exception {
    TestCallLog log = TestCallLog.postgres(postgres);
    String yaml = config(log);
    List<CompletableFuture<RunningRouter>> starting = List.of(
        CompletableFuture.supplyAsync(() -> RunningRouter.start(vertx, yaml)),
        CompletableFuture.supplyAsync(() -> RunningRouter.start(vertx, yaml)));
    CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).exceptionally(failed -> null)
        .get(60, TimeUnit.SECONDS);
    starting.stream().filter(replica -> !replica.isCompletedExceptionally()).forEach(replica ->
        routers.add(replica.join()));
    starting.forEach(CompletableFuture::join); // a replica that could not start fails the test
    List<String> applied = appliedMigrations(log);
    assertEquals(2, applied.size(), applied.toString());
    assertTrue(applied.get(0).startsWith("1 call log true ") && applied.get(1).startsWith("2 conversations true "),
        applied.toString());
    try (Connection connection = log.connect(); Statement statement = connection.createStatement();
        ResultSet tables = statement.executeQuery("SELECT string_agg(tablename, ',' ORDER BY tablename) "
            + "FROM pg_tables WHERE schemaname = 'public'")) {
      assertTrue(tables.next());
      assertEquals("call_log_schema_history,call_tags,calls,conversation_metadata,conversations",
          tables.getString(1));
    }

    chat(routers.get(0), "kept across restarts");
    listedIds(routers.get(1), 1);
    for (RunningRouter router : routers) {
      router.close();
    }
    routers.clear();
    RunningRouter restarted = replica(log);
    assertEquals(applied, appliedMigrations(log), "a second start applies nothing");
    assertEquals(1, listedIds(restarted, 1).size(), "and keeps the calls");
  }

  @Test
  void whileTheDatabaseIsAwayCallsSucceedTheirRecordsAreCountedAsDroppedAndWritingResumesWhenItIsBack()
      throws Exception {
    TestCallLog log = TestCallLog.postgres(postgres);
    String database = log.postgresUrl().substring(log.postgresUrl().lastIndexOf('/') + 1);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RunningRouter router = replica(log, registry);
    String before = chat(router, "before")[0];
    listedIds(router, 1);

    try (Connection admin = postgres.connect("postgres"); Statement statement = admin.createStatement()) {
      statement.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS false");
      statement.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database + "'");
    }
    for (int i = 0; i < 3; i++) {
      chat(router, "while away " + i);
    }
    double dropped = Await.poll(Duration.ofSeconds(20),
        () -> registry.get("llmrouter.call.log.dropped").functionCounter().count(), count -> count >= 3);
    assertEquals(3, dropped, "each record the database could not take");
    StatusRuntimeException unreadable = assertThrows(StatusRuntimeException.class, () -> ObservabilityServiceGrpc
        .newBlockingStub(router.channel()).listCalls(ListCallsRequest.getDefaultInstance()));
    assertEquals(Status.Code.UNAVAILABLE, unreadable.getStatus().getCode());
    assertTrue(unreadable.getStatus().getDescription().contains("not currently accepting connections"),
        unreadable.getStatus().getDescription());

    try (Connection admin = postgres.connect("postgres"); Statement statement = admin.createStatement()) {
      statement.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS true");
    }
    String after = chat(router, "after")[0];
    assertEquals(List.of(after, before), listedIds(router, 2), "the writer connects again");
    assertEquals(3, registry.get("llmrouter.call.log.dropped").functionCounter().count());
  }

  /** The call log's migrations the database records: version, description, success and when each ran. */
  private static List<String> appliedMigrations(TestCallLog log) throws Exception {
    List<String> applied = new ArrayList<>();
    try (Connection connection = log.connect(); Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT version, description, success, installed_on FROM "
            + PostgresMigrations.HISTORY_TABLE + " ORDER BY installed_rank")) {
      while (rows.next()) {
        applied.add(rows.getString(1) + " " + rows.getString(2) + " " + rows.getBoolean(3) + " "
            + rows.getTimestamp(4));
      }
    }
    return applied;
  }

  @Test
  void aDatabaseThatCannotBeUsedStopsTheStartWithOneLineWithoutThePassword() throws Exception {
    String url = TestCallLog.postgres(postgres).postgresUrl();
    TestCallLog shared = TestCallLog.postgres(postgres);
    try (Connection connection = shared.connect(); Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE orders (id BIGINT)"); // another application's
    }
    int closedPort;
    try (ServerSocket free = new ServerSocket(0)) {
      closedPort = free.getLocalPort();
    }
    List<String> logged = new ArrayList<>();
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord record) {
        logged.add(record.getMessage() + " " + record.getThrown());
      }

      @Override
      public void flush() {
      }

      @Override
      public void close() {
      }
    };
    Logger.getLogger("").addHandler(capture);
    try {
      Map<String, String> wrong = Map.of(
          url.replace(PostgresServer.PASSWORD, "not-the-password"), "password authentication failed",
          url.replaceFirst("/calls_\\d+$", "/no_such_database"), "database \"no_such_database\" does not exist",
          url.replace(":" + postgres.port() + "/", ":" + closedPort + "/"), "refused",
          shared.postgresUrl(), "give the call log a database of its own");
      for (Map.Entry<String, String> attempt : wrong.entrySet()) {
        String message = startFails(attempt.getKey());
        String without = attempt.getKey().replaceFirst(":[^:@/]+@", "@");
        assertTrue(message.startsWith("cannot open the call log in PostgreSQL at " + without + ": "), message);
        assertTrue(message.contains(attempt.getValue()), message);
        assertEquals(1, message.lines().count(), message);
        assertFalse(message.contains("not-the-password") || message.contains(PostgresServer.PASSWORD), message);
      }
    } finally {
      Logger.getLogger("").removeHandler(capture);
    }
    assertTrue(logged.stream().noneMatch(line -> line.contains("not-the-password")
        || line.contains(PostgresServer.PASSWORD)), String.join("\n", logged));
  }

  /** Starts a router whose call log is at {@code url}, which must fail; returns why. */
  private String startFails(String url) {
    try {
      RouterServer.start(vertx, ConfigLoader.parse("call_log: { postgres_url: \"" + url + "\" }\n"
          + "data_dir: \"" + dir + "\"\nlisten: 127.0.0.1:0\n", name -> null))
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause().getMessage();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("the router started with its call log at " + url);
  }

  /** Runs `calls ARGS...`, checks its exit code, and returns what it printed (stdout and stderr). */
  private static String runCalls(int exitCode, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
    int code = CallsCommand.run(List.of(args), print, print);
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(exitCode, code, printed);
    assertFalse(printed.contains(PostgresServer.PASSWORD), printed);
    return printed;
  }
}
