package dev.llmrouter.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.CallNode;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.CallType;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.GetTraceRequest;
import dev.llmrouter.api.v1.GetTraceResponse;
import dev.llmrouter.api.v1.GetUsageRequest;
import dev.llmrouter.api.v1.GetUsageResponse;
import dev.llmrouter.api.v1.ListCallsRequest;
import dev.llmrouter.api.v1.ListCallsResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.ObservabilityServiceGrpc;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.UsageGrouping;
import dev.llmrouter.api.v1.UsageRow;
import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.cli.CallsCommand;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.Conversation;
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
import io.vertx.core.http.HttpServerRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.nio.file.attribute.PosixFilePermissions;
import com.google.protobuf.ByteString;
import dev.llmrouter.api.v1.Image;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The call log, usage and cost, and the metrics, end to end: the real router (on a Vert.x instrumented with
 * vertx-micrometer-metrics) in front of a local OpenAI-compatible upstream, called with grpc-java; the log read back
 * through `ObservabilityService`, the `calls` command and its tables themselves; the metrics scraped over HTTP. The
 * tests of what the log holds run on both stores: the SQLite file, and a real PostgreSQL (skipped when absent).
 */
class ObservabilityTest {

  /** The price the tests configure for `gpt-test` (US dollars per million tokens). */
  private static final String PRICES = "prices: { gpt-test: { input: 2.0, output: 10.0, cached_input: 0.5 } }";
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CALLER_SPAN = "00f067aa0ba902b7";

  @TempDir
  Path cassettes;
  /** Started by the first test on PostgreSQL, for the class; each test has a database of its own. */
  private static PostgresServer postgres;
  private PrometheusMeterRegistry registry;
  private Vertx vertx;
  private MockUpstream upstream;
  private final List<RunningRouter> routers = new ArrayList<>();

  @BeforeEach
  void start() {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    vertx = RouterServer.instrumentedVertx(registry, RouterConfig.DEFAULT_EVENT_LOOPS);
    upstream = MockUpstream.start(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    for (RunningRouter router : routers) {
      router.close();
    }
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stopPostgres() {
    if (postgres != null) {
      postgres.close();
      postgres = null;
    }
  }

  /** A new call log in {@code store}: the SQLite file of a new data folder, or a new PostgreSQL database. */
  private TestCallLog callLog(TestCallLog.Store store) {
    if (store == TestCallLog.Store.SQLITE) {
      return TestCallLog.sqlite(cassettes.resolve("data-" + routers.size()));
    }
    Assumptions.assumeTrue(PostgresServer.installed(), PostgresServer.NOT_INSTALLED);
    if (postgres == null) {
      postgres = PostgresServer.start();
    }
    return TestCallLog.postgres(postgres);
  }

  private RunningRouter router(String mode, String extraYaml) {
    RunningRouter router = RunningRouter.start(vertx, ConfigLoader.parse("""
        admin_listen: 127.0.0.1:0
        cassettes: { dir: "%s", mode: "%s", allow_mode_override: true }
        %s
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        %s
        """.formatted(cassettes, mode, PRICES, upstream.baseUrl(), extraYaml),
        Map.of("TEST_API_KEY", RunningRouter.TEST_KEY)::get), registry);
    routers.add(router);
    return router;
  }

  // ---- what the upstream answers: OpenAI Chat Completions, JSON or SSE, with usage

  private static String usageJson(int prompt, int cached, int completion) {
    return "{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion + ",\"total_tokens\":"
        + (prompt + completion) + ",\"prompt_tokens_details\":{\"cached_tokens\":" + cached + "}}";
  }

  /** A text answer, as JSON or (when the router asked to stream) as SSE with the usage in the last chunk. */
  private static void answerText(HttpServerRequest r, String body, String text, int prompt, int cached,
      int completion) {
    String model = body.contains("gpt-other") ? "gpt-other" : "gpt-test-2025-01-01";
    if (!body.contains("\"stream\":true")) {
      r.response().putHeader("content-type", "application/json").end("{\"id\":\"chatcmpl-1\",\"object\":"
          + "\"chat.completion\",\"created\":1,\"model\":\"" + model + "\",\"choices\":[{\"index\":0,\"message\":"
          + "{\"role\":\"assistant\",\"content\":\"" + text + "\"},\"finish_reason\":\"stop\"}],\"usage\":"
          + usageJson(prompt, cached, completion) + "}");
      return;
    }
    String head = "data: {\"id\":\"c\",\"created\":1,\"model\":\"" + model + "\",\"choices\":[";
    r.response().putHeader("content-type", "text/event-stream").end(
        head + "{\"index\":0,\"delta\":{\"content\":\"" + text + "\"},\"finish_reason\":null}]}\n\n"
            + head + "{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
            + head + "],\"usage\":" + usageJson(prompt, cached, completion) + "}\n\n"
            + "data: [DONE]\n\n");
  }

  private static void answerToolCall(HttpServerRequest r) {
    String head = "data: {\"id\":\"c\",\"created\":1,\"model\":\"gpt-test-2025-01-01\",\"choices\":[";
    r.response().putHeader("content-type", "text/event-stream").end(
        head + "{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
            + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
            + "\"finish_reason\":null}]}\n\n"
            + head + "{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
            + head + "],\"usage\":" + usageJson(50, 0, 10) + "}\n\n" + "data: [DONE]\n\n");
  }

  /** Answers every request with text and the given usage. */
  private void upstreamAnswers(int prompt, int cached, int completion) {
    upstream.answer(r -> answerText(r, upstream.lastRequest().body(), "Hello.", prompt, cached, completion));
  }

  // ---- calling the router

  private static ChatRequest ask(String model, String text) {
    return ChatRequest.newBuilder().setModel(model).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText(text))).build();
  }

