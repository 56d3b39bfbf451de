package dev.llmrouter.server.observe;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.cassettes.Redactor;
import dev.llmrouter.server.config.TracingConfig;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.trace.IdGenerator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The router's OpenTelemetry traces: a span per model call, a child span per upstream attempt ({@link CallSpan}),
 * exported as the standard `OTEL_*` variables say, through the SDK's autoconfigure (its BatchSpanProcessor: ending a
 * span only queues it, the export runs on the SDK's own thread). With no `OTEL_*` variable it is OpenTelemetry's
 * no-op: no SDK, no thread, and a caller's `traceparent` still goes upstream as it came.
 */
public final class CallTracing implements AutoCloseable {

  /** The `OTEL_*` variables that are the SDK's to read but that the router sets otherwise when they are unset. */
  private static final Map<String, String> DEFAULTS = Map.of(
      // The router's metrics are Prometheus's, and its logs its own: only traces go out over OTLP.
      "otel.metrics.exporter", "none",
      "otel.logs.exporter", "none");
  private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
  private static final String SERVICE = "llm-router";

  private final Optional<OpenTelemetrySdk> sdk;
  private final Tracer tracer;
  private final boolean captureContent;
  private final Redactor redactor;

  private CallTracing(Optional<OpenTelemetrySdk> sdk, OpenTelemetry openTelemetry, boolean captureContent,
      Redactor redactor) {
    this.sdk = sdk;
    this.tracer = openTelemetry.getTracer("dev.llmrouter");
    this.captureContent = captureContent;
    this.redactor = redactor;
  }

  /**
   * Starts the SDK as {@code config}'s variables say, or the no-op when there are none. Call it off the event loop.
   *
   * @param redactor what the call log's redaction rules take out of prompts and answers before they go on a span
   * @throws IllegalStateException saying which variable is wrong
   */
  public static CallTracing start(TracingConfig config, Redactor redactor) {
    if (!config.enabled()) {
      return new CallTracing(Optional.empty(), OpenTelemetry.noop(), false, redactor);
    }
    // The SDK reads the process's environment too; the variables given here win, so a test's are the ones used.
    Map<String, String> properties = config.environment().entrySet().stream().collect(Collectors.toMap(
        variable -> variable.getKey().toLowerCase(Locale.ROOT).replace('_', '.'), Map.Entry::getValue));
    try {
      OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
          .addPropertiesSupplier(() -> DEFAULTS)
          .addPropertiesCustomizer(ignored -> properties)
          .addResourceCustomizer((resource, ignored) -> named(resource.getAttribute(SERVICE_NAME)) ? resource
              : resource.toBuilder().put(SERVICE_NAME, SERVICE).build())
          .addTracerProviderCustomizer((tracerProvider, ignored) -> tracerProvider.setIdGenerator(new CallIds()))
          .disableShutdownHook()
          .build()
          .getOpenTelemetrySdk();
      return new CallTracing(Optional.of(sdk), sdk, config.captureMessageContent(), redactor);
    } catch (ConfigurationException e) {
      throw new IllegalStateException("OpenTelemetry tracing cannot start (check the OTEL_* variables): "
          + e.getMessage(), e);
    }
  }

  /** Whether the service has a name of its own (`OTEL_SERVICE_NAME`), not the SDK's `unknown_service:java`. */
  private static boolean named(String serviceName) {
    return serviceName != null && !serviceName.startsWith("unknown_service");
  }

  /**
   * Starts the span of one model call: a child of the caller's span when the call came with a `traceparent`, else the
   * root of the call's trace (with the trace id the call log keeps). Its span id is the call's id. Call it on the
   * call's event loop.
   *
   * @param operation `chat`, or `embeddings`: the span's `gen_ai.operation.name` and the first word of its name
   * @param providerType the provider type of a deployment name, for `gen_ai.provider.name`
   */
  CallSpan begin(CallContext call, String operation, ChatRequest request, Function<String, String> providerType) {
    if (!exports()) { // what the no-op's span builder would return, without building a name and a context per call
      return new CallSpan(this, Span.wrap(call.callerSpan()), call, request, providerType);
    }
    Context parent = Context.root().with(Span.wrap(call.callerSpan()));
    Span span;
    CallIds.STARTING.set(call);
    try {
      span = tracer.spanBuilder(operation + " " + request.getModel()).setSpanKind(SpanKind.CLIENT).setParent(parent)
          .setAttribute(GenAiAttributes.OPERATION_NAME, operation)
          .setAttribute(GenAiAttributes.REQUEST_MODEL, request.getModel())
          .startSpan();
    } finally {
      CallIds.STARTING.remove();
    }
    return new CallSpan(this, span, call, request, providerType);
  }

  Tracer tracer() {
    return tracer;
  }

  /** Whether spans go anywhere: false for the no-op, whose spans only carry the caller's trace context upstream. */
  boolean exports() {
    return sdk.isPresent();
  }

  /** Whether spans carry the prompts and answers (redacted). */
  boolean capturesContent() {
    return captureContent;
  }

  Redactor redactor() {
    return redactor;
  }

  /** Exports the spans still queued and stops the SDK. Blocks (at most the SDK's own timeout): off the event loop. */
  @Override
  public void close() {
    sdk.ifPresent(OpenTelemetrySdk::close);
  }

  /**
   * The SDK's span and trace ids: a call's span gets the call's id, and, when it starts a trace, the trace id the call
   * log has (generated, or the caller's `x-trace-id` when it has the W3C form), so that one id finds a call in both;
   * every other span gets random ids. The call is known only while its span starts, on that thread.
   */
  private static final class CallIds implements IdGenerator {
    static final ThreadLocal<CallContext> STARTING = new ThreadLocal<>();
    private static final IdGenerator RANDOM = IdGenerator.random();

    @Override
    public String generateSpanId() {
      CallContext call = STARTING.get();
      return call != null && SpanId.isValid(call.callId()) ? call.callId() : RANDOM.generateSpanId();
    }

    @Override
    public String generateTraceId() {
      CallContext call = STARTING.get();
      return call != null && TraceId.isValid(call.traceId()) ? call.traceId() : RANDOM.generateTraceId();
    }
  }
}
