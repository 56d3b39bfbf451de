package dev.llmrouter.server.api;

import dev.llmrouter.server.answer.CallError;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.health.handler.GrpcHealthCheckV1Handler;
import io.vertx.grpc.health.handler.GrpcHealthListV1Handler;
import io.vertx.grpc.health.handler.GrpcHealthWatchV1Handler;
import io.vertx.grpc.health.v1.HealthCheckRequest;
import io.vertx.grpc.health.v1.HealthCheckResponse;
import io.vertx.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.vertx.grpc.health.v1.HealthListRequest;
import io.vertx.grpc.health.v1.HealthListResponse;
import io.vertx.grpc.health.v1.HealthProto;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.Service;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * `grpc.health.v1.Health` (Check, Watch, List). The server as a whole (the empty name) and each service it serves are
 * SERVING; each other name the router knows (a deployment, by {@code llmrouter.deployment.<name>}) has its own
 * status; once the router drains, every name is NOT_SERVING at once, watchers told, so that balancers stop sending
 * calls before its port closes. Vert.x's health service answers SERVING for the empty name whatever happens, hence
 * this one, built on Vert.x's messages and method descriptors.
 */
public final class HealthGrpcService {

  private static final ServiceName NAME = ServiceName.create("grpc.health.v1.Health");
  /** How often watched statuses are looked at again (a circuit breaker opens without telling anyone). */
  private static final long WATCH_POLL_MILLIS = 1000;

  private final Vertx vertx;
  private final GrpcServer grpc;
  private final BooleanSupplier draining;
  private final Supplier<Map<String, Boolean>> others;
  private final Set<Watcher> watchers = ConcurrentHashMap.newKeySet();
  private final long poll;

  /**
   * @param grpc the server whose services are reported
   * @param draining whether the router drains
   * @param others the other names the router reports, and whether each serves now
   */
  public HealthGrpcService(Vertx vertx, GrpcServer grpc, BooleanSupplier draining,
      Supplier<Map<String, Boolean>> others) {
    this.vertx = vertx;
    this.grpc = grpc;
    this.draining = draining;
    this.others = others;
    this.poll = vertx.setPeriodic(WATCH_POLL_MILLIS, id -> statusChanged());
  }

  public Service service() {
    return Service.service(NAME, HealthProto.getDescriptor().findServiceByName(NAME.name()))
        .bind(GrpcHealthCheckV1Handler.SERVICE_METHOD, this::check)
        .bind(GrpcHealthWatchV1Handler.SERVICE_METHOD, this::watch)
        .bind(GrpcHealthListV1Handler.SERVICE_METHOD, this::list)
        .build();
  }

  /** A status may have changed (the router began to drain): watchers hear of it now. */
  public void statusChanged() {
    watchers.forEach(Watcher::update);
  }

  /** Ends the watches: the router is closing. */
  public void close() {
    vertx.cancelTimer(poll);
    watchers.forEach(Watcher::end);
  }

  private void check(GrpcServerRequest<HealthCheckRequest, HealthCheckResponse> call) {
    RequestMessages.unary(call, GrpcHealthCheckV1Handler.SERVICE_METHOD, request -> {
      ServingStatus status = statusOf(request.getService());
      if (status == ServingStatus.SERVICE_UNKNOWN) {
        GrpcErrors.end(call.response(), new CallError(GrpcStatus.NOT_FOUND, "no service "
            + CallError.quote(request.getService()) + " here; " + statuses().keySet() + " are"));
      } else {
        call.response().end(HealthCheckResponse.newBuilder().setStatus(status).build());
      }
    });
  }

  private void watch(GrpcServerRequest<HealthCheckRequest, HealthCheckResponse> call) {
    RequestMessages.unary(call, GrpcHealthWatchV1Handler.SERVICE_METHOD, request -> {
      Watcher watcher = new Watcher(call.response(), request.getService(), vertx.getOrCreateContext());
      call.errorHandler(error -> watchers.remove(watcher)); // the client left
      watchers.add(watcher);
      watcher.update();
    });
  }

  private void list(GrpcServerRequest<HealthListRequest, HealthListResponse> call) {
    RequestMessages.unary(call, GrpcHealthListV1Handler.SERVICE_METHOD, request -> {
      HealthListResponse.Builder list = HealthListResponse.newBuilder();
      statuses().forEach((name, status) -> list.putStatuses(name, HealthCheckResponse.newBuilder()
          .setStatus(status).build()));
      call.response().end(list.build());
    });
  }

  /** Every name known here, with its status. */
  private Map<String, ServingStatus> statuses() {
    Map<String, ServingStatus> statuses = new TreeMap<>();
    statuses.put("", statusOf(""));
    servicesServed().forEach(name -> statuses.put(name, statusOf(name)));
    others.get().keySet().forEach(name -> statuses.put(name, statusOf(name)));
    return statuses;
  }

  private ServingStatus statusOf(String name) {
    Boolean serving = name.isEmpty() || servicesServed().contains(name) ? Boolean.TRUE : others.get().get(name);
    if (serving == null) {
      return ServingStatus.SERVICE_UNKNOWN;
    }
    return serving && !draining.getAsBoolean() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  private Set<String> servicesServed() {
    return grpc.services().stream().map(service -> service.name().fullyQualifiedName()).collect(Collectors.toSet());
  }

  /** A Watch call: told the status of its name at once, then each time it changes, on its own event loop. */
  private final class Watcher {

    private final GrpcServerResponse<HealthCheckRequest, HealthCheckResponse> response;
    private final String name;
    private final Context context;
    private ServingStatus told;

    Watcher(GrpcServerResponse<HealthCheckRequest, HealthCheckResponse> response, String name, Context context) {
      this.response = response;
      this.name = name;
      this.context = context;
    }

    void update() {
      context.runOnContext(v -> {
        ServingStatus status = statusOf(name); // an unknown name is SERVICE_UNKNOWN, and the watch goes on
        if (status != told && watchers.contains(this)) {
          told = status;
          response.write(HealthCheckResponse.newBuilder().setStatus(status).build())
              .onFailure(failure -> watchers.remove(this));
        }
      });
    }

    void end() {
      watchers.remove(this);
      context.runOnContext(v -> GrpcErrors.end(response, new CallError(GrpcStatus.UNAVAILABLE,
          "the router is shutting down")));
    }
  }
}
