package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.CassetteEntry;
import dev.llmrouter.api.v1.CassetteServiceGrpcService;
import dev.llmrouter.api.v1.CassetteTake;
import dev.llmrouter.api.v1.GetCassetteRequest;
import dev.llmrouter.api.v1.GetCassetteResponse;
import dev.llmrouter.api.v1.ListCassettesResponse;
import dev.llmrouter.api.v1.ListReplayMissesResponse;
import dev.llmrouter.api.v1.ReplayMiss;
import dev.llmrouter.cassettes.Cassette;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.cassettes.CorruptCassetteException;
import dev.llmrouter.cassettes.ReplayMissException;
import dev.llmrouter.cassettes.ReplayReport;
import dev.llmrouter.server.auth.CallerAuth;
import dev.llmrouter.server.pipeline.CassetteUsageLog;
import io.vertx.core.Vertx;
import io.vertx.grpc.server.Service;
import java.util.NoSuchElementException;

/**
 * `llmrouter.v1.CassetteService`: the cassette files of the router's cassette folder, read on worker threads, and the
 * misses this router tallied since it started. Where keys are required, only the admin key may read them.
 */
public final class CassetteGrpcService {

  private final Vertx vertx;
  private final CassetteStore store;
  private final CassetteUsageLog usage;
  private final CallerAuth auth;

  public CassetteGrpcService(Vertx vertx, CassetteStore store, CassetteUsageLog usage, CallerAuth auth) {
    this.vertx = vertx;
    this.store = store;
    this.usage = usage;
    this.auth = auth;
  }

  public Service service() {
    return Service.service(CassetteServiceGrpcService.SERVICE_NAME, CassetteServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(CassetteServiceGrpcService.ListCassettes, AdminReadRpc.of(vertx, auth,
            CassetteServiceGrpcService.ListCassettes, request -> {
              ListCassettesResponse.Builder list = ListCassettesResponse.newBuilder();
              store.list(request.getScope().isEmpty() ? null : request.getScope()).forEach(file -> list.addCassettes(
                  CassetteEntry.newBuilder().setScope(file.scope()).setShortKey(file.shortKey())
                      .setSummary(file.describe())));
              return list.build();
            }))
        .bind(CassetteServiceGrpcService.GetCassette, AdminReadRpc.of(vertx, auth,
            CassetteServiceGrpcService.GetCassette, this::cassette))
        .bind(CassetteServiceGrpcService.ListReplayMisses, AdminReadRpc.of(vertx, auth,
            CassetteServiceGrpcService.ListReplayMisses, request -> {
              ListReplayMissesResponse.Builder list = ListReplayMissesResponse.newBuilder();
              usage.misses().forEach(miss -> list.addMisses(missOf(miss)));
              return list.build();
            }))
        .build();
  }

  private GetCassetteResponse cassette(GetCassetteRequest request) throws CorruptCassetteException {
    if (request.getScope().isEmpty() || request.getKey().isEmpty()) {
      throw new IllegalArgumentException("scope and key are required: a scope and a cassette key (or file name) as "
          + "ListCassettes gives them");
    }
    Cassette cassette = store.loadByKeyOrFileName(request.getScope(), request.getKey()).orElseThrow(() ->
        new NoSuchElementException("scope \"" + request.getScope() + "\" has no cassette " + request.getKey()));
    GetCassetteResponse.Builder answer = GetCassetteResponse.newBuilder().setScope(request.getScope())
        .setKey(cassette.key()).setProvider(cassette.servedBy().provider()).setModel(cassette.servedBy().model())
        .setRequestJson(cassette.request().toPrettyString());
    cassette.normalizedRequest().ifPresent(normalized -> answer.setNormalizedRequestJson(normalized
        .toPrettyString()));
    for (Cassette.Take take : cassette.takes()) {
      CassetteTake.Builder shown = CassetteTake.newBuilder().addAllEvents(take.events())
          .addAllOffsetsMillis(take.offsetsMillis()).setRedacted(take.redacted());
      take.embedding().ifPresent(shown::setEmbedding);
      answer.addTakes(shown);
    }
    return answer.build();
  }

  private static ReplayMiss missOf(ReplayReport.Miss miss) {
    ReplayMissException exception = miss.exception();
    ReplayMiss.Builder shown = ReplayMiss.newBuilder().setScope(exception.scope()).setKey(exception.key())
        .setRequestSummary(exception.requestSummary()).setCalls(miss.calls());
    exception.closest().ifPresent(closest -> shown.setClosestKey(closest.key())
        .addAllDifferences(closest.differences()));
    exception.appliedRules().forEach(rule -> shown.addAppliedRules(rule.toString()));
    return shown.build();
  }
}
