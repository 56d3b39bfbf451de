package dev.llmrouter.server.api;

import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.auth.CallerAuth;
import io.vertx.core.Future;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.server.GrpcServerRequest;

/** Who makes a gRPC call, by the key in its metadata ({@link CallerAuth}); a refused call ends with its status. */
final class GrpcAuthentication {

  private GrpcAuthentication() {
  }

  /** The caller, as every RPC that calls models or lists them needs. */
  static Future<Caller> caller(GrpcServerRequest<?, ?> call, CallerAuth auth) {
    return endingRefused(call, auth.authenticate(call.headers(), () -> address(call)));
  }

  /** The admin key, as `AdminService` needs. */
  static Future<Caller> admin(GrpcServerRequest<?, ?> call, CallerAuth auth) {
    return endingRefused(call, auth.admin(call.headers(), () -> address(call)));
  }

  /** The admin key where keys are required (the call log holds every caller's prompts); anyone otherwise. */
  static Future<Caller> callLogReader(GrpcServerRequest<?, ?> call, CallerAuth auth) {
    return auth.required() ? admin(call, auth) : Future.succeededFuture(Caller.ANONYMOUS);
  }

  private static Future<Caller> endingRefused(GrpcServerRequest<?, ?> call, Future<Caller> caller) {
    return caller.onFailure(refused -> GrpcErrors.end(call.response(), refused));
  }

  /** The client's address, by which wrong keys are counted. */
  static String address(GrpcServerRequest<?, ?> call) {
    SocketAddress address = call.connection().remoteAddress();
    return address == null ? "unknown" : address.hostAddress() != null ? address.hostAddress() : address.toString();
  }
}
