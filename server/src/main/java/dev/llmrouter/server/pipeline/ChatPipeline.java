package dev.llmrouter.server.pipeline;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Origin;
import dev.llmrouter.cassettes.CanonicalRequest;
import dev.llmrouter.cassettes.Cassette;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.cassettes.CorruptCassetteException;
import dev.llmrouter.cassettes.ReplayMissException;
import dev.llmrouter.cassettes.ResponseNormalizer;
import dev.llmrouter.server.provider.UpstreamErrors;
import dev.llmrouter.server.route.Router;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * The one path every RPC takes (ARCHITECTURE.md section 2): plan the target, consult the cassette, call the adapter
 * when the mode says so, and hand the caller one stream of events.
 *
 * <ul>
 *   <li>`off`: live, nothing normalised or recorded.</li>
 *   <li>`replay`: a hit replays the recorded events; a miss fails with FAILED_PRECONDITION explaining the miss.</li>
 *   <li>`record`: live, ids and timestamps normalised, the exchange written once it completed.</li>
 *   <li>`auto`: replay on a hit, record on a miss.</li>
 * </ul>
 * Identical requests recorded at the same time share one upstream call: the first records, the others replay it.
 */
public final class ChatPipeline {

  private final Vertx vertx;
  private final Router router;
  private final CassetteStore store;
  private final CassetteUsageLog usageLog;
  private final Map<String, Future<Cassette>> recordingsInFlight = new ConcurrentHashMap<>();

  public ChatPipeline(Vertx vertx, Router router, CassetteStore store, CassetteUsageLog usageLog) {
    this.vertx = vertx;
    this.router = router;
    this.store = store;
    this.usageLog = usageLog;
  }

  /**
   * Starts one answer. Must be called on the caller's event-loop context; everything after runs there too.
   *
   * @throws RouterError when the call cannot start
   */
  public ChatEventStream start(ChatRequest request, CallOptions options) {
    Router.Target target = router.resolve(request.getModel())
        .orElseThrow(() -> new RouterError(GrpcStatus.INVALID_ARGUMENT, "unknown model " + request.getModel()));
    ChatEventStream answer = new ChatEventStream();
    if (options.mode() == CassetteMode.OFF) {
      Origin live = Origin.newBuilder().setCassette(CassetteOutcome.CASSETTE_OUTCOME_LIVE)
          .setDeployment(target.deployment().name()).setAttempts(1).build();
      relay(live(request, target, options), answer, e -> decorate(e, target.deployment().name(), live));
      return answer;
    }
    CanonicalRequest canonical = CanonicalRequest.of(request);
    Context context = vertx.getOrCreateContext();
    if (options.mode() == CassetteMode.RECORD) {
      record(request, canonical, target, options, answer, context);
      return answer;
    }
    lookup(options.scope(), canonical.key()).onComplete(found -> {
      if (answer.isClosed()) {
        return;
      }
      if (found.failed()) {
        answer.fail(corrupt(found.cause()));
      } else if (found.result().isPresent()) {
        replay(found.result().get(), options.scope(), CassetteOutcome.CASSETTE_OUTCOME_HIT, answer);
      } else if (options.mode() == CassetteMode.REPLAY) {
        miss(options.scope(), canonical, answer);
      } else {
        record(request, canonical, target, options, answer, context);
      }
    });
    return answer;
  }

  /** A cassette from memory when it is cached, otherwise read from disk on a worker thread. */
  private Future<Optional<Cassette>> lookup(String scope, String key) {
    Optional<Cassette> cached = store.cached(scope, key);
    if (cached.isPresent()) {
      return Future.succeededFuture(cached);
    }
    return vertx.executeBlocking(() -> store.load(scope, key), false);
  }

  private void replay(Cassette cassette, String scope, CassetteOutcome outcome, ChatEventStream answer) {
    Origin origin = Origin.newBuilder().setCassette(outcome).setCassetteKey(cassette.key()).setCassetteScope(scope)
        .setDeployment(cassette.servedBy().provider()).build();
    usageLog.hit(scope, store.pathOf(scope, cassette.key()));
    for (ChatEvent event : cassette.takes().get(0).events()) {
      answer.emit(withOrigin(event, origin));
    }
  }

  private void miss(String scope, CanonicalRequest canonical, ChatEventStream answer) {
    vertx.executeBlocking(() -> ReplayMissException.of(scope, canonical, store.closest(scope, canonical.json())), false)
        .onComplete(ar -> answer.fail(ar.failed() ? corrupt(ar.cause()) : RouterError.withInfo(
            GrpcStatus.FAILED_PRECONDITION, ar.result().getMessage(), "CASSETTE_MISS",
            Map.of("cassette_key", canonical.key(), "cassette_scope", scope), null)));
  }

