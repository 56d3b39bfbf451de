package dev.llmrouter.server.api;

import dev.llmrouter.cassettes.CorruptCassetteException;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.auth.CallerAuth;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.GrpcServerRequest;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.util.NoSuchElementException;

/**
 * The handler of a read-only RPC over what holds every caller's prompts (the call log, the cassettes): where keys are
 * required only the admin key may call it, and the read, which blocks (JDBC, files), runs on a worker thread.
 */
final class AdminReadRpc {

  /** Reads the answer to a request; may block. */
  interface Read<Q, A> {
    A answer(Q request) throws Exception;
  }

  private AdminReadRpc() {
  }

  static <Q, A> Handler<GrpcServerRequest<Q, A>> of(Vertx vertx, CallerAuth auth, ServiceMethod<Q, A> method,
      Read<Q, A> read) {
    return call -> {
      Future<Caller> reader = GrpcAuthentication.callLogReader(call, auth);
      RequestMessages.unary(call, method, request -> reader.onSuccess(who ->
          vertx.executeBlocking(() -> read.answer(request), false).onComplete(done -> {
            if (done.succeeded()) {
              call.response().end(done.result());
            } else {
              GrpcErrors.end(call.response(), errorOf(done.cause()));
            }
          })));
    };
  }

  private static CallError errorOf(Throwable failure) {
    if (failure instanceof IllegalArgumentException invalid) {
      return new CallError(GrpcStatus.INVALID_ARGUMENT, invalid.getMessage());
    }
    if (failure instanceof NoSuchElementException missing) {
      return new CallError(GrpcStatus.NOT_FOUND, missing.getMessage());
    }
    if (failure instanceof SQLException sql) {
      return new CallError(GrpcStatus.UNAVAILABLE, "the call log cannot be read: " + sql.getMessage());
    }
    if (failure instanceof CorruptCassetteException corrupt) {
      return new CallError(GrpcStatus.FAILED_PRECONDITION, corrupt.getMessage());
    }
    if (failure instanceof UncheckedIOException io) {
      return new CallError(GrpcStatus.UNAVAILABLE, io.getMessage() + ": " + io.getCause().getMessage());
    }
    return CallError.of(failure);
  }
}
