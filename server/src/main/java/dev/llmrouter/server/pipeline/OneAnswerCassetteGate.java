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

  /** What a kind of call keeps in a cassette, and how its answer is stamped with who served it. */
  interface Kind<R, A> {
    CanonicalRequest key(R request);

    /** The answer a take holds; empty when the take holds another kind's. */
    Optional<A> answerIn(Cassette.Take take);

    Cassette.Take takeOf(A answer);

    /** The answer naming the deployment that served it. */
    A withProvider(A answer, String deployment);

    A withOrigin(A answer, Origin origin);

    /** The upstream model the answer names. */
    String model(A answer);

    /** What the answer is, for a corrupt cassette's error: `embedding`. */
    String noun();
  }

  static final Kind<EmbedRequest, EmbedResponse> EMBEDDINGS = new Kind<>() {
    @Override
    public CanonicalRequest key(EmbedRequest request) {
      return CanonicalEmbedRequest.of(request);
    }

    @Override
    public Optional<EmbedResponse> answerIn(Cassette.Take take) {
      return take.embedding();
    }

    @Override
    public Cassette.Take takeOf(EmbedResponse answer) {
      return Cassette.Take.of(answer);
    }

    @Override
    public EmbedResponse withProvider(EmbedResponse answer, String deployment) {
      return answer.toBuilder().setProvider(deployment).build();
    }

    @Override
    public EmbedResponse withOrigin(EmbedResponse answer, Origin origin) {
      return answer.toBuilder().setOrigin(origin).build();
    }

    @Override
    public String model(EmbedResponse answer) {
      return answer.getModel();
    }

    @Override
    public String noun() {
      return "embedding";
    }
  };

  static final Kind<ChatRequest, CountTokensResponse> TOKEN_COUNTS = new Kind<>() {
    @Override
    public CanonicalRequest key(ChatRequest request) {
      return CanonicalTokenCountRequest.of(request);
    }

    @Override
    public Optional<CountTokensResponse> answerIn(Cassette.Take take) {
      return take.tokenCount();
    }

    @Override
    public Cassette.Take takeOf(CountTokensResponse answer) {
      return Cassette.Take.of(answer);
    }

    @Override
    public CountTokensResponse withProvider(CountTokensResponse answer, String deployment) {
      return answer.toBuilder().setProvider(deployment).build();
    }

    @Override
    public CountTokensResponse withOrigin(CountTokensResponse answer, Origin origin) {
      return answer.toBuilder().setOrigin(origin).build();
    }

    @Override
    public String model(CountTokensResponse answer) {
      return answer.getModel();
    }

    @Override
    public String noun() {
      return "token count";
    }
  };

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
    return kind.withOrigin(kind.withProvider(answer, live.servedBy().deployment().name()),
        Provenance.ofLive(live, outcome, key, scope));
  }

  /** The cassette key; a large request (images) is hashed off the event loop. */
  private Future<CanonicalRequest> keyOf(R request) {
    if (request.getSerializedSize() >= CassetteGate.LARGE_REQUEST_BYTES) {
      return vertx.executeBlocking(() -> kind.key(request), false);
    }
    return Future.succeededFuture(kind.key(request));
  }

  private void replay(Cassette cassette, CallOptions options, CallPlan<R> plan, AnswerStream<A> answer) {
    Optional<Cassette.Take> take = cassette.takes().stream().findFirst().filter(t -> kind.answerIn(t).isPresent());
    if (take.isEmpty()) {
      String path = store.pathOf(options.scope(), cassette.key()).toString();
      answer.fail(CallError.withInfo(GrpcStatus.FAILED_PRECONDITION, path + " holds no " + kind.noun()
          + " under the key of a call answered with one (fix or delete the file, or re-record it with --mode "
          + "record)", "CASSETTE_CORRUPT", Map.of("path", path), null));
      return;
    }
    usageLog.hit(options.scope(), cassette);
    A recorded = kind.answerIn(take.get()).orElseThrow();
    answer.emit(kind.withOrigin(recorded, Provenance.ofReplay(cassette, take.get(), options.scope(),
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
      A stored = kind.withProvider(response, deployment);
      Cassette cassette = Cassette.of(canonical, new Cassette.ServedBy(deployment, kind.model(stored)),
          List.of(kind.takeOf(stored)));
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
