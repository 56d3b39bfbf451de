package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.GetCallResponse;
import dev.llmrouter.api.v1.GetUsageRequest;
import dev.llmrouter.api.v1.ObservabilityServiceGrpcService;
import dev.llmrouter.server.observe.CallQueries;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.auth.CallerAuth;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;
import java.sql.SQLException;
import java.util.Optional;

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
            (log, request) -> log.list(request.getFilter(), request.getPageSize(), request.getPageToken())))
        .bind(ObservabilityServiceGrpcService.GetCall, answer(ObservabilityServiceGrpcService.GetCall,
            (log, request) -> GetCallResponse.newBuilder().setCall(log.call(request.getCallId())).build()))
        .bind(ObservabilityServiceGrpcService.GetTrace, answer(ObservabilityServiceGrpcService.GetTrace,
            (log, request) -> log.trace(request.getTraceId())))
        .bind(ObservabilityServiceGrpcService.GetUsage, answer(ObservabilityServiceGrpcService.GetUsage,
            (log, request) -> log.usage(rangeOf(request), request.getGroupByList(), request.getBucket())))
        .build();
  }

  /** A query against the call log. */
  private interface Query<Q, A> {
    A run(CallQueries log, Q request) throws SQLException;
  }

  /** The handler of a query RPC: checks who calls, then runs the query on a worker thread. */
  private <Q, A> Handler<GrpcServerRequest<Q, A>> answer(ServiceMethod<Q, A> method, Query<Q, A> query) {
    return AdminReadRpc.of(vertx, auth, method, request -> query.run(queries.orElseThrow(() -> new CallError(
        GrpcStatus.FAILED_PRECONDITION, "the call log is off on this router: set call_log.enabled: true in its "
        + "config")), request));
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
}
