package dev.llmrouter.server.ingress;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.llmrouter.server.answer.CallError;
import io.vertx.grpc.common.GrpcStatus;
import java.util.Optional;

/** The HTTP status of a failed call, as gRPC's statuses map to HTTP (google.rpc's table), and its `Retry-After`. */
public final class HttpStatuses {

  /** An upstream that is overloaded, as Anthropic says it (`overloaded_error`). */
  public static final int OVERLOADED = 529;

  private HttpStatuses() {
  }

  public static int of(CallError error) {
    String reason = reason(error).orElse("");
    return switch (error.status()) {
      case INVALID_ARGUMENT, OUT_OF_RANGE -> 400;
      // The upstream refused the router's own credentials: the caller did nothing wrong.
      case FAILED_PRECONDITION -> reason.equals("UPSTREAM_AUTH_FAILED") ? 502 : 400;
      case UNAUTHENTICATED -> 401;
      case PERMISSION_DENIED -> 403;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, ABORTED -> 409;
      case RESOURCE_EXHAUSTED -> reason.equals("MESSAGE_TOO_LARGE") ? 413 : 429;
      case CANCELLED -> 499;
      case UNIMPLEMENTED -> 501;
      case UNAVAILABLE -> 503;
      case DEADLINE_EXCEEDED -> 504;
      default -> 500;
    };
  }

  /**
   * Whether the upstream said it is overloaded: Anthropic's 529 (`overloaded_error`), as an HTTP status or as an
   * error event inside its stream; UpstreamErrors keeps both in the ErrorInfo's metadata.
   */
  public static boolean overloaded(CallError error) {
    return error.status() == GrpcStatus.UNAVAILABLE && detail(error, ErrorInfo.class)
        .filter(info -> info.getMetadataOrDefault("upstream_status", "").equals(String.valueOf(OVERLOADED))
            || info.getMetadataOrDefault("upstream_code", "").equals("overloaded_error"))
        .isPresent();
  }

  /** The `ErrorInfo.reason` of the error, when it has one. */
  public static Optional<String> reason(CallError error) {
    return detail(error, ErrorInfo.class).map(ErrorInfo::getReason);
  }

  /** The first field a BadRequest names, when the error has one. */
  public static Optional<String> field(CallError error) {
    return detail(error, BadRequest.class).filter(bad -> bad.getFieldViolationsCount() > 0)
        .map(bad -> bad.getFieldViolations(0).getField());
  }

  /** Whole seconds to wait before trying again (rounded up), when the error says. */
  public static Optional<Long> retryAfterSeconds(CallError error) {
    return detail(error, RetryInfo.class).map(info -> info.getRetryDelay().getSeconds()
        + (info.getRetryDelay().getNanos() > 0 ? 1 : 0));
  }

  private static <T extends com.google.protobuf.Message> Optional<T> detail(CallError error, Class<T> type) {
    for (Any detail : error.details()) {
      if (detail.is(type)) {
        try {
          return Optional.of(detail.unpack(type));
        } catch (InvalidProtocolBufferException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }
}
