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
import java.util.stream.Collectors;
import java.util.stream.Stream;

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
   * The HTTP status each error type or code stands for, as providers name them in their error bodies: Anthropic's
   * error types, OpenAI's types and codes, Google's RPC statuses. Read when an error inside a 200 answer names no
   * status.
   */
  private static final Map<String, Integer> HTTP_STATUS_OF_ERROR_TYPE = Map.ofEntries(
      Map.entry("invalid_request_error", 400), Map.entry("invalid_argument", 400),
      Map.entry("failed_precondition", 400), Map.entry("context_length_exceeded", 400), Map.entry("tool_use_failed", 400),
      Map.entry("authentication_error", 401), Map.entry("invalid_api_key", 401), Map.entry("unauthenticated", 401),
      Map.entry("billing_error", 402),
      Map.entry("permission_error", 403), Map.entry("permission_denied", 403),
      Map.entry("not_found_error", 404), Map.entry("not_found", 404), Map.entry("model_not_found", 404),
      Map.entry("request_too_large", 413),
      Map.entry("rate_limit_error", 429), Map.entry("rate_limit_exceeded", 429), Map.entry("insufficient_quota", 429),
      Map.entry("resource_exhausted", 429),
      Map.entry("api_error", 500), Map.entry("server_error", 500), Map.entry("internal", 500),
      Map.entry("unavailable", 503), Map.entry("timeout_error", 504), Map.entry("deadline_exceeded", 504),
      Map.entry("overloaded_error", 529));

  /**
   * An HTTP error answer.
   *
   * @param provider the deployment name
   * @param httpStatus the upstream HTTP status
   * @param headers the upstream response headers (for Retry-After)
   * @param message the provider's own error message
   * @param code the provider's error code or type, empty when none
   */
  public static CallError fromHttp(String provider, int httpStatus, MultiMap headers, String message, String code) {
    return mapped(provider, httpStatus, code, message, provider + " answered HTTP " + httpStatus + ": " + message,
        retryAfter(headers));
  }

  /**
   * An error the provider reported inside an answer it had begun with HTTP 200 (an `error` event, or an error object
   * in a chunk), mapped like an HTTP error of the status it names, or else the status its type stands for; an error
   * that names neither is the upstream's failure (500).
   *
   * @param status the HTTP status the error names, 0 when none
   * @param type the provider's error type or code, empty when none
   * @param message the provider's own error message
   */
  public static CallError inAnswer(String provider, int status, String type, String message) {
    int standsFor = status != 0 ? status : HTTP_STATUS_OF_ERROR_TYPE.getOrDefault(type.toLowerCase(Locale.ROOT), 500);
    String named = Stream.of(status != 0 ? "status " + status : "", type).filter(s -> !s.isEmpty())
        .collect(Collectors.joining(", "));
    return mapped(provider, standsFor, type, message, provider + " reported an error inside its answer"
        + (named.isEmpty() ? "" : " (" + named + ")") + ": " + message, DEFAULT_RETRY_DELAY);
  }

  /** The one table from an upstream status (and the code and message, for a context too long) to a gRPC status. */
  private static CallError mapped(String provider, int httpStatus, String code, String message, String text,
      Duration retryDelay) {
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("provider", provider);
    metadata.put("upstream_status", Integer.toString(httpStatus));
    if (!code.isEmpty()) {
      metadata.put("upstream_code", code);
    }
    String lower = (code + " " + message).toLowerCase(Locale.ROOT);
    if (httpStatus == 401 || httpStatus == 403) {
      return CallError.withInfo(GrpcStatus.FAILED_PRECONDITION, text
          + " (the router's credentials for " + provider + " were refused: check what its config authenticates with: "
          + "its api_key, or its token or cloud credentials on a host that takes them)", "UPSTREAM_AUTH_FAILED",
          metadata, null);
    }
    if (httpStatus == 404) {
      return CallError.withInfo(GrpcStatus.NOT_FOUND, text, "UPSTREAM_NOT_FOUND", metadata, null);
    }
    if (httpStatus == 429) {
      return CallError.withInfo(GrpcStatus.RESOURCE_EXHAUSTED, text, "UPSTREAM_RATE_LIMITED", metadata, retryDelay);
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

  /** The upstream answered something the adapter cannot read, or an answer missing what every answer has. */
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