  private static Metadata headers(String... namesAndValues) {
    Metadata headers = new Metadata();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      headers.put(Metadata.Key.of(namesAndValues[i], Metadata.ASCII_STRING_MARSHALLER), namesAndValues[i + 1]);
    }
    return headers;
  }

  /** A Chat with call metadata; returns the response headers (x-call-id, x-trace-id). */
  private static Metadata chat(RunningRouter router, ChatRequest request, String... namesAndValues) {
    AtomicReference<Metadata> responseHeaders = new AtomicReference<>();
    ChatServiceGrpc.newBlockingStub(router.channel())
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers(namesAndValues)),
            MetadataUtils.newCaptureMetadataInterceptor(responseHeaders, new AtomicReference<>()))
        .chat(request);
    return responseHeaders.get();
  }

  private static String header(Metadata headers, String name) {
    return headers.get(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER));
  }

  private static ObservabilityServiceGrpc.ObservabilityServiceBlockingStub calls(RunningRouter router) {
    return ObservabilityServiceGrpc.newBlockingStub(router.channel());
  }

  /** The calls matching {@code filter}, once the writer has written at least {@code count} of them. */
  private static List<CallRecord> awaitCalls(RunningRouter router, CallFilter filter, int count)
      throws Exception {
    List<CallRecord> found = Await.poll(Duration.ofSeconds(10), () -> calls(router).listCalls(ListCallsRequest
        .newBuilder().setFilter(filter).setPageSize(1000).build()).getCallsList(), calls -> calls.size() >= count);
    assertEquals(count, found.size(), "calls matching " + filter);
    return found;
  }

  private static List<String> ids(List<CallRecord> calls) {
    return calls.stream().map(CallRecord::getId).toList();
  }

  // ---- the tests

  @ParameterizedTest
  @EnumSource(TestCallLog.Store.class)
  void aConverseTurnWithAToolRoundTripIsLoggedAsLinkedCallsOfOneTrace(TestCallLog.Store store) throws Exception {
    TestCallLog log = callLog(store);
    RunningRouter router = router("off", log.yaml(""));
    upstream.answer(r -> {
      if (upstream.lastRequest().body().contains("\"role\":\"tool\"")) {
        answerText(r, upstream.lastRequest().body(), "It is 18C in Paris.", 80, 0, 12);
      } else {
        answerToolCall(r);
      }
    });
    Conversation c = Conversation.open(router, headers("traceparent", "00-" + TRACE + "-" + CALLER_SPAN + "-01",
        "x-user-id", "alice", "x-tags", "weather,beta"));
    c.send(ConverseRequest.newBuilder().setStart(ConverseStart.newBuilder().setModel("openai/gpt-test")
        .setSystemPrompt("You are a weather assistant.").addTools(Tool.newBuilder().setName("get_weather")
            .setParameters(Struct.newBuilder().putFields("type", Value.newBuilder().setStringValue("object")
                .build())))).build());
    String session = c.until(ConverseEvent::hasSessionStarted).getSessionStarted().getSessionId();
    c.user("Weather in Paris?");
    c.answer(c.until(ConverseEvent::hasToolCalls), "18C");
    c.until(ConverseEvent::hasTurnCompleted);
    c.requests.onCompleted();
    assertEquals(Status.Code.OK, c.closed.get(10, TimeUnit.SECONDS).getCode());

    awaitCalls(router, CallFilter.newBuilder().setTraceId(TRACE).build(), 2);
    GetTraceResponse trace = calls(router).getTrace(GetTraceRequest.newBuilder().setTraceId(TRACE).build());
    assertEquals(1, trace.getRootsCount(), trace.toString());
    CallNode root = trace.getRoots(0);
    assertEquals(1, root.getChildrenCount(), "the call after the tool result follows the one that asked for it");
    CallRecord asked = root.getCall();
    CallRecord answered = root.getChildren(0).getCall();

    assertEquals(CALLER_SPAN, asked.getParentCallId(), "the first call follows the caller's span (traceparent)");
    assertEquals(asked.getId(), answered.getParentCallId());
    for (CallRecord call : List.of(asked, answered)) {
      assertEquals(CallType.CALL_TYPE_CONVERSE_TURN, call.getCallType());
      assertEquals("OK", call.getStatus());
      assertEquals(session, call.getSessionId());
      assertEquals("alice", call.getUserId());
      assertEquals(List.of("weather", "beta"), call.getTagsList());
      assertEquals("openai", call.getProvider());
      assertEquals("openai", call.getProviderType());
      assertEquals("openai/gpt-test", call.getModel());
      assertEquals("gpt-test-2025-01-01", call.getUpstreamModel());
      assertEquals("You are a weather assistant.", call.getSystemPrompt());
      assertEquals("get_weather", call.getTools(0).getName());
      assertEquals(1, call.getAttempts());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_LIVE, call.getCassetteOutcome());
      assertTrue(call.hasTimeToFirstEvent() && call.hasLatency(), call.toString());
    }
    assertEquals(FinishReason.FINISH_REASON_TOOL_CALLS, asked.getFinishReason());
    assertEquals("get_weather", asked.getResponseMessage().getToolCalls(0).getName());
    assertEquals(1, asked.getMessagesCount(), "the user's question (the system prompt is kept apart)");
    assertEquals(FinishReason.FINISH_REASON_STOP, answered.getFinishReason());
    assertEquals("It is 18C in Paris.", answered.getResponseMessage().getParts(0).getText());
    assertEquals(Role.ROLE_TOOL, answered.getMessages(answered.getMessagesCount() - 1).getRole(),
        "the second call was sent the tool result");
    // gpt-test: 50 x $2 + 10 x $10 per million, then 80 x $2 + 12 x $10 per million.
    assertEquals(200e-6, asked.getUsage().getCostUsd(), 1e-12);
    assertEquals(280e-6, answered.getUsage().getCostUsd(), 1e-12);

    // The same trace from the command line, and the table itself is plain SQL.
    String printed = runCalls(0, log, "trace", TRACE);
    List<String> lines = printed.lines().toList();
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("  2") && l.contains(asked.getId())), printed);
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("    2") && l.contains(answered.getId())),
        "the second call is printed under the first:\n" + printed);
    try (Connection db = log.connect(); Statement query = db.createStatement()) {
      var row = query.executeQuery("SELECT call_type, status, finish_reason, cost_usd FROM calls WHERE id = '"
          + answered.getId() + "'");
      assertTrue(row.next());
      assertEquals("converse_turn", row.getString(1));
      assertEquals("OK", row.getString(2));
      assertEquals("stop", row.getString(3));
      assertEquals(280e-6, row.getDouble(4), 1e-12);
    }
  }

  @ParameterizedTest
  @EnumSource(TestCallLog.Store.class)
  void chatCallsLinkByHeaderAndAreFoundByEveryFilterPageByPage(TestCallLog.Store store) throws Exception {
    TestCallLog log = callLog(store);
    RunningRouter router = router("off", log.yaml(""));
    upstream.answer(r -> {
      if (upstream.lastRequest().body().contains("please fail")) {
        r.response().setStatusCode(400).putHeader("content-type", "application/json")
            .end("{\"error\":{\"message\":\"bad request from the test\",\"type\":\"invalid_request_error\"}}");
      } else {
        answerText(r, upstream.lastRequest().body(), "Hello.", 10, 0, 5);
      }
    });
    Metadata first = chat(router, ask("openai/gpt-test", "one"), "x-user-id", "alice", "x-tags", "a,b",
        "x-call-meta-team", "search");
    String firstId = header(first, "x-call-id");
    String trace = header(first, "x-trace-id");
    assertTrue(firstId.matches("[0-9a-f]{16}") && trace.matches("[0-9a-f]{32}"), firstId + " " + trace);
    chat(router, ask("openai/gpt-test", "two"), "x-trace-id", trace, "x-parent-call-id", firstId,
        "x-user-id", "alice", "x-tags", "b");
    chat(router, ask("openai/gpt-other", "three"), "x-user-id", "bob", "x-session-id", "s-42", "x-tags", "c");
    StatusRuntimeException failed = assertThrows(StatusRuntimeException.class,
        () -> chat(router, ask("openai/gpt-test", "please fail"), "x-user-id", "bob"));
    assertEquals(Status.Code.INVALID_ARGUMENT, failed.getStatus().getCode());

    List<CallRecord> all = awaitCalls(router, CallFilter.getDefaultInstance(), 4);
    List<String> newestFirst = ids(all);
    CallRecord one = all.get(3);
    CallRecord two = all.get(2);
    CallRecord three = all.get(1);
    CallRecord four = all.get(0);
    assertEquals(firstId, one.getId());
    assertEquals(Map.of("team", "search"), one.getMetadataMap());
    assertEquals("INVALID_ARGUMENT", four.getStatus());
    assertTrue(four.getErrorMessage().contains("bad request from the test"), four.getErrorMessage());
    assertFalse(four.hasResponseMessage());

    GetTraceResponse tree = calls(router).getTrace(GetTraceRequest.newBuilder().setTraceId(trace).build());
    assertEquals(List.of(firstId), tree.getRootsList().stream().map(n -> n.getCall().getId()).toList());
    assertEquals(two.getId(), tree.getRoots(0).getChildren(0).getCall().getId());

    Map<CallFilter, List<String>> expected = Map.of(
        CallFilter.newBuilder().setUserId("alice").build(), List.of(two.getId(), one.getId()),
        CallFilter.newBuilder().setTag("b").build(), List.of(two.getId(), one.getId()),
        CallFilter.newBuilder().setTag("a").build(), List.of(one.getId()),
        CallFilter.newBuilder().setModel("openai/gpt-other").build(), List.of(three.getId()),
        CallFilter.newBuilder().setModel("gpt-test-2025-01-01").build(), List.of(two.getId(), one.getId()),
        CallFilter.newBuilder().setProvider("openai").setUserId("bob").build(), List.of(four.getId(), three.getId()),
        CallFilter.newBuilder().setStatus("INVALID_ARGUMENT").build(), List.of(four.getId()),
        CallFilter.newBuilder().setSessionId("s-42").build(), List.of(three.getId()),
        CallFilter.newBuilder().setTraceId(trace).build(), List.of(two.getId(), one.getId()),
        CallFilter.newBuilder().setStartTime(three.getStartTime()).build(), List.of(four.getId(), three.getId()));
    for (Map.Entry<CallFilter, List<String>> filter : expected.entrySet()) {
      assertEquals(filter.getValue(), ids(calls(router).listCalls(ListCallsRequest.newBuilder()
          .setFilter(filter.getKey()).build()).getCallsList()), filter.getKey().toString());
    }
    assertEquals(List.of(), ids(calls(router).listCalls(ListCallsRequest.newBuilder()
        .setFilter(CallFilter.newBuilder().setEndTime(one.getStartTime())).build()).getCallsList()));

    // Page by page, each call once, in the same order.
    List<String> paged = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      ListCallsResponse page = calls(router).listCalls(ListCallsRequest.newBuilder().setPageSize(3)
          .setPageToken(token).build());
      paged.addAll(ids(page.getCallsList()));
      token = page.getNextPageToken();
      pages++;
    } while (!token.isEmpty());
    assertEquals(newestFirst, paged);
    assertEquals(2, pages);

    StatusRuntimeException badToken = assertThrows(StatusRuntimeException.class, () -> calls(router)
        .listCalls(ListCallsRequest.newBuilder().setPageToken("not-a-token!").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, badToken.getStatus().getCode());
    assertTrue(badToken.getStatus().getDescription().contains("next_page_token"), badToken.getMessage());
    assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class, () -> calls(router)
        .listCalls(ListCallsRequest.newBuilder().setPageSize(5000).build())).getStatus().getCode());
    assertEquals(Status.Code.NOT_FOUND, assertThrows(StatusRuntimeException.class, () -> calls(router)
        .getTrace(GetTraceRequest.newBuilder().setTraceId("no-such-trace").build())).getStatus().getCode());
    StatusRuntimeException badHeader = assertThrows(StatusRuntimeException.class,
        () -> chat(router, ask("openai/gpt-test", "x"), "x-trace-id", "has spaces in it"));
    assertEquals(Status.Code.INVALID_ARGUMENT, badHeader.getStatus().getCode());
    assertTrue(badHeader.getStatus().getDescription().contains("x-trace-id"), badHeader.getMessage());

    String listed = runCalls(0, log, "list", "--user", "alice");
    assertTrue(listed.contains(one.getId()) && listed.contains(two.getId()) && !listed.contains(three.getId()),
        listed);
  }

  @ParameterizedTest
  @EnumSource(TestCallLog.Store.class)
  void costIsTokensTimesThePricesOnEveryResponseAndInTheUsageTotals(TestCallLog.Store store) throws Exception {
    TestCallLog log = callLog(store);
    RunningRouter router = router("auto", log.yaml(""));
    upstreamAnswers(1000, 400, 200);
    // 600 uncached input x $2 + 400 cached x $0.50 + 200 output x $10, per million tokens.
    double cost = (600 * 2.0 + 400 * 0.5 + 200 * 10.0) / 1_000_000;

    ChatResponse recorded = router.chat().chat(ask("openai/gpt-test", "price me"));
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, recorded.getOrigin().getCassette());
    assertEquals(cost, recorded.getUsage().getCostUsd(), 1e-12);
    ChatResponse replayed = router.chat().chat(ask("openai/gpt-test", "price me"));
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, replayed.getOrigin().getCassette());
    assertEquals(recorded.getUsage(), replayed.getUsage(), "a replay costs what the recording did");
    assertFalse(Files.readString(Files.list(cassettes.resolve("default")).findFirst().orElseThrow())
        .contains("costUsd"), "the cassette keeps tokens, not prices: a price change needs no re-recording");

    List<ChatEvent> events = new ArrayList<>();
    router.chat().streamChat(ask("openai/gpt-test", "stream me")).forEachRemaining(events::add);
    ChatEvent usage = events.stream().filter(ChatEvent::hasUsage).findFirst().orElseThrow();
    assertEquals(cost, usage.getUsage().getCostUsd(), 1e-12);
    assertEquals(usage.getUsage(), events.get(events.size() - 1).getDone().getResponse().getUsage());

    ChatResponse unpriced = router.chat().chat(ask("openai/gpt-other", "no price"));
    assertFalse(unpriced.getUsage().hasCostUsd(), "no price, no cost: " + unpriced.getUsage());

    awaitCalls(router, CallFilter.getDefaultInstance(), 4);
    GetUsageResponse totals = calls(router).getUsage(GetUsageRequest.newBuilder()
        .addGroupBy(UsageGrouping.USAGE_GROUPING_UPSTREAM_MODEL).build());
    assertEquals(4, totals.getTotal().getCalls());
    assertEquals(4000, totals.getTotal().getInputTokens());
    assertEquals(800, totals.getTotal().getOutputTokens());
    assertEquals(1600, totals.getTotal().getCachedInputTokens());
    assertEquals(3 * cost, totals.getTotal().getCostUsd(), 1e-12);
    assertEquals(1, totals.getTotal().getUnpricedCalls());
    assertEquals(1, totals.getTotal().getReplayedCalls());
    assertEquals(cost, totals.getTotal().getReplayedCostUsd(), 1e-12);
    UsageRow top = totals.getRows(0);
    assertEquals("gpt-test-2025-01-01", top.getUpstreamModel());
    assertEquals(3, top.getTotals().getCalls());
    assertEquals("gpt-other", totals.getRows(1).getUpstreamModel());

    String printed = runCalls(0, log, "usage", "--by", "upstream_model");
    assertTrue(printed.contains("gpt-test-2025-01-01") && printed.contains(String.format("%.6f", 3 * cost)),
        printed);
  }

  @Test
  void theCallLogNamesTheSettingsDroppedForTheModel() throws Exception {
    RunningRouter router = router("off", "");
    upstreamAnswers(10, 0, 2);
    ChatRequest request = ask("openai/o3-mini", "cool down").toBuilder().setDropUnsupportedSettings(true)
        .setSettings(GenerationSettings.newBuilder().setTemperature(0.2).setSeed(7)).build();

    assertEquals(List.of("settings.temperature"), router.chat().chat(request).getOrigin().getDroppedSettingsList());
    CallRecord logged = awaitCalls(router, CallFilter.getDefaultInstance(), 1).get(0);
    assertEquals(List.of("settings.temperature"), logged.getDroppedSettingsList());
  }

  @Test
  void metricsTextHasEverySeriesAfterTraffic() throws Exception {
    RunningRouter router = router("auto", "");
    // The first attempt fails with 503 and is retried.
    upstream.script(r -> r.response().setStatusCode(503).end("{\"error\":{\"message\":\"overloaded\"}}"),
        r -> answerText(r, upstream.lastRequest().body(), "Hello.", 10, 0, 5));
    router.chat().chat(ask("openai/gpt-test", "recorded after a retry"));
    upstreamAnswers(10, 0, 5);
    router.chat().chat(ask("openai/gpt-test", "recorded after a retry"));
    router.chat().streamChat(ask("openai/gpt-test", "streamed")).forEachRemaining(e -> { });
    assertThrows(StatusRuntimeException.class, () -> ChatServiceGrpc.newBlockingStub(router.channel())
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers("x-cassette-mode", "replay")))
        .chat(ask("openai/gpt-test", "never recorded")));
    Conversation open = Conversation.open(router).send(ConverseRequest.newBuilder().setStart(
        ConverseStart.newBuilder().setModel("openai/gpt-test")).build());
    open.until(ConverseEvent::hasSessionStarted);

    String metrics = scrape(router);
    for (String line : List.of(
        "llmrouter_requests_total{model=\"openai/gpt-test\",rpc=\"Chat\",status=\"OK\"} 2.0",
        "llmrouter_requests_total{model=\"openai/gpt-test\",rpc=\"StreamChat\",status=\"OK\"} 1.0",
        "llmrouter_requests_total{model=\"openai/gpt-test\",rpc=\"Chat\",status=\"FAILED_PRECONDITION\"} 1.0",
        "llmrouter_request_duration_seconds_count{model=\"openai/gpt-test\",rpc=\"Chat\"} 3",
        "llmrouter_time_to_first_event_seconds_count{model=\"openai/gpt-test\",rpc=\"StreamChat\"} 1",
        "llmrouter_tokens_total{kind=\"input\",model=\"openai/gpt-test\"} 30.0",
        "llmrouter_tokens_total{kind=\"output\",model=\"openai/gpt-test\"} 15.0",
        "llmrouter_cassette_outcomes_total{outcome=\"hit\"} 1.0",
        "llmrouter_cassette_outcomes_total{outcome=\"miss\"} 1.0",
        "llmrouter_cassette_outcomes_total{outcome=\"recorded\"} 2.0",
        "llmrouter_upstream_attempts_total{provider=\"openai\"} 3.0",
        "llmrouter_upstream_retries_total{provider=\"openai\"} 1.0",
        "llmrouter_open_streams{rpc=\"Converse\"} 1.0",
        "llmrouter_open_sessions 1.0",
        "llmrouter_call_log_dropped_total 0.0")) {
      assertTrue(metrics.contains(line + "\n"), line + " in\n" + metrics);
    }
    // 3 x (10 x $2 + 5 x $10) per million.
    String cost = metrics.lines().filter(l -> l.startsWith("llmrouter_cost_usd_total{model=\"openai/gpt-test\"} "))
        .findFirst().orElseThrow(() -> new AssertionError("no cost series in\n" + metrics));
    assertEquals(3 * 70e-6, Double.parseDouble(cost.substring(cost.indexOf(' ') + 1)), 1e-12);
    for (String series : List.of("llmrouter_request_duration_seconds_bucket{model=\"openai/gpt-test\",rpc=\"Chat\",le=",
        "llmrouter_time_to_first_event_seconds_bucket{", "vertx_http_client_requests_total{",
        "vertx_pool_completed_total{")) {
      assertTrue(metrics.contains(series), series + " in\n" + metrics);
    }

    open.requests.onCompleted();
    open.closed.get(10, TimeUnit.SECONDS);
    String after = scrape(router);
    assertTrue(after.contains("llmrouter_open_streams{rpc=\"Converse\"} 0.0\n"), after);
  }

  @Test
  void bodiesCanBeLeftOutAndSecretsNeverReachTheFile() throws Exception {
    upstreamAnswers(10, 0, 5);
    String secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
    RunningRouter withBodies = router("off", "");
    withBodies.chat().chat(ask("openai/gpt-test", "my key is " + secret));
    CallRecord logged = awaitCalls(withBodies, CallFilter.getDefaultInstance(), 1).get(0);
    assertEquals("my key is [REDACTED]", logged.getMessages(0).getParts(0).getText());
    int filesChecked = 0;
    for (Path file : List.of(withBodies.dataDir().resolve("calls.db"), withBodies.dataDir().resolve("calls.db-wal"))) {
      if (Files.exists(file)) {
        filesChecked++;
        assertFalse(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains(secret), file.toString());
      }
    }
    assertTrue(filesChecked > 0, "the call log is on disk");

    RunningRouter withoutBodies = router("off", "call_log: { bodies: false }");
    withoutBodies.chat().chat(ChatRequest.newBuilder(ask("openai/gpt-test", "private question"))
        .addMessages(0, Message.newBuilder().setRole(Role.ROLE_SYSTEM).addParts(Part.newBuilder().setText("secret")))
        .build());
    CallRecord bare = awaitCalls(withoutBodies, CallFilter.getDefaultInstance(), 1).get(0);
    assertEquals(0, bare.getMessagesCount());
    assertEquals("", bare.getSystemPrompt());
    assertFalse(bare.hasResponseMessage());
    assertEquals(15, bare.getUsage().getInputTokens() + bare.getUsage().getOutputTokens(), "the counts stay");
  }

  @Test
  void theCallLogIsReadableByTheRoutersUserOnly() throws Exception {
    String yaml = "data_dir: \"" + cassettes.resolve("fresh/data") + "\"";
    RunningRouter router = router("off", yaml);
    upstreamAnswers(10, 0, 5);
    router.chat().chat(ask("openai/gpt-test", "a private question"));
    awaitCalls(router, CallFilter.getDefaultInstance(), 1);

    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(router.dataDir())));
    try (var files = Files.list(router.dataDir())) {
      for (Path file : files.toList()) {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), file.toString());
      }
    }
  }

  @Test
  void bodiesLargerThanTheCapAreCutAndTheRecordSaysSo() throws Exception {
    upstreamAnswers(10, 0, 5);
    RunningRouter router = router("off", "call_log: { max_body_bytes: 2000 }");
    ChatRequest large = ChatRequest.newBuilder(ask("openai/gpt-test", "x".repeat(50_000))).addMessages(Message
        .newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setImage(Image.newBuilder()
            .setMimeType("image/png").setData(ByteString.copyFrom(new byte[100_000]))))).build();
    router.chat().chat(large);
    router.chat().chat(ask("openai/gpt-test", "small"));

    List<CallRecord> logged = awaitCalls(router, CallFilter.getDefaultInstance(), 2);
    CallRecord cut = logged.get(1);
    assertTrue(cut.getBodiesTruncated());
    String text = cut.getMessages(0).getParts(0).getText();
    assertTrue(text.length() < 2000 && text.endsWith("more characters left out: call_log.max_body_bytes]"), text);
    assertEquals("image/png", cut.getMessages(1).getParts(0).getImage().getMimeType());
    assertTrue(cut.getMessages(1).getParts(0).getImage().getData().isEmpty(), "the image data is left out");
    assertFalse(logged.get(0).getBodiesTruncated());
    assertEquals("small", logged.get(0).getMessages(0).getParts(0).getText());
  }

  @ParameterizedTest
  @EnumSource(TestCallLog.Store.class)
  void whenTheWriterFallsBehindCallsStillSucceedAndTheDropsAreCounted(TestCallLog.Store store) throws Exception {
    TestCallLog log = callLog(store);
    RunningRouter router = router("off", log.yaml("queue_size: 1"));
    upstreamAnswers(10, 0, 5);
    router.chat().chat(ask("openai/gpt-test", "warm up"));
    awaitCalls(router, CallFilter.getDefaultInstance(), 1);
    int calls = 20;
    // Holding the write lock stalls the writer: the queue (one record) fills and the rest are dropped.
    try (AutoCloseable lock = log.holdWrites()) {
      for (int i = 0; i < calls; i++) {
        assertEquals("Hello.", router.chat().chat(ask("openai/gpt-test", "call " + i)).getMessage().getParts(0)
            .getText());
      }
    }
    long[] droppedAndWritten = Await.poll(Duration.ofSeconds(10), () -> new long[] {
        (long) registry.get("llmrouter.call.log.dropped").functionCounter().count(),
        calls(router).listCalls(ListCallsRequest.newBuilder().setPageSize(1000).build()).getCallsCount() - 1},
        seen -> seen[0] + seen[1] >= calls);
    long dropped = droppedAndWritten[0];
    long written = droppedAndWritten[1];
    assertEquals(calls, dropped + written, "every record is written or counted as dropped");
    // While the writer waits for the lock, the record it holds still counts against queue_size (1), so nearly every
    // other record is dropped.
    assertTrue(dropped >= calls - 3, "at most 3 records could wait: " + dropped + " dropped");
    assertTrue(scrape(router).contains("llmrouter_call_log_dropped_total " + dropped + ".0\n"));
  }

  @ParameterizedTest
  @EnumSource(TestCallLog.Store.class)
  void callsOlderThanTheRetentionAreRemovedWithTheirTags(TestCallLog.Store store) throws Exception {
    TestCallLog log = callLog(store);
    String yaml = log.yaml("retention: 30d");
    RunningRouter first = router("off", yaml);
    upstreamAnswers(10, 0, 5);
    String oldId = header(chat(first, ask("openai/gpt-test", "old"), "x-tags", "old"), "x-call-id");
    String newId = header(chat(first, ask("openai/gpt-test", "new"), "x-tags", "new"), "x-call-id");
    awaitCalls(first, CallFilter.getDefaultInstance(), 2);
    routers.remove(first);
    first.close();
    try (Connection connection = log.connect(); Statement statement = connection.createStatement()) {
      // As if the router had logged it 31 days ago.
      assertEquals(1, statement.executeUpdate("UPDATE calls SET start_ms = start_ms - "
          + Duration.ofDays(31).toMillis() + " WHERE id = '" + oldId + "'"));
    }

    RunningRouter second = router("off", yaml); // its writer removes old calls as it starts
    List<CallRecord> left = Await.poll(Duration.ofSeconds(10),
        () -> calls(second).listCalls(ListCallsRequest.newBuilder().setPageSize(10).build()).getCallsList(),
        calls -> calls.size() <= 1);
    assertEquals(List.of(newId), ids(left));
    assertEquals(0, calls(second).listCalls(ListCallsRequest.newBuilder()
        .setFilter(CallFilter.newBuilder().setTag("old")).build()).getCallsCount());
    try (Connection connection = log.connect(); Statement statement = connection.createStatement();
        ResultSet tags = statement.executeQuery("SELECT tag FROM call_tags")) {
      List<String> tagsLeft = new ArrayList<>();
      while (tags.next()) {
        tagsLeft.add(tags.getString(1));
      }
      assertEquals(List.of("new"), tagsLeft, "the old call's tags went with it");
    }
  }

  @Test
  void theCallsCommandExplainsWhatIsWrong() throws IOException {
    assertTrue(runCalls(1, "list", "--data-dir", cassettes.resolve("nowhere").toString())
        .contains("there is no call log at"));
    assertTrue(runCalls(2, "list", "--since", "yesterday").contains("--since must be"));
    assertTrue(runCalls(2, "usage", "--by", "colour").contains("--by takes"));
    assertTrue(runCalls(2, "list", "--bogus").contains("unknown flag '--bogus'"));
    assertTrue(runCalls(0, "--help").contains("usage: java -jar server/target/llm-router.jar calls"));

    String notPostgres = runCalls(2, "list", "--postgres-url", "mysql://router:s3cret@db/calls");
    assertTrue(notPostgres.contains("--postgres-url must start with postgresql://"), notPostgres);
    assertTrue(runCalls(2, "list", "--postgres-url", "postgresql://router@db/calls", "--data-dir", "data")
        .contains("give one of --data-dir, --postgres-url and --config"));
    int closedPort;
    try (ServerSocket free = new ServerSocket(0)) {
      closedPort = free.getLocalPort();
    }
    String unreachable = runCalls(1, "list", "--postgres-url", "postgresql://router:s3cret@127.0.0.1:" + closedPort
        + "/calls");
    assertTrue(unreachable.contains("cannot read the call log postgresql://router@127.0.0.1:" + closedPort
        + "/calls: Connection to 127.0.0.1:" + closedPort + " refused"), unreachable);
    assertFalse(notPostgres.contains("s3cret") || unreachable.contains("s3cret"), notPostgres + unreachable);
  }

  // ---- helpers

  /** Runs `calls ARGS...` on a call log (with the flags that name it), as below. */
  private static String runCalls(int exitCode, TestCallLog log, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(log.commandFlags());
    return runCalls(exitCode, all.toArray(String[]::new));
  }

  /** Runs `calls ARGS...`, checks its exit code, and returns what it printed (stdout and stderr). */
  private static String runCalls(int exitCode, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
    int code = CallsCommand.run(List.of(args), print, print);
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(exitCode, code, printed);
    return printed;
  }

  private static String scrape(RunningRouter router) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + router.adminPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/plain"));
    return response.body();
  }
}
