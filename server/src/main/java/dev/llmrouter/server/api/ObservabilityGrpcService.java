package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.GetUsageRequest;
import dev.llmrouter.api.v1.ObservabilityServiceGrpcService;
import dev.llmrouter.server.observe.CallQueries;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.auth.CallerAuth;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;
import java.sql.SQLException;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * `llmrouter.v1.ObservabilityService`: the call log's queries, run on worker threads (JDBC blocks). With the call
 * log off, every RPC fails with FAILED_PRECONDITION saying how to turn it on. Where keys are required, only the
 * admin key may read it: it holds every caller's prompts.
 */
public final class ObservabilityGrpcService {

  private final Vertx vertx;
  private final Optional<CallQueries> queries;
  private final CallerAuth auth;

  public ObservabilityGrpcService(Vertx vertx, Optional<CallQueries> queries, CallerAuth auth) {
    this.vertx = vertx;
    this.queries = queries;
    this.auth = auth;
  }

  public Service service() {
    return Service.service(ObservabilityServiceGrpcService.SERVICE_NAME,
            ObservabilityServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(ObservabilityServiceGrpcService.ListCalls, answer(ObservabilityServiceGrpcService.ListCalls,
            request -> log -> log.list(request.getFilter(), request.getPageSize(), request.getPageToken())))
        .bind(ObservabilityServiceGrpcService.GetTrace, answer(ObservabilityServiceGrpcService.GetTrace,
            request -> log -> log.trace(request.getTraceId())))
        .bind(ObservabilityServiceGrpcService.GetUsage, answer(ObservabilityServiceGrpcService.GetUsage,
            request -> log -> log.usage(rangeOf(request), request.getGroupByList())))
        .build();
  }

  /** A query against the call log. */
  private interface Query<T> {
    T run(CallQueries log) throws SQLException;
  }

  /** The handler of a query RPC: checks who calls, then runs the query its request describes. */
  private <Q, A> Handler<GrpcServerRequest<Q, A>> answer(ServiceMethod<Q, A> method, Function<Q, Query<A>> query) {
    return call -> {
      Future<Caller> reader = GrpcAuthentication.callLogReader(call, auth);
      RequestMessages.unary(call, method, request -> reader.onSuccess(who -> run(call, request, query)));
    };
  }

  /** Runs a query on a worker thread, and answers. */
  private <Q, A> void run(GrpcServerRequest<Q, A> call, Q request, Function<Q, Query<A>> query) {
    if (queries.isEmpty()) {
      GrpcErrors.end(call.response(), new CallError(GrpcStatus.FAILED_PRECONDITION, "the call log is off on "
          + "this router: set call_log.enabled: true in its config"));
      return;
    }
    Callable<A> work = () -> query.apply(request).run(queries.get());
    vertx.executeBlocking(work, false).onComplete(done -> {
      if (done.succeeded()) {
        call.response().end(done.result());
      } else {
        GrpcErrors.end(call.response(), errorOf(done.cause()));
      }
    });
  }

  private static CallFilter rangeOf(GetUsageRequest request) {
    CallFilter.Builder range = CallFilter.newBuilder();
    if (request.hasStartTime()) {
      range.setStartTime(request.getStartTime());
    }
    if (request.hasEndTime()) {
      range.setEndTime(request.getEndTime());
    }
    return range.build();
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
    return CallError.of(failure);
  }
}
