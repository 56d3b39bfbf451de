package dev.llmrouter.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.ListCallsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.ObservabilityServiceGrpc;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.config.TracingConfig;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RouterProcess;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.TraceReceiver;
import dev.llmrouter.server.testing.TraceReceiver.ReceivedSpan;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status.StatusCode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router's OpenTelemetry traces, exported by the SDK's real OTLP exporter (http/protobuf) to a {@link
 * TraceReceiver} that decodes them as a collector would: the span of each model call and of each upstream attempt,
 * their GenAI attributes, the trace context taken from the caller (gRPC metadata, HTTP headers) and sent upstream, and
 * the call log's trace id. The `OTEL_*` variables are the test's, never the process's.
 */
class TracingTest {

  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CALLER_SPAN = "00f067aa0ba902b7";
  private static final String TRACEPARENT = "00-" + TRACE + "-" + CALLER_SPAN + "-01";
  private static final String MODEL = "openai/gpt-test";
  private static final String ANSWERING_MODEL = "gpt-test-2025-01-01";

  @TempDir
  Path cassettes;
  private Vertx vertx;
  private MockUpstream upstream;
  private TraceReceiver receiver;
  private final List<RunningRouter> routers = new ArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx);
    receiver = TraceReceiver.start(vertx);
    upstream.answer(TracingTest::hello);
  }

  @AfterEach
  void stop() throws Exception {
    for (RunningRouter router : routers) {
      router.close();
    }
    receiver.close();
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** The variables a deployment would set to send its traces to a collector at the receiver's address. */
  private Map<String, String> otel(String... more) {
    Map<String, String> environment = new HashMap<>(Map.of(
        "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
        "OTEL_SERVICE_NAME", "router-under-test",
        "OTEL_TRACES_SAMPLER", "parentbased_always_on",
        // Export each span at once rather than every 5 s: the tests wait for spans, not for time.
        "OTEL_BSP_SCHEDULE_DELAY", "1"));
    for (int i = 0; i < more.length; i += 2) {
      environment.put(more[i], more[i + 1]);
    }
    return environment;
  }

  private RunningRouter router(String mode, Map<String, String> environment) {
    RouterConfig config = ConfigLoader.parse("""
        cassettes: { dir: "%s", mode: "%s" }
        retry: { max_attempts: 2, initial_backoff: 1ms, max_backoff: 2ms }
        prices: { gpt-test: { input: 2.0, output: 10.0 } }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        """.formatted(cassettes, mode, upstream.baseUrl()), Map.of("TEST_API_KEY", RunningRouter.TEST_KEY)::get);
    RunningRouter router = RunningRouter.start(vertx,
        config.withObservability(config.observability().withTracing(TracingConfig.of(environment))));
    routers.add(router);
    return router;
  }

  // ---- the upstream, and calling the router

  /** Answers "Hello." with usage: one JSON answer, or server-sent events when the router streams. */
  private static void hello(HttpServerRequest r) {
    String usage = "{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}";
    String head = "{\"id\":\"chatcmpl-1\",\"created\":1,\"model\":\"" + ANSWERING_MODEL + "\",";
    String accept = r.getHeader("accept");
    if (accept == null || !accept.contains("event-stream")) {
      r.response().putHeader("content-type", "application/json").end(head + "\"object\":\"chat.completion\","
          + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello.\"},"
          + "\"finish_reason\":\"stop\"}],\"usage\":" + usage + "}");
      return;
    }
    r.response().putHeader("content-type", "text/event-stream").end(
        "data: " + head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello.\"},\"finish_reason\":null}]}\n\n"
            + "data: " + head + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
            + "data: " + head + "\"choices\":[],\"usage\":" + usage + "}\n\ndata: [DONE]\n\n");
  }

  private static ChatRequest ask(String text) {
    return ChatRequest.newBuilder().setModel(MODEL).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText(text))).build();
  }

  private static Metadata metadata(String... namesAndValues) {
    Metadata headers = new Metadata();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      headers.put(Metadata.Key.of(namesAndValues[i], Metadata.ASCII_STRING_MARSHALLER), namesAndValues[i + 1]);
    }
    return headers;
  }

  /** The router's chat service, sending these headers and keeping the response's in {@code received}. */
  private static ChatServiceGrpc.ChatServiceBlockingStub chat(RunningRouter router,
      AtomicReference<Metadata> received, String... headerNamesAndValues) {
    return ChatServiceGrpc.newBlockingStub(router.channel()).withInterceptors(
        MetadataUtils.newAttachHeadersInterceptor(metadata(headerNamesAndValues)),
        MetadataUtils.newCaptureMetadataInterceptor(received, new AtomicReference<>()));
  }

  private static String header(Metadata headers, String name) {
    return headers.get(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER));
  }

  /** The call log's record of the one call of {@code traceId}. */
  private static CallRecord loggedCall(RunningRouter router, String traceId) throws Exception {
    List<CallRecord> calls = Await.poll(Duration.ofSeconds(10), () -> ObservabilityServiceGrpc.newBlockingStub(
        router.channel()).listCalls(ListCallsRequest.newBuilder().setFilter(CallFilter.newBuilder()
        .setTraceId(traceId)).build()).getCallsList(), found -> !found.isEmpty());
    assertEquals(1, calls.size(), "the call log's calls of trace " + traceId);
    return calls.get(0);
  }

  // ---- what the spans say

  private static ReceivedSpan callSpan(List<ReceivedSpan> spans) {
    List<ReceivedSpan> calls = spans.stream().filter(span -> span.name().startsWith("chat ")).toList();
    assertEquals(1, calls.size(), "one span for the model call among " + spans.stream().map(ReceivedSpan::name)
        .toList());
    return calls.get(0);
  }

  private static List<ReceivedSpan> attemptSpans(List<ReceivedSpan> spans) {
    return spans.stream().filter(span -> span.name().startsWith("attempt ")).toList();
  }

  private static long number(ReceivedSpan span, String attribute) {
    AnyValue value = span.attributes().get(attribute);
    assertTrue(value != null, attribute + " on " + span.name() + ": " + span.attributes().keySet());
    return value.getIntValue();
  }

  private static double decimal(ReceivedSpan span, String attribute) {
    AnyValue value = span.attributes().get(attribute);
    assertTrue(value != null, attribute + " on " + span.name() + ": " + span.attributes().keySet());
    return value.getDoubleValue();
  }

  private static List<String> strings(ReceivedSpan span, String attribute) {
    return span.attributes().getOrDefault(attribute, AnyValue.getDefaultInstance()).getArrayValue().getValuesList()
        .stream().map(AnyValue::getStringValue).toList();
  }

  /** The trace id and span id an upstream request's `traceparent` names. */
  private static List<String> traceparentOf(MockUpstream.Received request) {
    String traceparent = request.headers().get("traceparent");
    assertTrue(traceparent != null, "the upstream request carries a traceparent: " + request.headers().names());
    String[] fields = traceparent.split("-");
    return List.of(fields[1], fields[2]);
  }

  // ---- the tests

  @Test
  void aLiveStreamedCallIsAChatSpanWithTheGenAiAttributesUnderTheCallersSpan() throws Exception {
    RunningRouter router = router("off", otel());
    AtomicReference<Metadata> responseHeaders = new AtomicReference<>();
    ChatRequest request = ask("Hi").toBuilder().setSettings(GenerationSettings.newBuilder().setTemperature(0.25)
        .setMaxOutputTokens(64).addStopSequences("END")).build();
    Iterator<ChatEvent> events = chat(router, responseHeaders, "traceparent", TRACEPARENT, "x-session-id", "s-1")
        .streamChat(request);
    ChatResponse answer = null;
    while (events.hasNext()) {
      ChatEvent event = events.next();
      if (event.hasDone()) {
        answer = event.getDone().getResponse();
      }
    }

    List<ReceivedSpan> spans = receiver.await(span -> span.traceId().equals(TRACE), 2);
    ReceivedSpan call = callSpan(spans);
    assertEquals("chat " + MODEL, call.name());
    assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, call.span().getKind());
    assertEquals(CALLER_SPAN, call.parentSpanId(), "the caller's span (its traceparent) is the parent");
    assertEquals("router-under-test", call.resourceAttribute("service.name"));
    assertEquals("chat", call.string("gen_ai.operation.name"));
    assertEquals("openai", call.string("gen_ai.provider.name"));
    assertEquals(MODEL, call.string("gen_ai.request.model"));
    assertEquals(ANSWERING_MODEL, call.string("gen_ai.response.model"));
    assertEquals(answer.getId(), call.string("gen_ai.response.id"), "the id the caller got");
    assertEquals(List.of("stop"), strings(call, "gen_ai.response.finish_reasons"));
    assertEquals(12, number(call, "gen_ai.usage.input_tokens"));
    assertEquals(3, number(call, "gen_ai.usage.output_tokens"));
    assertEquals(0.25, decimal(call, "gen_ai.request.temperature"));
    assertEquals(64, number(call, "gen_ai.request.max_tokens"));
    assertEquals(List.of("END"), strings(call, "gen_ai.request.stop_sequences"));
    assertTrue(call.attributes().get("gen_ai.request.stream").getBoolValue());
    assertEquals("s-1", call.string("gen_ai.conversation.id"));
    double firstChunk = decimal(call, "gen_ai.response.time_to_first_chunk");
    assertTrue(firstChunk > 0 && firstChunk * 1e9 <= call.span().getEndTimeUnixNano()
        - call.span().getStartTimeUnixNano(), "the first chunk came within the call: " + firstChunk + " s");
    assertEquals("live", call.string("llmrouter.cassette.outcome"));
    assertEquals(answer.getUsage().getCostUsd(), decimal(call, "llmrouter.usage.cost_usd"), 1e-12,
        "the cost the caller was told");
    assertEquals((12 * 2.0 + 3 * 10.0) / 1e6, decimal(call, "llmrouter.usage.cost_usd"), 1e-12);
    assertEquals(1, number(call, "llmrouter.attempts"));
    assertEquals(StatusCode.STATUS_CODE_UNSET, call.span().getStatus().getCode());
    assertFalse(call.attributes().containsKey("gen_ai.input.messages"), "no prompt on spans unless asked");
    assertFalse(call.attributes().containsKey("gen_ai.output.messages"), "no answer on spans unless asked");

    ReceivedSpan attempt = attemptSpans(spans).get(0);
    assertEquals("attempt openai", attempt.name());
    assertEquals(Span.SpanKind.SPAN_KIND_CLIENT, attempt.span().getKind());
    assertEquals(call.spanId(), attempt.parentSpanId(), "an attempt is a child of its call");
    assertEquals(1, number(attempt, "llmrouter.attempt"));
    assertEquals("gpt-test", attempt.string("llmrouter.upstream.model"));
    assertEquals("127.0.0.1", attempt.string("server.address"));
    assertEquals(Long.parseLong(upstream.baseUrl().replaceFirst(".*:", "")), number(attempt, "server.port"));
    assertEquals(List.of(TRACE, attempt.spanId()), traceparentOf(upstream.lastRequest()),
        "the upstream request carries the attempt's span in its traceparent");

    CallRecord logged = loggedCall(router, TRACE);
    assertEquals(logged.getId(), call.spanId(), "the call's id in the call log is its span's id");
    assertEquals(header(responseHeaders.get(), "x-call-id"), call.spanId());
    assertEquals(call.string("llmrouter.call.id"), call.spanId());
  }

  @Test
  void aRetriedCallHasTwoAttemptSpansAndItsTraceIdIsTheCallLogs() throws Exception {
    upstream.script(r -> r.response().setStatusCode(503).putHeader("content-type", "application/json")
        .end("{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}"), TracingTest::hello);
    RunningRouter router = router("off", otel());
    AtomicReference<Metadata> responseHeaders = new AtomicReference<>();
    chat(router, responseHeaders).chat(ask("Hi"));
    String traceId = header(responseHeaders.get(), "x-trace-id");

    List<ReceivedSpan> spans = receiver.await(span -> span.traceId().equals(traceId), 3);
    ReceivedSpan call = callSpan(spans);
    assertEquals("", call.parentSpanId(), "without a traceparent the call's span starts the trace");
    assertEquals(loggedCall(router, traceId).getTraceId(), call.traceId(), "one trace id in the log and the trace");
    assertEquals(2, number(call, "llmrouter.attempts"));
    assertFalse(call.attributes().containsKey("gen_ai.request.stream"), "a unary call");
    assertFalse(call.attributes().containsKey("gen_ai.response.time_to_first_chunk"), "only streams have it");
    assertEquals(StatusCode.STATUS_CODE_UNSET, call.span().getStatus().getCode());

    List<ReceivedSpan> attempts = attemptSpans(spans).stream()
        .sorted((a, b) -> Long.compare(number(a, "llmrouter.attempt"), number(b, "llmrouter.attempt"))).toList();
    assertEquals(2, attempts.size());
    ReceivedSpan failed = attempts.get(0);
    assertEquals(call.spanId(), failed.parentSpanId());
    assertEquals(StatusCode.STATUS_CODE_ERROR, failed.span().getStatus().getCode());
    assertTrue(failed.span().getStatus().getMessage().contains("overloaded"), failed.span().getStatus().getMessage());
    assertEquals("UPSTREAM_UNAVAILABLE", failed.string("error.type"));
    assertEquals(503, number(failed, "http.response.status_code"));
    ReceivedSpan answered = attempts.get(1);
    assertEquals(2, number(answered, "llmrouter.attempt"));
    assertEquals(call.spanId(), answered.parentSpanId());
    assertEquals(StatusCode.STATUS_CODE_UNSET, answered.span().getStatus().getCode());
    assertFalse(answered.attributes().containsKey("error.type"));

    assertEquals(List.of(List.of(traceId, failed.spanId()), List.of(traceId, answered.spanId())),
        upstream.received().stream().map(TracingTest::traceparentOf).toList(),
        "each upstream request carries its own attempt's span");
  }

  @Test
  void aReplayedCallHasNoAttemptAndSaysItWasAHit() throws Exception {
    RunningRouter router = router("auto", otel());
    AtomicReference<Metadata> first = new AtomicReference<>();
    chat(router, first).chat(ask("Hi"));
    AtomicReference<Metadata> second = new AtomicReference<>();
    ChatResponse replayed = chat(router, second).chat(ask("Hi"));
    assertEquals(1, upstream.received().size(), "the second answer came from the cassette");

    ReceivedSpan recorded = callSpan(receiver.await(span -> span.traceId().equals(header(first.get(),
        "x-trace-id")), 2));
    assertEquals("recorded", recorded.string("llmrouter.cassette.outcome"));
    List<ReceivedSpan> spans = receiver.await(span -> span.traceId().equals(header(second.get(), "x-trace-id")), 1);
    ReceivedSpan hit = callSpan(spans);
    assertEquals(List.of(), attemptSpans(spans), "nothing was sent upstream");
    assertEquals("hit", hit.string("llmrouter.cassette.outcome"));
    assertEquals(replayed.getOrigin().getCassetteKey(), hit.string("llmrouter.cassette.key"));
    assertEquals("default", hit.string("llmrouter.cassette.scope"));
    assertEquals(recorded.string("llmrouter.cassette.key"), hit.string("llmrouter.cassette.key"));
    assertEquals(0, number(hit, "llmrouter.attempts"));
    assertEquals("openai", hit.string("gen_ai.provider.name"));
    assertEquals(ANSWERING_MODEL, hit.string("gen_ai.response.model"));
    assertEquals(replayed.getId(), hit.string("gen_ai.response.id"));
    assertEquals(12, number(hit, "gen_ai.usage.input_tokens"));
    assertEquals(3, number(hit, "gen_ai.usage.output_tokens"));
  }

  @Test
  void aFailedCallHasTheErrorStatusAndItsType() throws Exception {
    upstream.reply(400, "application/json", "{\"error\":{\"message\":\"temperature is out of range\","
        + "\"type\":\"invalid_request_error\"}}");
    RunningRouter router = router("off", otel());
    AtomicReference<Metadata> responseHeaders = new AtomicReference<>();
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> chat(router, responseHeaders, "traceparent", TRACEPARENT).chat(ask("Hi")));
    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());

    List<ReceivedSpan> spans = receiver.await(span -> span.traceId().equals(TRACE), 2);
    ReceivedSpan call = callSpan(spans);
    assertEquals(StatusCode.STATUS_CODE_ERROR, call.span().getStatus().getCode());
    assertTrue(call.span().getStatus().getMessage().contains("temperature is out of range"),
        call.span().getStatus().getMessage());
    assertEquals("UPSTREAM_INVALID_REQUEST", call.string("error.type"));
    assertEquals("openai", call.string("llmrouter.deployment"));
    assertEquals("openai", call.string("gen_ai.provider.name"));
    assertFalse(call.attributes().containsKey("gen_ai.response.id"), "no answer came");
    ReceivedSpan attempt = attemptSpans(spans).get(0);
    assertEquals(StatusCode.STATUS_CODE_ERROR, attempt.span().getStatus().getCode());
    assertEquals(400, number(attempt, "http.response.status_code"));
    assertEquals(1, attemptSpans(spans).size(), "a caller's error is not retried");

    // A replay miss fails before anything is sent: the call's span alone says why. An x-trace-id of the W3C form
    // is the trace of the span too.
    RunningRouter replaying = router("replay", otel());
    String traceId = "0af7651916cd43dd8448eb211c80319c";
    assertThrows(StatusRuntimeException.class,
        () -> chat(replaying, new AtomicReference<>(), "x-trace-id", traceId).chat(ask("Never recorded")));
    List<ReceivedSpan> missSpans = receiver.await(span -> span.traceId().equals(traceId), 1);
    ReceivedSpan miss = callSpan(missSpans);
    assertEquals(StatusCode.STATUS_CODE_ERROR, miss.span().getStatus().getCode());
    assertEquals("CASSETTE_MISS", miss.string("error.type"));
    assertEquals(List.of(), attemptSpans(missSpans));
  }

  @Test
  void eachProviderTypeIsNamedAsTheGenAiConventionsNameItsProvider() throws Exception {
    upstream.reply(400, "application/json", "{\"error\":{\"message\":\"refused\"},\"message\":\"refused\"}");
    RouterConfig config = ConfigLoader.parse("""
        cassettes: { mode: "off" }
        retry: { max_attempts: 1 }
        providers:
          - { name: oair, type: openai-responses, base_url: "%1$s/v1", api_key: "${TEST_API_KEY}" }
          - { name: azure, type: azure-openai, base_url: "%1$s", api_key: "${TEST_API_KEY}", api_version: "2024-10-21" }
          - { name: bedrock, type: bedrock, region: us-east-1, base_url: "%1$s", api_key: "${TEST_API_KEY}" }
          - { name: vertex, type: vertex, project: p, location: us-central1, base_url: "%1$s", access_token: "${TEST_API_KEY}" }
        """.formatted(upstream.baseUrl()), Map.of("TEST_API_KEY", RunningRouter.TEST_KEY)::get);
    RunningRouter router = RunningRouter.start(vertx,
        config.withObservability(config.observability().withTracing(TracingConfig.of(otel()))));
    routers.add(router);
    Map<String, String> expected = Map.of("oair/gpt-test", "openai", "azure/gpt-test", "azure.ai.openai",
        "bedrock/anthropic.claude-3-haiku-20240307-v1:0", "aws.bedrock", "vertex/gemini-2.5-flash", "gcp.vertex_ai");
    int call = 0;
    for (Map.Entry<String, String> model : expected.entrySet()) {
      String traceId = TRACE.substring(0, 30) + String.format("%02d", ++call);
      assertThrows(StatusRuntimeException.class, () -> chat(router, new AtomicReference<>(), "traceparent",
          "00-" + traceId + "-" + CALLER_SPAN + "-01").chat(ask("Hi").toBuilder().setModel(model.getKey()).build()));
      ReceivedSpan span = callSpan(receiver.await(s -> s.traceId().equals(traceId), 2));
      assertEquals(model.getValue(), span.string("gen_ai.provider.name"), model.getKey());
    }
  }

  @Test
  void anHttpIngressCallTakesItsParentFromTheTraceparentHeader() throws Exception {
    RunningRouter router = router("off", otel());
    IngressClient.Reply reply = new IngressClient(router.port()).post("/v1/chat/completions",
        "{\"model\":\"" + MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"temperature\":0.5}",
        "traceparent", TRACEPARENT);
    assertEquals(200, reply.status(), reply.body());
    assertEquals(TRACE, reply.header("x-trace-id"));

    List<ReceivedSpan> spans = receiver.await(span -> span.traceId().equals(TRACE), 2);
    ReceivedSpan call = callSpan(spans);
    assertEquals(CALLER_SPAN, call.parentSpanId());
    assertEquals(0.5, decimal(call, "gen_ai.request.temperature"));
    assertEquals(List.of(TRACE, attemptSpans(spans).get(0).spanId()), traceparentOf(upstream.lastRequest()));
    assertEquals(call.spanId(), loggedCall(router, TRACE).getId());
  }

  @Test
  void promptsAndAnswersAreOnSpansOnlyWhenAskedAndRedactedAsInTheCallLog() throws Exception {
    RunningRouter router = router("off", otel(TracingConfig.CAPTURE_MESSAGE_CONTENT, "true"));
    String secret = "sk-proj-" + "abcdefghijklmnopqrstuvwxyz0123456789";
    ChatRequest request = ChatRequest.newBuilder().setModel(MODEL)
        .addMessages(Message.newBuilder().setRole(Role.ROLE_SYSTEM).addParts(Part.newBuilder().setText("Be brief.")))
        .addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
            .addParts(Part.newBuilder().setText("My key is " + secret + ", say hi")))
        .build();
    chat(router, new AtomicReference<>(), "traceparent", TRACEPARENT).chat(request);

    ReceivedSpan call = callSpan(receiver.await(span -> span.traceId().equals(TRACE), 2));
    assertEquals("[{\"type\":\"text\",\"content\":\"Be brief.\"}]", call.string("gen_ai.system_instructions"));
    String input = call.string("gen_ai.input.messages");
    assertEquals("[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"My key is [REDACTED], say hi\"}]}]",
        input);
    assertFalse(input.contains(secret));
    assertEquals("[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"Hello.\"}],"
        + "\"finish_reason\":\"stop\"}]", call.string("gen_ai.output.messages"));
    assertTrue(upstream.lastRequest().body().contains(secret), "only the span is redacted, not the request");
  }

  @Test
  void withNoOtelVariableOrWithTheSdkDisabledNothingIsExportedAndTheCallersTraceparentGoesUpstreamAsItCame()
      throws Exception {
    long exportThreads = exportThreads();
    router("off", Map.of("OTEL_SDK_DISABLED", "true", "OTEL_SERVICE_NAME", "disabled"));
    RunningRouter router = router("off", Map.of());
    assertEquals(exportThreads, exportThreads(), "no span processor thread for a router without tracing");
    chat(router, new AtomicReference<>(), "traceparent", TRACEPARENT).chat(ask("Hi"));
    assertEquals(TRACEPARENT, upstream.lastRequest().headers().get("traceparent"));

    // Without a traceparent there is no trace to join: nothing is sent.
    chat(router, new AtomicReference<>()).chat(ask("Hi again"));
    assertEquals(null, upstream.lastRequest().headers().get("traceparent"));
    assertEquals(List.of(), receiver.spans());

    router("off", otel());
    assertEquals(exportThreads + 1, exportThreads(), "a router with tracing has its span processor's thread");
  }

  private static long exportThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().startsWith("BatchSpanProcessor")).count();
  }

  @Test
  void theRouterProcessIsConfiguredByTheOtelVariablesOfItsEnvironment() throws Exception {
    Path config = cassettes.resolve("router.yaml");
    Files.writeString(config, """
        listen: 127.0.0.1:0
        event_loops: 1
        data_dir: "%s"
        cassettes: { mode: "off" }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        """.formatted(cassettes.resolve("data"), upstream.baseUrl()));
    // As the README's section "Tracing with OpenTelemetry" has them, with the collector's address.
    Map<String, String> environment = Map.of("TEST_API_KEY", RunningRouter.TEST_KEY,
        "OTEL_SERVICE_NAME", "llm-router",
        "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY", "1");
    try (RouterProcess router = RouterProcess.start(config, environment)) {
      // Printed after the line RouterProcess waits for.
      assertTrue(router.printed("traces: OpenTelemetry, as OTEL_BSP_SCHEDULE_DELAY, OTEL_EXPORTER_OTLP_ENDPOINT"),
          router.toString());
      ChatServiceGrpc.newBlockingStub(router.channel()).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(
          metadata("traceparent", TRACEPARENT))).chat(ask("Hi"));
      ReceivedSpan call = callSpan(receiver.await(span -> span.traceId().equals(TRACE), 2));
      assertEquals("llm-router", call.resourceAttribute("service.name"));
      assertEquals(CALLER_SPAN, call.parentSpanId());
    }
  }

  @Test
  void spansGoOverOtlpGrpcByDefault() {
    RunningRouter router = router("off", Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpcEndpoint(),
        "OTEL_BSP_SCHEDULE_DELAY", "1"));
    chat(router, new AtomicReference<>(), "traceparent", TRACEPARENT).chat(ask("Hi"));
    ReceivedSpan call = callSpan(receiver.await(span -> span.traceId().equals(TRACE), 2));
    assertEquals("llm-router", call.resourceAttribute("service.name"), "the service's name when it has none");
  }

  @Test
  void aWrongOtelVariableStopsTheRouterFromStartingWithAClearMessage() {
    RouterConfig config = ConfigLoader.parse("cassettes: { mode: \"off\" }", Map.<String, String>of()::get);
    Throwable failure = assertThrows(Exception.class, () -> Await.result(
        RouterServer.start(vertx, config.withPort(0).withObservability(config.observability()
            .withDataDir(cassettes.toString()).withTracing(TracingConfig.of(otel("OTEL_TRACES_SAMPLER", "sometimes")))))));
    String message = failure.getCause() == null ? failure.getMessage() : failure.getCause().getMessage();
    assertTrue(message.contains("OTEL_") && message.contains("sometimes"), message);
  }
}