  /**
   * Calls upstream while relaying to the caller, with ids and timestamps normalised, and writes the cassette before
   * the `done` event is delivered, so a caller that gets `done` can replay at once. A failed exchange writes nothing.
   */
  private void record(ChatRequest request, CanonicalRequest canonical, Router.Target target, CallOptions options,
      ChatEventStream answer, Context context) {
    String id = options.scope() + "/" + canonical.key();
    Promise<Cassette> recording = Promise.promise();
    Future<Cassette> leader = recordingsInFlight.putIfAbsent(id, recording.future());
    if (leader != null) {
      // An identical request is being recorded: replay its cassette once written.
      leader.onComplete(ar -> context.runOnContext(v -> {
        if (ar.succeeded()) {
          replay(ar.result(), options.scope(), CassetteOutcome.CASSETTE_OUTCOME_HIT, answer);
        } else {
          answer.fail(ar.cause());
        }
      }));
      return;
    }
    recording.future().onComplete(ar -> recordingsInFlight.remove(id));
    String deployment = target.deployment().name();
    Origin origin = Origin.newBuilder().setCassette(CassetteOutcome.CASSETTE_OUTCOME_RECORDED)
        .setCassetteKey(canonical.key()).setCassetteScope(options.scope()).setDeployment(deployment).setAttempts(1)
        .build();
    List<ChatEvent> take = new ArrayList<>();
    ChatEventStream upstream;
    try {
      upstream = live(request, target, options);
    } catch (RouterError e) {
      recording.fail(e);
      answer.fail(e);
      return;
    }
    upstream.exceptionHandler(failure -> {
      recording.tryFail(failure);
      answer.fail(failure);
    });
    upstream.handler(event -> {
      ChatEvent stored = withProvider(ResponseNormalizer.normalize(event, canonical.key()), deployment);
      take.add(stored);
      if (!event.hasDone()) {
        answer.emit(withOrigin(stored, origin));
        return;
      }
      Cassette cassette = Cassette.of(canonical,
          new Cassette.ServedBy(deployment, event.getDone().getResponse().getModel()), List.of(new Cassette.Take(take)));
      vertx.executeBlocking(() -> {
        store.write(options.scope(), cassette);
        return cassette;
      }, false).onComplete(written -> {
        if (written.failed()) {
          RouterError error = new RouterError(GrpcStatus.INTERNAL, "the answer arrived but its cassette could not be "
              + "written to " + store.pathOf(options.scope(), canonical.key()) + ": " + written.cause().getMessage());
          recording.tryFail(error);
          answer.fail(error);
        } else {
          recording.tryComplete(cassette);
          answer.emit(withOrigin(stored, origin));
        }
      });
    });
    answer.upstream(flowControlOf(upstream));
  }

  /** Calls the adapter; the upstream call is bounded by the caller's deadline or the deployment's timeout. */
  private ChatEventStream live(ChatRequest request, Router.Target target, CallOptions options) {
    String deployment = target.deployment().name();
    if (!target.deployment().apiKeyVariable().isEmpty() && target.deployment().apiKey().isEmpty()) {
      throw new RouterError(GrpcStatus.FAILED_PRECONDITION, "provider " + deployment + " has no API key: set "
          + target.deployment().apiKeyVariable() + " in the router's environment and restart it");
    }
    ChatEventStream upstream = new ChatEventStream();
    long timeout = options.deadlineMillis() > 0 ? options.deadlineMillis() : target.deployment().timeout().toMillis();
    long timer = vertx.setTimer(timeout, id -> upstream.fail(UpstreamErrors.deadline(deployment, timeout)));
    upstream.closeHandler(() -> vertx.cancelTimer(timer));
    target.adapter().chat(request, target.upstreamModel(), options.stream(), upstream);
    return upstream;
  }

  /** Passes every event of {@code from} to {@code to}, transformed, with flow control and cancel going back. */
  private static void relay(ChatEventStream from, ChatEventStream to, UnaryOperator<ChatEvent> transform) {
    from.exceptionHandler(to::fail);
    from.handler(event -> to.emit(transform.apply(event)));
    to.upstream(flowControlOf(from));
  }

  private static ChatEventStream.Upstream flowControlOf(ChatEventStream source) {
    return new ChatEventStream.Upstream() {
      @Override
      public void pause() {
        source.pause();
      }

      @Override
      public void resume() {
        source.resume();
      }

      @Override
      public void cancel() {
        source.cancel();
      }
    };
  }

  private static RouterError corrupt(Throwable cause) {
    if (cause instanceof CorruptCassetteException corrupt) {
      return RouterError.withInfo(GrpcStatus.FAILED_PRECONDITION, corrupt.getMessage()
          + " (fix or delete the file, or re-record it with --mode record)", "CASSETTE_CORRUPT",
          Map.of("path", corrupt.path().toString()), null);
    }
    if (cause instanceof IllegalArgumentException badScope) {
      return new RouterError(GrpcStatus.INVALID_ARGUMENT, badScope.getMessage());
    }
    return cause instanceof RouterError routerError ? routerError
        : new RouterError(GrpcStatus.INTERNAL, "cassette lookup failed: " + cause);
  }

  private static ChatEvent decorate(ChatEvent event, String provider, Origin origin) {
    return withOrigin(withProvider(event, provider), origin);
  }

  private static ChatEvent withProvider(ChatEvent event, String provider) {
    return switch (event.getEventCase()) {
      case START -> event.toBuilder().setStart(event.getStart().toBuilder().setProvider(provider)).build();
      case DONE -> event.toBuilder().setDone(event.getDone().toBuilder().setResponse(
          event.getDone().getResponse().toBuilder().setProvider(provider))).build();
      default -> event;
    };
  }

  private static ChatEvent withOrigin(ChatEvent event, Origin origin) {
    return switch (event.getEventCase()) {
      case START -> event.toBuilder().setStart(event.getStart().toBuilder().setOrigin(origin)).build();
      case DONE -> event.toBuilder().setDone(event.getDone().toBuilder().setResponse(
          event.getDone().getResponse().toBuilder().setOrigin(origin))).build();
      default -> event;
    };
  }
}
