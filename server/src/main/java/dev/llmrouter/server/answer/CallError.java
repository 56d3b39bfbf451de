package dev.llmrouter.server.answer;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.vertx.grpc.common.GrpcStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A call that failed with a gRPC status: the status, a message that says what to fix, and the rich error details
 * (`google.rpc.BadRequest`, `ErrorInfo`, `RetryInfo`) sent in `grpc-status-details-bin`.
 */
public final class CallError extends RuntimeException {

  /** The `ErrorInfo.domain` of every error the router raises. */
  public static final String DOMAIN = "llmrouter.dev";

  /** The most characters of a caller's value that an error message quotes back. */
  public static final int QUOTED_CHARS = 64;
  private static final int DESCRIPTION_CHARS = 512;

  private final GrpcStatus status;
  private final List<Any> details;

  public CallError(GrpcStatus status, String message, List<Any> details) {
    super(message, null, false, false);
    this.status = status;
    this.details = List.copyOf(details);
  }

  public CallError(GrpcStatus status, String message) {
    this(status, message, List.of());
  }

  /** INVALID_ARGUMENT naming each bad field. */
  public static CallError badRequest(BadRequest violations) {
    violations = bounded(violations);
    StringBuilder message = new StringBuilder("invalid request: ");
    for (int i = 0; i < violations.getFieldViolationsCount(); i++) {
      BadRequest.FieldViolation v = violations.getFieldViolations(i);
      message.append(i == 0 ? "" : "; ").append(v.getField()).append(": ").append(v.getDescription());
    }
    return new CallError(GrpcStatus.INVALID_ARGUMENT, message.toString(), List.of(Any.pack(violations)));
  }

  /** The violations with descriptions of at most {@value #DESCRIPTION_CHARS} characters, whatever they quote. */
  private static BadRequest bounded(BadRequest violations) {
    BadRequest.Builder bounded = violations.toBuilder();
    for (BadRequest.FieldViolation.Builder violation : bounded.getFieldViolationsBuilderList()) {
      if (violation.getDescription().length() > DESCRIPTION_CHARS) {
        violation.setDescription(violation.getDescription().substring(0, DESCRIPTION_CHARS) + "...");
      }
    }
    return bounded.build();
  }

  /** An error with an ErrorInfo, plus a RetryInfo when the caller should wait before trying again. */
  public static CallError withInfo(GrpcStatus status, String message, String reason, Map<String, String> metadata,
      java.time.Duration retryDelay) {
    List<Any> details = new ArrayList<>();
    details.add(Any.pack(ErrorInfo.newBuilder().setReason(reason).setDomain(DOMAIN).putAllMetadata(metadata).build()));
    if (retryDelay != null) {
      details.add(Any.pack(RetryInfo.newBuilder()
          .setRetryDelay(Duration.newBuilder().setSeconds(retryDelay.getSeconds()).setNanos(retryDelay.getNano()))
          .build()));
    }
    return new CallError(status, message, details);
  }

  /** The failure as a CallError: itself, or INTERNAL naming an unexpected one. */
  public static CallError of(Throwable failure) {
    return failure instanceof CallError routerError ? routerError
        : new CallError(GrpcStatus.INTERNAL, "internal error: " + failure);
  }

  /**
   * A caller's value as an error message quotes it: cut to {@value #QUOTED_CHARS} characters, so that an error never
   * sends a caller's kilobytes back in `grpc-message` (a header, which clients limit).
   */
  public static String quote(String value) {
    return value.length() <= QUOTED_CHARS ? "'" + value + "'"
        : "'" + value.substring(0, QUOTED_CHARS) + "...' (" + value.length() + " characters)";
  }

  public GrpcStatus status() {
    return status;
  }

  public List<Any> details() {
    return details;
  }

  /** The error's ErrorInfo (its reason, and metadata such as the upstream's HTTP status), when it has one. */
  public Optional<ErrorInfo> errorInfo() {
    for (Any detail : details) {
      if (detail.is(ErrorInfo.class)) {
        try {
          return Optional.of(detail.unpack(ErrorInfo.class));
        } catch (InvalidProtocolBufferException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }
}
