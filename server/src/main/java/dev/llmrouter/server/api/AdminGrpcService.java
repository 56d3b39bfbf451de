package dev.llmrouter.server.api;

import com.google.protobuf.util.Durations;
import dev.llmrouter.api.v1.AdminServiceGrpcService;
import dev.llmrouter.api.v1.CreateKeyResponse;
import dev.llmrouter.api.v1.ListKeysResponse;
import dev.llmrouter.api.v1.RevokeKeyResponse;
import dev.llmrouter.api.v1.UpdateKeyResponse;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.auth.CallerAuth;
import dev.llmrouter.server.auth.CallerKeys;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * `llmrouter.v1.AdminService`: creating, listing, changing and revoking caller keys, for the admin key only. A change
 * made here holds on this router at once, and on every other within a second.
 */
public final class AdminGrpcService {

  private final CallerAuth auth;
  private final Optional<CallerKeys> keys;

  /** @param keys the caller keys; empty on a router that keeps none (it has no admin key either) */
  public AdminGrpcService(CallerAuth auth, Optional<CallerKeys> keys) {
    this.auth = auth;
    this.keys = keys;
  }

  public Service service() {
    return Service.service(AdminServiceGrpcService.SERVICE_NAME, AdminServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(AdminServiceGrpcService.CreateKey, admin(AdminServiceGrpcService.CreateKey, (keys, request) ->
            keys.create(request.getName(), request.getLimits(), request.hasExpiresIn()
                    ? Optional.of(Duration.ofMillis(Durations.toMillis(request.getExpiresIn()))) : Optional.empty())
                .map(created -> CreateKeyResponse.newBuilder().setKey(created.key()).setSecret(created.secret())
                    .build())))
        .bind(AdminServiceGrpcService.ListKeys, admin(AdminServiceGrpcService.ListKeys, (keys, request) ->
            keys.list().map(all -> ListKeysResponse.newBuilder().addAllKeys(all).build())))
        .bind(AdminServiceGrpcService.UpdateKey, admin(AdminServiceGrpcService.UpdateKey, (keys, request) ->
            keys.update(request.getId(), request.getKey(), request.getUpdateMask()).map(key -> {
              auth.forget(key.getId());
              return UpdateKeyResponse.newBuilder().setKey(key).build();
            })))
        .bind(AdminServiceGrpcService.RevokeKey, admin(AdminServiceGrpcService.RevokeKey, (keys, request) ->
            keys.revoke(request.getId()).map(key -> {
              auth.forget(key.getId());
              return RevokeKeyResponse.newBuilder().setKey(key).build();
            })))
        .build();
  }

  /** The handler of an RPC that only the admin key may call. */
  private <Q, A> Handler<GrpcServerRequest<Q, A>> admin(ServiceMethod<Q, A> method,
      BiFunction<CallerKeys, Q, Future<A>> work) {
    return call -> {
      Future<Caller> admin = GrpcAuthentication.admin(call, auth);
      RequestMessages.unary(call, method, request -> admin.onSuccess(who ->
          // A router with an admin key keeps caller keys: the admin check passed, so they are there.
          work.apply(keys.orElseThrow(), request).onComplete(done -> {
            if (done.succeeded()) {
              call.response().end(done.result());
            } else {
              GrpcErrors.end(call.response(), done.cause());
            }
          })));
    };
  }
}
