package dev.llmrouter.server.provider;

import dev.llmrouter.server.answer.CallError;
import io.vertx.core.MultiMap;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Maps an upstream failure to the gRPC status a caller should see (ARCHITECTURE.md section 5), with an ErrorInfo
 * naming the provider and upstream status, and a RetryInfo on RESOURCE_EXHAUSTED. Every adapter uses this one
 * mapping; each only extracts the message and code from its own error body.
 */
public final class UpstreamErrors {

  private static final Duration DEFAULT_RETRY_DELAY = Duration.ofSeconds(1);

  private UpstreamErrors() {
  }

  /**
   * @param provider the deployment name
   * @param httpStatus the upstream HTTP status
   * @param headers the upstream response headers (for Retry-After)
   * @param message the provider's own error message
   * @param code the provider's error code or type, empty when none
   */
  public static CallError fromHttp(String provider, int httpStatus, MultiMap headers, String message, String code) {
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("provider", provider);
    metadata.put("upstream_status", Integer.toString(httpStatus));
    if (!code.isEmpty()) {
      metadata.put("upstream_code", code);
    }
    String text = provider + " answered HTTP " + httpStatus + ": " + message;
    String lower = (code + " " + message).toLowerCase(Locale.ROOT);
    if (httpStatus == 401 || httpStatus == 403) {
      return CallError.withInfo(GrpcStatus.FAILED_PRECONDITION, text
          + " (the router's credentials for " + provider + " were refused; check its api_key)", "UPSTREAM_AUTH_FAILED",
          metadata, null);
    }
    if (httpStatus == 404) {
      return CallError.withInfo(GrpcStatus.NOT_FOUND, text, "UPSTREAM_NOT_FOUND", metadata, null);
    }
    if (httpStatus == 429) {
      return CallError.withInfo(GrpcStatus.RESOURCE_EXHAUSTED, text, "UPSTREAM_RATE_LIMITED", metadata,
          retryAfter(headers));
    }
    if (httpStatus == 408 || httpStatus == 504) {
      return CallError.withInfo(GrpcStatus.DEADLINE_EXCEEDED, text, "UPSTREAM_TIMEOUT", metadata, null);
    }
    if (httpStatus >= 500 || httpStatus == 409) {
      return CallError.withInfo(GrpcStatus.UNAVAILABLE, text, "UPSTREAM_UNAVAILABLE", metadata, null);
    }
    if (lower.contains("context_length") || lower.contains("context length") || lower.contains("too many tokens")
        || lower.contains("maximum context")) {
      return CallError.withInfo(GrpcStatus.INVALID_ARGUMENT, text, "CONTEXT_LENGTH_EXCEEDED", metadata, null);
    }
    return CallError.withInfo(GrpcStatus.INVALID_ARGUMENT, text, "UPSTREAM_INVALID_REQUEST", metadata, null);
  }

  /** The upstream could not be reached, or its connection broke. */
  public static CallError unreachable(String provider, String what) {
    return CallError.withInfo(GrpcStatus.UNAVAILABLE, provider + ": " + what, "UPSTREAM_UNAVAILABLE",
        Map.of("provider", provider), null);
  }

  /** The upstream answered something the adapter cannot read. */
  public static CallError malformed(String provider, String what) {
    return CallError.withInfo(GrpcStatus.UNAVAILABLE, provider + " sent a malformed answer: " + what,
        "UPSTREAM_MALFORMED_RESPONSE", Map.of("provider", provider), null);
  }

  /** The deployment's own {@code timeout} passed, counted from when the request had a connection. */
  public static CallError timeout(String provider, Duration timeout) {
    return CallError.withInfo(GrpcStatus.DEADLINE_EXCEEDED, provider + " did not finish within its timeout of "
        + timeout.toMillis() + " ms (providers[].timeout); the upstream request was aborted", "UPSTREAM_TIMEOUT",
        Map.of("provider", provider), null);
  }

  /** Every connection stayed busy for as long as a request may wait for one ({@code connection_wait_timeout}). */
  public static CallError connectionsBusy(String provider, int maxConnections, Duration waited) {
    return CallError.withInfo(GrpcStatus.RESOURCE_EXHAUSTED, provider + " had no free connection for "
        + waited.toMillis() + " ms (providers[].connection_wait_timeout): all " + maxConnections
        + " (providers[].max_connections) were busy; nothing was sent", "DEPLOYMENT_BUSY",
        Map.of("provider", provider), null);
  }

  /** Shortens upstream text quoted in an error message (a non-JSON error page, a malformed chunk). */
  public static String abbreviate(String text) {
    return text.length() <= 500 ? text : text.substring(0, 500) + "...";
  }

  private static Duration retryAfter(MultiMap headers) {
    String value = headers == null ? null : headers.get("retry-after");
    if (value == null || value.isBlank()) {
      return DEFAULT_RETRY_DELAY;
    }
    try {
      return Duration.ofMillis((long) (Double.parseDouble(value.trim()) * 1000));
    } catch (NumberFormatException notSeconds) {
      try {
        Duration until = Duration.between(ZonedDateTime.now(),
            ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME));
        return until.isNegative() ? Duration.ZERO : until;
      } catch (RuntimeException notADate) {
        return DEFAULT_RETRY_DELAY;
      }
    }
  }
}
