package dev.llmrouter.server.api;

import dev.llmrouter.server.answer.CallError;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.CodecException;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the request messages of a call and decodes them here: a message that does not decode (invalid UTF-8 in a
 * string, bytes that are not the request type, nesting deeper than protobuf's 100 levels) ends the call with
 * INVALID_ARGUMENT saying so, where Vert.x 5.0.7 would reset the stream with CANCEL (`GrpcServerRequestImpl#handler`,
 * still so on eclipse-vertx/vertx-grpc's main branch).
 */
final class RequestMessages {

  private static final System.Logger LOG = System.getLogger("llmrouter");

  private RequestMessages() {
  }

  /**
   * A unary request (also the request of a server-streaming call): exactly one message, handled once the client
   * has half-closed, as gRPC runs such methods; a second message, or none, ends the call with INVALID_ARGUMENT, and
   * a request still incomplete at the call's deadline with DEADLINE_EXCEEDED.
   */
  static <Req> void unary(GrpcServerRequest<Req, ?> call, ServiceMethod<Req, ?> method, Handler<Req> handler) {
    List<Req> received = new ArrayList<>(1);
    boolean[] refused = new boolean[1];
    Vertx vertx = Vertx.currentContext().owner();
    long deadline = call.timeout() <= 0 ? -1 : vertx.setTimer(call.timeout(), id -> {
      if (!refused[0]) {
        refused[0] = true;
        refuse(call, method, GrpcStatus.DEADLINE_EXCEEDED, "the deadline passed before the request was complete");
      }
    });
    // A stream reset before the request is complete (a cancel, or a refusal of GrpcRequestGuard) leaves nothing to do.
    call.errorHandler(error -> {
      refused[0] = true;
      vertx.cancelTimer(deadline);
    });
    call.messageHandler(message -> {
      if (refused[0]) {
        return;
      }
      if (!received.isEmpty()) {
        refused[0] = true;
        refuse(call, method, method.methodName() + " takes one request message; this call sent a second");
        return;
      }
      decode(call, method, message).ifPresentOrElse(received::add, () -> refused[0] = true);
    });
    call.endHandler(v -> {
      vertx.cancelTimer(deadline);
      if (refused[0]) {
        return;
      }
      if (received.isEmpty()) {
        refuse(call, method, method.methodName() + " takes one request message; this call sent none");
        return;
      }
      handler.handle(received.get(0));
    });
  }

  /**
   * Each request message of a stream, decoded. After one that does not decode, the call has ended: {@code refused}
   * runs, and no more messages are handled.
   */
  static <Req> void each(GrpcServerRequest<Req, ?> call, ServiceMethod<Req, ?> method, Handler<Req> handler,
      Runnable refused) {
    boolean[] ended = new boolean[1];
    call.messageHandler(message -> {
      if (ended[0]) {
        return;
      }
      decode(call, method, message).ifPresentOrElse(handler::handle, () -> {
        ended[0] = true;
        refused.run();
      });
    });
  }

  private static <Req> Optional<Req> decode(GrpcServerRequest<Req, ?> call, ServiceMethod<Req, ?> method,
      GrpcMessage message) {
    try {
      return Optional.of(method.decoder().decode(message));
    } catch (CodecException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      refuse(call, method, "the request message is not a valid " + method.methodName() + " request: "
          + cause.getMessage());
      return Optional.empty();
    }
  }

  private static void refuse(GrpcServerRequest<?, ?> call, ServiceMethod<?, ?> method, String message) {
    refuse(call, method, GrpcStatus.INVALID_ARGUMENT, message);
  }

  private static void refuse(GrpcServerRequest<?, ?> call, ServiceMethod<?, ?> method, GrpcStatus status,
      String message) {
    LOG.log(System.Logger.Level.WARNING, "gRPC call " + method.fullMethodName() + " refused: " + status.name() + " "
        + message);
    GrpcErrors.end(call.response(), new CallError(status, message));
  }
}
