package dev.llmrouter.server.pipeline;

import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.answer.CallError;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.protobuf.ByteString;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Origin;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.cassettes.CanonicalRequest;
import dev.llmrouter.cassettes.Cassette;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.cassettes.CorruptCassetteException;
import dev.llmrouter.cassettes.ReplayMissException;
import dev.llmrouter.cassettes.ResponseNormalizer;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.config.ResilienceConfig;
import dev.llmrouter.server.observe.CallTracker;
import dev.llmrouter.server.observe.Observability;
import dev.llmrouter.server.route.RoutePlanner;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * The one path every RPC takes (ARCHITECTURE.md section 2): plan the targets, consult the cassette, call upstream
 * (with retries and fallback, see {@link UpstreamAttempts}) when the mode says so, and hand the caller one stream of
 * events.
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

  /** Requests at least this large are hashed on a worker thread. */
  private static final int LARGE_REQUEST_BYTES = 256 * 1024;
  /** Memory for the keys of recent requests (weighed at 8 times their size, for the canonical JSON they keep). */
  private static final long KEY_CACHE_BYTES = 32L * 1024 * 1024;

  private final Vertx vertx;
  private final RoutePlanner routes;
  private final CassetteStore store;
  private final ResilienceConfig resilience;
  private final boolean recordTiming;
  private final CassetteUsageLog usageLog;
  private final Observability observability;
  private final Map<String, Future<Cassette>> recordingsInFlight = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> takeCounters = new ConcurrentHashMap<>();
  private final Cache<ByteString, CanonicalRequest> recentKeys = Caffeine.newBuilder()
      .maximumWeight(KEY_CACHE_BYTES).weigher((ByteString bytes, CanonicalRequest key) -> bytes.size() * 8).build();

  /**
   * @param resilience retries and circuit breaking for live calls
   * @param recordTiming whether recordings keep each event's offset, for `x-cassette-pace: recorded`
   * @param usageLog where cassette hits are listed for `cassettes prune --unused`
   * @param observability where each call is priced, counted and logged
   */
  public ChatPipeline(Vertx vertx, RoutePlanner routes, CassetteStore store, ResilienceConfig resilience,
      boolean recordTiming, CassetteUsageLog usageLog, Observability observability) {
    this.vertx = vertx;
    this.resilience = resilience;
    this.routes = routes;
    this.store = store;
    this.recordTiming = recordTiming;
    this.usageLog = usageLog;
    this.observability = observability;
  }

  /**
   * Starts one answer. Must be called on the caller's event-loop context; everything after runs there too.
   *
   * @throws CallError when the call cannot start
   */
  public ChatEventStream start(ChatRequest request, CallOptions options) {
    CallTracker tracker = observability.begin(options.call(), request);
    Optional<List<RoutePlanner.Target>> planned = routes.plan(request.getModel());
    if (planned.isEmpty()) {
      throw refused(tracker, new CallError(GrpcStatus.INVALID_ARGUMENT, "unknown model " + request.getModel()));
    }
    List<RoutePlanner.Target> plan = planned.get();
    tracker.routed();
    ChatEventStream answer = new ChatEventStream();
    answer.observe(tracker::onEvent, error -> tracker.onEnd(error == null ? GrpcStatus.OK : error.status(),
        error == null ? "" : error.getMessage()));
    if (options.mode() == CassetteMode.OFF) {
      UpstreamAttempts live = UpstreamAttempts.start(vertx, resilience, plan, request, options, tracker::attempt);
      relay(live.events(), answer, e -> withOrigin(withProvider(e, live.servedBy()), origin(live,
          CassetteOutcome.CASSETTE_OUTCOME_LIVE, "", "")));
      return answer;
    }
    Context context = vertx.getOrCreateContext();
    canonicalForm(request).onComplete(keyed -> {
      if (keyed.failed()) {
        answer.fail(new CallError(GrpcStatus.INTERNAL, "cannot compute the cassette key: " + keyed.cause()));
      } else if (options.mode() == CassetteMode.RECORD) {
        CanonicalRequest canonical = keyed.result();
        record(request, canonical, plan, options, nextTake(options, canonical.key()), answer, context, tracker);
      } else {
        consult(request, keyed.result(), plan, options, answer, context, tracker);
      }
    });
    return answer;
  }

  /** Logs a call refused before it started (an invalid request), and returns the error to end it with. */
  public CallError refuse(ChatRequest request, CallOptions options, CallError error) {
    return refused(observability.begin(options.call(), request), error);
  }

  private static CallError refused(CallTracker tracker, CallError error) {
    tracker.onEnd(error.status(), error.getMessage());
    return error;
  }

  /**
   * The cassette key of a request. A request seen before (the same bytes: CI replays the same requests over and
   * over) is looked up instead of canonicalised again; hashing a large one (images, documents) happens off the event
   * loop.
   */
  private Future<CanonicalRequest> canonicalForm(ChatRequest request) {
    if (request.getSerializedSize() >= LARGE_REQUEST_BYTES) {
      return vertx.executeBlocking(() -> CanonicalRequest.of(request), false);
    }
    return Future.succeededFuture(recentKeys.get(request.toByteString(), bytes -> CanonicalRequest.of(request)));
  }

  /** Replay, auto and sequenced modes: replay a recorded take, or record it, or explain the miss. */
  private void consult(ChatRequest request, CanonicalRequest canonical, List<RoutePlanner.Target> plan, CallOptions options,
      ChatEventStream answer, Context context, CallTracker tracker) {
    lookup(options.scope(), canonical.key()).onComplete(found -> {
      if (answer.isClosed()) {
        return;
      }
      if (found.failed()) {
        answer.fail(corrupt(found.cause()));
        return;
      }
      int take = nextTake(options, canonical.key());
      Optional<Cassette> cassette = found.result();
      if (cassette.isPresent() && take < cassette.get().takes().size()) {
        replay(cassette.get(), take, options, answer);
      } else if (options.mode() == CassetteMode.AUTO) {
        record(request, canonical, plan, options, take, answer, context, tracker);
      } else if (cassette.isPresent()) {
        answer.fail(new CallError(GrpcStatus.FAILED_PRECONDITION, "the cassette "
            + store.pathOf(options.scope(), canonical.key()) + " has " + cassette.get().takes().size()
            + " take(s); this is identical request number " + (take + 1) + " of the sequence. Record the missing "
            + "takes with --mode record (or auto) and x-cassette-take: sequence"));
      } else {
        miss(options.scope(), canonical, answer);
      }
    });
  }

  /** A cassette from memory when it is cached, otherwise read from disk on a worker thread. */
  private Future<Optional<Cassette>> lookup(String scope, String key) {
    Optional<Cassette> cached = store.cached(scope, key);
    if (cached.isPresent()) {
      return Future.succeededFuture(cached);
    }
    return vertx.executeBlocking(() -> store.load(scope, key), false);
  }

  /** Which take of a cassette this call gets: the first, or the next of its sequence when sequencing is on. */
  private int nextTake(CallOptions options, String key) {
    if (!options.sequenced()) {
      return 0;
    }
    return takeCounters.computeIfAbsent(options.scope() + "/" + key, k -> new AtomicInteger()).getAndIncrement();
  }

  private void replay(Cassette cassette, int take, CallOptions options, ChatEventStream answer) {
    Origin origin = Origin.newBuilder().setCassette(CassetteOutcome.CASSETTE_OUTCOME_HIT)
        .setCassetteKey(cassette.key()).setCassetteScope(options.scope())
        .setDeployment(cassette.servedBy().provider()).build();
    usageLog.hit(options.scope(), cassette.key());
    Cassette.Take recorded = cassette.takes().get(take);
    List<ChatEvent> events = recorded.events().stream().map(e -> withOrigin(e, origin)).toList();
    if (!options.pace().isPaced()) {
      events.forEach(answer::emit);
      return;
    }
    if (options.pace().recorded() && recorded.offsetsMillis().size() != events.size()) {
      answer.fail(new CallError(GrpcStatus.FAILED_PRECONDITION, "x-cassette-pace: recorded needs per-event timing, "
          + "and " + store.pathOf(options.scope(), cassette.key()) + " has none: re-record it with "
          + "cassettes.record_timing: true"));
      return;
    }
    emitPaced(events, options.pace().recorded() ? recorded.offsetsMillis() : null, options.pace().gapMillis(), 0,
        answer);
  }

  /** Emits event {@code i} at its recorded offset (or after a fixed gap), then schedules the next. */
  private void emitPaced(List<ChatEvent> events, List<Long> offsets, long gap, int i, ChatEventStream answer) {
    if (i == events.size() || answer.isClosed()) {
      return;
    }
    long delay = offsets == null ? (i == 0 ? 0 : gap) : offsets.get(i) - (i == 0 ? 0 : offsets.get(i - 1));
    Runnable emitNext = () -> {
      answer.emit(events.get(i));
      emitPaced(events, offsets, gap, i + 1, answer);
    };
    if (delay <= 0) {
      emitNext.run();
    } else {
      vertx.setTimer(delay, t -> emitNext.run());
    }
  }

  private void miss(String scope, CanonicalRequest canonical, ChatEventStream answer) {
    observability.metrics().cassette("miss");
    vertx.executeBlocking(() -> ReplayMissException.of(scope, canonical, store.closest(scope, canonical.json())), false)
        .onComplete(ar -> answer.fail(ar.failed() ? corrupt(ar.cause()) : CallError.withInfo(
            GrpcStatus.FAILED_PRECONDITION, ar.result().getMessage(), "CASSETTE_MISS",
            Map.of("cassette_key", canonical.key(), "cassette_scope", scope), null)));
  }

  /**
   * Calls upstream while relaying to the caller, with ids and timestamps normalised, and writes the cassette before
   * the `done` event is delivered, so a caller that gets `done` can replay at once. A failed exchange writes nothing.
   */
  private void record(ChatRequest request, CanonicalRequest canonical, List<RoutePlanner.Target> plan, CallOptions options,
      int takeIndex, ChatEventStream answer, Context context, CallTracker tracker) {
    String id = options.scope() + "/" + canonical.key();
    Promise<Cassette> recording = Promise.promise();
    // Sequenced requests are distinct takes; otherwise identical requests in flight share one recording.
    Future<Cassette> leader = options.sequenced() ? null : recordingsInFlight.putIfAbsent(id, recording.future());
    if (leader != null) {
      leader.onComplete(ar -> context.runOnContext(v -> {
        if (ar.succeeded()) {
          replay(ar.result(), 0, options, answer);
        } else {
          answer.fail(ar.cause());
        }
      }));
      return;
    }
    if (!options.sequenced()) {
      recording.future().onComplete(ar -> recordingsInFlight.remove(id));
    }
    List<ChatEvent> take = new ArrayList<>();
    List<Long> offsets = new ArrayList<>();
    long startedAt = System.nanoTime();
    UpstreamAttempts live = UpstreamAttempts.start(vertx, resilience, plan, request, options, tracker::attempt);
    ChatEventStream upstream = live.events();
    upstream.exceptionHandler(failure -> {
      recording.tryFail(failure);
      answer.fail(failure);
    });
    upstream.handler(event -> {
      ChatEvent stored = withProvider(ResponseNormalizer.normalize(event, canonical.key()), live.servedBy());
      Origin origin = origin(live, CassetteOutcome.CASSETTE_OUTCOME_RECORDED, canonical.key(), options.scope());
      take.add(stored);
      offsets.add((System.nanoTime() - startedAt) / 1_000_000);
      if (!event.hasDone()) {
        answer.emit(withOrigin(stored, origin));
        return;
      }
      Cassette.Take recorded = new Cassette.Take(take, recordTiming ? offsets : List.of());
      Cassette.ServedBy servedBy = new Cassette.ServedBy(live.servedBy().deployment().name(),
          event.getDone().getResponse().getModel());
      vertx.executeBlocking(() -> {
        List<Cassette.Take> takes = new ArrayList<>();
        if (takeIndex > 0) {
          // A later take of a sequence keeps the earlier ones.
          store.load(options.scope(), canonical.key()).ifPresent(existing ->
              takes.addAll(existing.takes().subList(0, Math.min(takeIndex, existing.takes().size()))));
        }
        takes.add(recorded);
        Cassette cassette = Cassette.of(canonical, servedBy, takes);
        store.write(options.scope(), cassette);
        return cassette;
      }, false).onComplete(written -> {
        if (written.failed()) {
          CallError error = new CallError(GrpcStatus.INTERNAL, "the answer arrived but its cassette could not be "
              + "written to " + store.pathOf(options.scope(), canonical.key()) + ": " + written.cause().getMessage());
          recording.tryFail(error);
          answer.fail(error);
        } else {
          recording.tryComplete(written.result());
          answer.emit(withOrigin(stored, origin));
        }
      });
    });
    answer.upstream(flowControlOf(upstream));
  }

  private static Origin origin(UpstreamAttempts live, CassetteOutcome outcome, String key, String scope) {
    return Origin.newBuilder().setCassette(outcome).setCassetteKey(key).setCassetteScope(scope)
        .setDeployment(live.servedBy().deployment().name()).setAttempts(live.attempts())
        .addAllDroppedSettings(live.droppedSettings()).build();
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

  private static CallError corrupt(Throwable cause) {
    if (cause instanceof CorruptCassetteException corrupt) {
      return CallError.withInfo(GrpcStatus.FAILED_PRECONDITION, corrupt.getMessage()
          + " (fix or delete the file, or re-record it with --mode record)", "CASSETTE_CORRUPT",
          Map.of("path", corrupt.path().toString()), null);
    }
    if (cause instanceof IllegalArgumentException badScope) {
      return new CallError(GrpcStatus.INVALID_ARGUMENT, badScope.getMessage());
    }
    return cause instanceof CallError routerError ? routerError
        : new CallError(GrpcStatus.INTERNAL, "cassette lookup failed: " + cause);
  }

  /**
   * Names the deployment that answered, and marks reasoning signatures with its provider type: another provider's
   * adapter drops them rather than sending a signature it cannot verify.
   */
  private static ChatEvent withProvider(ChatEvent event, RoutePlanner.Target servedBy) {
    ProviderConfig deployment = servedBy.deployment().config();
    return switch (event.getEventCase()) {
      case START -> event.toBuilder().setStart(event.getStart().toBuilder().setProvider(deployment.name())).build();
      case DONE -> {
        ChatResponse.Builder response = event.getDone().getResponse().toBuilder().setProvider(deployment.name());
        for (Part.Builder part : response.getMessageBuilder().getPartsBuilderList()) {
          if (part.hasReasoning() && !part.getReasoning().getSignature().isEmpty()) {
            part.getReasoningBuilder().setProvider(deployment.type());
          }
        }
        yield event.toBuilder().setDone(event.getDone().toBuilder().setResponse(response)).build();
      }
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
