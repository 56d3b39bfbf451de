package dev.llmrouter.server.pipeline;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.cassettes.CanonicalEmbedRequest;
import dev.llmrouter.cassettes.CanonicalRequest;
import dev.llmrouter.cassettes.Cassette;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The cassette layer of embedding calls in `replay`, `record` and `auto` mode, beside the chat calls'
 * {@link CassetteGate}, whose lookups and miss diagnostics it shares. An embedding call is keyed by
 * {@link CanonicalEmbedRequest}; its one take holds the vectors exactly, so a hit replays them to the bit. A live
 * answer is written (on a worker thread) before it is delivered, so a caller that got it can replay it at once; a
 * failed exchange writes nothing. Sequencing and pacing are for chat streams: an embedding has one take, replayed
 * whole.
 */
final class EmbeddingCassetteGate {

  private final Vertx vertx;
  private final CassetteGate gate;
  private final CassetteStore store;
  private final CassetteUsageLog usageLog;

  /** @param gate the chat calls' gate, for its lookups (through the store's cache) and its miss diagnostics */
  EmbeddingCassetteGate(Vertx vertx, CassetteGate gate, CassetteStore store, CassetteUsageLog usageLog) {
    this.vertx = vertx;
    this.gate = gate;
    this.store = store;
    this.usageLog = usageLog;
  }

  /**
   * Answers a call through the cassettes into {@code answer}; {@code live} starts the upstream call when the answer
   * must come from the provider. Must be called on the caller's event-loop context; everything after runs there too.
   */
  void answer(EmbedRequest request, CallOptions options, CallPlan<EmbedRequest> plan,
      Supplier<UpstreamAttempts<EmbedRequest, EmbedResponse>> live, AnswerStream<EmbedResponse> answer) {
    keyOf(request).onComplete(keyed -> {
      if (keyed.failed()) {
        answer.fail(new CallError(GrpcStatus.INTERNAL, "cannot compute the cassette key: " + keyed.cause()));
        return;
      }
      CanonicalRequest canonical = keyed.result();
      if (options.mode() == CassetteMode.RECORD) {
        record(canonical, options, live, answer);
        return;
      }
      gate.lookup(options.scope(), canonical.key()).onComplete(found -> {
        if (answer.isClosed()) {
          return;
        }
        if (found.failed()) {
          answer.fail(CassetteGate.corrupt(found.cause()));
        } else if (found.result().isPresent()) {
          replay(found.result().get(), options, plan, answer);
        } else if (options.mode() == CassetteMode.AUTO) {
          record(canonical, options, live, answer);
        } else {
          gate.miss(options.scope(), canonical, answer);
        }
      });
    });
  }

  /** The cassette key; a large request (images) is hashed off the event loop. */
  private Future<CanonicalRequest> keyOf(EmbedRequest request) {
    if (request.getSerializedSize() >= CassetteGate.LARGE_REQUEST_BYTES) {
      return vertx.executeBlocking(() -> CanonicalEmbedRequest.of(request), false);
    }
    return Future.succeededFuture(CanonicalEmbedRequest.of(request));
  }

  private void replay(Cassette cassette, CallOptions options, CallPlan<EmbedRequest> plan,
      AnswerStream<EmbedResponse> answer) {
    Optional<Cassette.Take> take = cassette.takes().stream().findFirst().filter(t -> t.embedding().isPresent());
    if (take.isEmpty()) {
      String path = store.pathOf(options.scope(), cassette.key()).toString();
      answer.fail(CallError.withInfo(GrpcStatus.FAILED_PRECONDITION, path + " holds no embedding under an "
          + "embedding call's key (fix or delete the file, or re-record it with --mode record)", "CASSETTE_CORRUPT",
          Map.of("path", path), null));
      return;
    }
    usageLog.hit(options.scope(), cassette);
    answer.emit(take.get().embedding().get().toBuilder().setOrigin(Provenance.ofReplay(cassette, take.get(),
        options.scope(), plan.droppedFor(cassette.servedBy().provider()))).build());
  }

  /** Calls upstream, and writes the answer's cassette before the answer is delivered. */
  private void record(CanonicalRequest canonical, CallOptions options,
      Supplier<UpstreamAttempts<EmbedRequest, EmbedResponse>> live, AnswerStream<EmbedResponse> answer) {
    UpstreamAttempts<EmbedRequest, EmbedResponse> attempts = live.get();
    AnswerStream<EmbedResponse> upstream = attempts.events();
    upstream.exceptionHandler(answer::fail);
    upstream.handler(response -> {
      String deployment = attempts.servedBy().deployment().name();
      EmbedResponse stored = response.toBuilder().setProvider(deployment).build();
      Cassette cassette = Cassette.of(canonical, new Cassette.ServedBy(deployment, stored.getModel()),
          List.of(Cassette.Take.of(stored)));
      vertx.executeBlocking(() -> {
        store.write(options.scope(), cassette);
        return cassette;
      }, false).onComplete(written -> {
        if (written.failed()) {
          answer.fail(new CallError(GrpcStatus.INTERNAL, "the answer arrived but its cassette could not be written "
              + "to " + store.pathOf(options.scope(), canonical.key()) + ": " + written.cause().getMessage()));
        } else {
          usageLog.recorded(options.scope(), cassette);
          answer.emit(Provenance.stampedLive(stored, attempts, CassetteOutcome.CASSETTE_OUTCOME_RECORDED,
              canonical.key(), options.scope()));
        }
      });
    });
    answer.upstream(upstream.asUpstream());
  }
}
