package dev.llmrouter.server.observe;

import dev.llmrouter.cassettes.Redactor;
import dev.llmrouter.server.answer.CallError;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import java.util.HashMap;
import java.util.Map;

/**
 * The span of one upstream request of a call, a child of the call's span: whom it went to and how it ended. Its
 * context is what the request carries upstream in `traceparent`.
 */
public final class AttemptSpan {

  private final Span span;
  private final Redactor redactor;

  AttemptSpan(Span span, Redactor redactor) {
    this.span = span;
    this.redactor = redactor;
  }

  /**
   * The W3C trace context headers for the upstream request: this span's (or, with tracing off, the caller's own
   * `traceparent`, passed on); empty when there is no trace to join.
   */
  public Map<String, String> traceContext() {
    Map<String, String> headers = new HashMap<>(2);
    W3CTraceContextPropagator.getInstance().inject(Context.root().with(span), headers, Map::put);
    return headers;
  }

  /**
   * The attempt is over: it answered ({@code error} null), failed (then error status, `error.type`, and the upstream's
   * HTTP status when it sent one), or was cancelled.
   */
  public void end(CallError error) {
    if (error != null && span.isRecording()) {
      span.setStatus(StatusCode.ERROR, redactor.redactText(error.getMessage()));
      span.setAttribute(GenAiAttributes.ERROR_TYPE, GenAiAttributes.errorType(error));
      error.errorInfo().map(info -> info.getMetadataOrDefault("upstream_status", "")).filter(s -> !s.isEmpty())
          .ifPresent(status -> span.setAttribute(GenAiAttributes.HTTP_RESPONSE_STATUS_CODE, Long.parseLong(status)));
    }
    span.end();
  }
}
