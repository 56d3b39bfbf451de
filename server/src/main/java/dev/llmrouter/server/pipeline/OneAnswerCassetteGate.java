package dev.llmrouter.server.pipeline;

import com.google.protobuf.Message;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.Origin;
import dev.llmrouter.cassettes.CanonicalEmbedRequest;
import dev.llmrouter.cassettes.CanonicalTokenCountRequest;
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
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The cassette layer of calls answered with one value (embedding calls, count calls) in `replay`, `record` and `auto`
 * mode, beside the chat calls' {@link CassetteGate}, whose lookups and miss diagnostics it shares. Each kind of call
 * has a key of its own kind ({@link CanonicalEmbedRequest}, {@link CanonicalTokenCountRequest}) and its one take holds
 * the answer exactly, so a hit replays it to the bit. A live answer is written (on a worker thread) before it is
 * delivered, so a caller that got it can replay it at once; a failed exchange writes nothing. Sequencing and pacing
 * are for chat streams: such an answer has one take, replayed whole.
 *
 * @param <R> the request
 * @param <A> its answer
 */
final class OneAnswerCassetteGate<R extends Message, A extends Message> {

  /**
   * What a kind of call keeps in a cassette, and how its answer is stamped with who served it.
   *
   * @param key the request's cassette key
   * @param answerIn the answer a take holds; empty when the take holds another kind's
   * @param takeOf the take that holds an answer
   * @param withProvider the answer naming the deployment that served it
   * @param withOrigin the answer saying where it came from
   * @param model the upstream model the answer names
   * @param noun what the answer is, for a corrupt cassette's error: `embedding`
   */
  record Kind<R, A>(Function<R, CanonicalRequest> key, Function<Cassette.Take, Optional<A>> answerIn,
      Function<A, Cassette.Take> takeOf, BiFunction<A, String, A> withProvider, BiFunction<A, Origin, A> withOrigin,
      Function<A, String> model, String noun) {
  }

  static final Kind<EmbedRequest, EmbedResponse> EMBEDDINGS = new Kind<>(CanonicalEmbedRequest::of,
      Cassette.Take::embedding, Cassette.Take::of,
      (answer, deployment) -> answer.toBuilder().setProvider(deployment).build(),
      (answer, origin) -> answer.toBuilder().setOrigin(origin).build(), EmbedResponse::getModel, "embedding");

  static final Kind<ChatRequest, CountTokensResponse> TOKEN_COUNTS = new Kind<>(CanonicalTokenCountRequest::of,
      Cassette.Take::tokenCount, Cassette.Take::of,
      (answer, deployment) -> answer.toBuilder().setProvider(deployment).build(),
      (answer, origin) -> answer.toBuilder().setOrigin(origin).build(), CountTokensResponse::getModel,
      "token count");

  private final Vertx vertx;
  private final CassetteGate gate;
  private final CassetteStore store;
  private final CassetteUsageLog usageLog;
  private final Kind<R, A> kind;

  /** @param gate the chat calls' gate, for its lookups (through the store's cache) and its miss diagnostics */
  OneAnswerCassetteGate(Vertx vertx, CassetteGate gate, CassetteStore store, CassetteUsageLog usageLog,
      Kind<R, A> kind) {
    this.vertx = vertx;
    this.gate = gate;
    this.store = store;
    this.usageLog = usageLog;
    this.kind = kind;
  }

  /**
   * Answers a call through the cassettes into {@code answer}; {@code live} starts the upstream call when the answer
   * must come from the provider. Must be called on the caller's event-loop context; everything after runs there too.
   */
  void answer(R request, CallOptions options, CallPlan<R> plan, Supplier<UpstreamAttempts<R, A>> live,
      AnswerStream<A> answer) {
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

  /** A live answer with the deployment that answered it and its origin. */
  A stampedLive(A answer, UpstreamAttempts<?, ?> live, CassetteOutcome outcome, String key, String scope) {
    return kind.withOrigin().apply(kind.withProvider().apply(answer, live.servedBy().deployment().name()),
        Provenance.ofLive(live, outcome, key, scope));
  }

  /** The cassette key; a large request (images) is hashed off the event loop. */
  private Future<CanonicalRequest> keyOf(R request) {
    if (request.getSerializedSize() >= CassetteGate.LARGE_REQUEST_BYTES) {
      return vertx.executeBlocking(() -> kind.key().apply(request), false);
    }
    return Future.succeededFuture(kind.key().apply(request));
  }

  private void replay(Cassette cassette, CallOptions options, CallPlan<R> plan, AnswerStream<A> answer) {
    Optional<Cassette.Take> take = cassette.takes().stream().findFirst()
        .filter(t -> kind.answerIn().apply(t).isPresent());
    if (take.isEmpty()) {
      String path = store.pathOf(options.scope(), cassette.key()).toString();
      answer.fail(CallError.withInfo(GrpcStatus.FAILED_PRECONDITION, path + " holds no " + kind.noun()
          + " under the key of a call answered with one (fix or delete the file, or re-record it with --mode "
          + "record)", "CASSETTE_CORRUPT", Map.of("path", path), null));
      return;
    }
    usageLog.hit(options.scope(), cassette);
    A recorded = kind.answerIn().apply(take.get()).orElseThrow();
    answer.emit(kind.withOrigin().apply(recorded, Provenance.ofReplay(cassette, take.get(), options.scope(),
        plan.droppedFor(cassette.servedBy().provider()))));
  }

  /** Calls upstream, and writes the answer's cassette before the answer is delivered. */
  private void record(CanonicalRequest canonical, CallOptions options, Supplier<UpstreamAttempts<R, A>> live,
      AnswerStream<A> answer) {
    UpstreamAttempts<R, A> attempts = live.get();
    AnswerStream<A> upstream = attempts.events();
    upstream.exceptionHandler(answer::fail);
    upstream.handler(response -> {
      String deployment = attempts.servedBy().deployment().name();
      A stored = kind.withProvider().apply(response, deployment);
      Cassette cassette = Cassette.of(canonical, new Cassette.ServedBy(deployment, kind.model().apply(stored)),
          List.of(kind.takeOf().apply(stored)));
      vertx.executeBlocking(() -> {
        store.write(options.scope(), cassette);
        return cassette;
      }, false).onComplete(written -> {
        if (written.failed()) {
          answer.fail(new CallError(GrpcStatus.INTERNAL, "the answer arrived but its cassette could not be written "
              + "to " + store.pathOf(options.scope(), canonical.key()) + ": " + written.cause().getMessage()));
        } else {
          usageLog.recorded(options.scope(), cassette);
          answer.emit(stampedLive(stored, attempts, CassetteOutcome.CASSETTE_OUTCOME_RECORDED, canonical.key(),
              options.scope()));
        }
      });
    });
    answer.upstream(upstream.asUpstream());
  }
}
