package dev.llmrouter.server.api;

import com.google.rpc.Status;
import dev.llmrouter.server.answer.CallError;
import io.vertx.core.MultiMap;
import io.vertx.grpc.server.GrpcServerResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Ends a call with the status of a failure and its rich details in `grpc-status-details-bin`. */
final class GrpcErrors {

  private static final System.Logger LOG = System.getLogger("llmrouter");
  private static final int MESSAGE_CHARS = 1024;

  private GrpcErrors() {
  }

  static void end(GrpcServerResponse<?, ?> response, Throwable failure) {
    if (!(failure instanceof CallError)) {
      LOG.log(System.Logger.Level.ERROR, "unexpected failure", failure);
    }
    CallError error = CallError.of(failure);
    try {
      response.status(error.status());
      // Set here rather than with statusMessage(): Vert.x escapes ':' and '/' too, which grpc-js leaves escaped.
      describe(response.trailers(), error);
      response.end();
    } catch (IllegalStateException alreadyEnded) {
      // The call was cancelled or has ended: there is no one left to tell.
    }
  }

  /** Sets `grpc-message` and `grpc-status-details-bin` of the error (not `grpc-status`) in trailers or headers. */
  static void describe(MultiMap metadata, CallError error) {
    String message = bounded(error.getMessage());
    Status details = Status.newBuilder().setCode(error.status().code).setMessage(message)
        .addAllDetails(error.details()).build();
    metadata.set("grpc-message", percentEncode(message)).set("grpc-status-details-bin",
        Base64.getEncoder().withoutPadding().encodeToString(details.toByteArray()));
  }

  /** A message of at most {@value #MESSAGE_CHARS} characters: `grpc-message` is a header, which clients limit. */
  private static String bounded(String message) {
    return message.length() <= MESSAGE_CHARS ? message : message.substring(0, MESSAGE_CHARS) + "...";
  }

  /** The gRPC spec's encoding of `grpc-message`: UTF-8, with bytes outside printable ASCII and '%' escaped. */
  static String percentEncode(String message) {
    StringBuilder out = new StringBuilder(message.length());
    for (byte b : message.getBytes(StandardCharsets.UTF_8)) {
      if (b >= 0x20 && b <= 0x7e && b != '%') {
        out.append((char) b);
      } else {
        out.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return out.toString();
  }
}
