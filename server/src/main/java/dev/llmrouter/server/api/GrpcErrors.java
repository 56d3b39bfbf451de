package dev.llmrouter.server.api;

import com.google.rpc.Status;
import dev.llmrouter.server.pipeline.RouterError;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerResponse;
import java.util.Base64;

/** Ends a call with the status of a failure and its rich details in `grpc-status-details-bin`. */
final class GrpcErrors {

  private static final System.Logger LOG = System.getLogger("llmrouter");

  private GrpcErrors() {
  }

  static void end(GrpcServerResponse<?, ?> response, Throwable failure) {
    RouterError error;
    if (failure instanceof RouterError routerError) {
      error = routerError;
    } else {
      LOG.log(System.Logger.Level.ERROR, "unexpected failure", failure);
      error = new RouterError(GrpcStatus.INTERNAL, "internal error: " + failure);
    }
    Status details = Status.newBuilder().setCode(error.status().code).setMessage(error.getMessage())
        .addAllDetails(error.details()).build();
    try {
      response.status(error.status()).statusMessage(error.getMessage());
      response.trailers().set("grpc-status-details-bin",
          Base64.getEncoder().withoutPadding().encodeToString(details.toByteArray()));
      response.end();
    } catch (IllegalStateException alreadyEnded) {
      // The call was cancelled or has ended: there is no one left to tell.
    }
  }
}
