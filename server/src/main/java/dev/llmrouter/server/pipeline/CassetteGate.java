package dev.llmrouter.server.pipeline;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.protobuf.ByteString;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Origin;
import dev.llmrouter.cassettes.CanonicalRequest;
import dev.llmrouter.cassettes.Cassette;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.cassettes.CorruptCassetteException;
import dev.llmrouter.cassettes.MatchRule;
import dev.llmrouter.cassettes.MatchRules;
import dev.llmrouter.cassettes.ReplayMissException;
import dev.llmrouter.cassettes.ResponseNormalizer;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.observe.CallMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The cassette layer between a call and its upstream, in `replay`, `record` and `auto` mode: it keys the request
 * (normalized by the match rules of its scope), replays a recorded take (paced when asked), records a live answer,
 * or explains a miss; each outcome is tallied for the replay report.
 *
 * <ul>
 *   <li>`replay`: a hit replays the recorded events; a miss fails with FAILED_PRECONDITION explaining the miss.</li>
 *   <li>`record`: live, ids and timestamps normalised, the exchange written once it completed.</li>
 *   <li>`auto`: replay on a hit, record on a miss.</li>
 * </ul>
 * Identical requests recorded at the same time share one upstream call: the first records, the others replay it.
 * Identical sequenced requests take the takes in turn, and each recorded take is written after the call with the take
 * before it has ended, so concurrent calls never lose or reorder takes. Disk work (reading, writing, the closest
 * cassette of a miss) runs on worker threads. Calls come from every event loop: the shared state here is concurrent.
 */
final class CassetteGate {

  /** Requests at least this large are hashed on a worker thread. */
  static final int LARGE_REQUEST_BYTES = 256 * 1024;
  /** Memory for the keys of recent requests (weighed at 8 times their size, for the canonical JSON they keep). */
  private static final long KEY_CACHE_BYTES = 32L * 1024 * 1024;
  /** Takes whose replayed events are kept with their origin stamped on. */
  private static final int STAMPED_TAKES = 10_000;

  private final Vertx vertx;
  private final CassetteStore store;
  private final MatchRules matchRules;
  private final boolean recordTiming;
  private final CassetteUsageLog usageLog;
  private final CallMetrics metrics;
  private final Map<String, Future<Cassette>> recordingsInFlight = new ConcurrentHashMap<>();
  private final Map<String, TakeSequence> takeSequences = new ConcurrentHashMap<>();
  private final Cache<ByteString, CanonicalRequest> recentKeys = Caffeine.newBuilder()
      .maximumWeight(KEY_CACHE_BYTES).weigher((ByteString bytes, CanonicalRequest key) -> bytes.size() * 8).build();
  // Weak keys: a take is found by identity, and its entry goes when the store lets its cassette go. Upkeep runs on the
  // caller's thread: on the default pool, waking a thread for it every few hits cost more than the hits saved.
  private final Cache<Cassette.Take, StampedTake> stampedTakes = Caffeine.newBuilder().weakKeys()
      .maximumSize(STAMPED_TAKES).executor(Runnable::run).build();

  /** What the origin of a replayed take is made of: the same parts, the same origin. */
  private record ReplaySource(String cassetteKey, String deployment, String scope, List<String> droppedSettings) {
  }

  /** A take's events with the origin of a replay stamped on them, and what that origin was made of. */
  private record StampedTake(ReplaySource source, List<ChatEvent> events) {
  }

  /** A call's take of a cassette: its index, and when the call with the take before it has ended. */
  private record Take(int index, Future<Void> previousCallEnded) {
    static final Take FIRST = new Take(0, Future.succeededFuture());
  }

  /** The takes of one cassette, handed to identical sequenced calls in the order they come. */
  private static final class TakeSequence {
    private int next;
    private Future<Void> lastCallEnded = Future.succeededFuture();

    synchronized Take next(Future<Void> callEnded) {
      Take take = new Take(next++, lastCallEnded);
      lastCallEnded = callEnded;
      return take;
    }
  }

  /**
   * @param matchRules how requests are normalized before they are keyed
   * @param recordTiming whether recordings keep each event's offset, for `x-cassette-pace: recorded`
   * @param usageLog where hits, misses and recordings are tallied, for `cassettes prune --unused` and the report
   */
  CassetteGate(Vertx vertx, CassetteStore store, MatchRules matchRules, boolean recordTiming,
      CassetteUsageLog usageLog, CallMetrics metrics) {
    this.vertx = vertx;
    this.store = store;
    this.matchRules = matchRules;
    this.recordTiming = recordTiming;
    this.usageLog = usageLog;
    this.metrics = metrics;
  }

  /**
   * Answers a call through the cassettes into {@code answer}; {@code live} starts the upstream call when the answer
   * must come from the provider. Must be called on the caller's event-loop context; everything after runs there too.
   */
  void answer(ChatRequest request, CallOptions options, CallPlan<ChatRequest> plan,
      Supplier<UpstreamAttempts<ChatRequest, ChatEvent>> live, ChatEventStream answer) {
    Context context = vertx.getOrCreateContext();
    canonicalForm(request, options).onComplete(keyed -> {
      if (keyed.failed()) {
        answer.fail(new CallError(GrpcStatus.INTERNAL, "cannot compute the cassette key: " + keyed.cause()));
      } else if (options.mode() == CassetteMode.RECORD) {
        CanonicalRequest canonical = keyed.result();
        record(canonical, options, plan, nextTake(options, canonical.key(), answer), live, answer, context);
      } else {
        consult(keyed.result(), options, plan, live, answer, context);
      }
    });
  }

  /**
   * The cassette key of a request, normalized by the match rules of the call's scope and set. A request seen before
   * (the same bytes: CI replays the same requests over and over) is looked up instead of canonicalised again;
   * hashing a large one (images, documents) happens off the event loop.
   */
  private Future<CanonicalRequest> canonicalForm(ChatRequest request, CallOptions options) {
    List<MatchRule> rules = matchRules.forCall(options.scope(), options.matchSet());
    if (request.getSerializedSize() >= LARGE_REQUEST_BYTES) {
      return vertx.executeBlocking(() -> CanonicalRequest.of(request).normalizedBy(rules), false);
    }
    return Future.succeededFuture(recentKeys.get(request.toByteString(), bytes -> CanonicalRequest.of(request))
        .normalizedBy(rules));
  }

  /** Replay and auto modes: replay a recorded take, or record it, or explain the miss. */
  private void consult(CanonicalRequest canonical, CallOptions options, CallPlan<ChatRequest> plan,
      Supplier<UpstreamAttempts<ChatRequest, ChatEvent>> live, ChatEventStream answer, Context context) {
    lookup(options.scope(), canonical.key()).onComplete(found -> {
      if (answer.isClosed()) {
        return;
      }
      if (found.failed()) {
        answer.fail(corrupt(found.cause()));
        return;
      }
      Take take = nextTake(options, canonical.key(), answer);
      Optional<Cassette> cassette = found.result();
      if (cassette.isPresent() && take.index() < cassette.get().takes().size()) {
        replay(cassette.get(), take.index(), options, plan, answer);
      } else if (options.mode() == CassetteMode.AUTO) {
        record(canonical, options, plan, take, live, answer, context);
      } else if (cassette.isPresent()) {
        answer.fail(new CallError(GrpcStatus.FAILED_PRECONDITION, "the cassette "
            + store.pathOf(options.scope(), canonical.key()) + " has " + cassette.get().takes().size()
            + " take(s); this is identical request number " + (take.index() + 1) + " of the sequence. Record the "
            + "missing takes with --mode record (or auto) and x-cassette-take: sequence"));
      } else {
        miss(options.scope(), canonical, answer);
      }
    });
  }

  /** A cassette from memory when it is cached, otherwise read from disk on a worker thread. */
  Future<Optional<Cassette>> lookup(String scope, String key) {
    Optional<Cassette> cached = store.cached(scope, key);
    if (cached.isPresent()) {
      return Future.succeededFuture(cached);
    }
    return vertx.executeBlocking(() -> store.load(scope, key), false);
  }

  /** Which take of a cassette this call gets: the first, or the next of its sequence when sequencing is on. */
  private Take nextTake(CallOptions options, String key, ChatEventStream answer) {
    if (!options.sequenced()) {
      return Take.FIRST;
    }
    Promise<Void> ended = Promise.promise();
    answer.closeHandler(ended::tryComplete);
    return takeSequences.computeIfAbsent(options.scope() + "/" + key, k -> new TakeSequence()).next(ended.future());
  }

  private void replay(Cassette cassette, int take, CallOptions options, CallPlan<ChatRequest> plan,
      ChatEventStream answer) {
    Cassette.Take recorded = cassette.takes().get(take);
    usageLog.hit(options.scope(), cassette);
    List<ChatEvent> events = stamped(cassette, recorded, options.scope(),
        plan.droppedFor(cassette.servedBy().provider()));
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

  /**
   * The take's events with the origin of its replay in this scope stamped on them: made once, not on every hit, while
   * the origin stays the same.
   */
  private List<ChatEvent> stamped(Cassette cassette, Cassette.Take take, String scope, List<String> droppedSettings) {
    ReplaySource source = new ReplaySource(cassette.key(), cassette.servedBy().provider(), scope, droppedSettings);
    StampedTake stamped = stampedTakes.getIfPresent(take);
    if (stamped == null || !stamped.source().equals(source)) {
      Origin origin = Provenance.ofReplay(cassette, take, scope, droppedSettings);
      stamped = new StampedTake(source, take.events().stream().map(event -> Provenance.withOrigin(event, origin))
          .toList());
      stampedTakes.put(take, stamped);
    }
    return stamped.events();
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

  /** Explains a miss, comparing normalized forms: the closest cassette, what differs, which match rules applied. */
  void miss(String scope, CanonicalRequest canonical, AnswerStream<?> answer) {
    metrics.cassette("miss");
    vertx.executeBlocking(() -> ReplayMissException.of(scope, canonical,
            store.closest(scope, canonical.normalizedJson())), false)
        .onComplete(ar -> {
          if (ar.failed()) {
            answer.fail(corrupt(ar.cause()));
            return;
          }
          usageLog.miss(ar.result());
          answer.fail(CallError.withInfo(GrpcStatus.FAILED_PRECONDITION, ar.result().getMessage(), "CASSETTE_MISS",
              Map.of("cassette_key", canonical.key(), "cassette_scope", scope), null));
        });
  }

  /**
   * Calls upstream while relaying to the caller, with ids and timestamps normalised, and writes the cassette before
   * the `done` event is delivered, so a caller that gets `done` can replay at once. A failed exchange writes nothing.
   */
  private void record(CanonicalRequest canonical, CallOptions options, CallPlan<ChatRequest> plan, Take take,
      Supplier<UpstreamAttempts<ChatRequest, ChatEvent>> live, ChatEventStream answer, Context context) {
    String id = options.scope() + "/" + canonical.key();
    Promise<Cassette> recording = Promise.promise();
    // Sequenced requests are distinct takes; otherwise identical requests in flight share one recording.
    Future<Cassette> leader = options.sequenced() ? null : recordingsInFlight.putIfAbsent(id, recording.future());
    if (leader != null) {
      metrics.joinedRecording();
      leader.onComplete(ar -> context.runOnContext(v -> {
        if (ar.succeeded()) {
          replay(ar.result(), 0, options, plan, answer);
        } else {
          answer.fail(ar.cause());
        }
      }));
      return;
    }
    if (!options.sequenced()) {
      recording.future().onComplete(ar -> recordingsInFlight.remove(id));
      // A recording that ended between this call's lookup and now has left its cassette in the store's cache.
      Optional<Cassette> recorded = options.mode() == CassetteMode.AUTO
          ? store.cached(options.scope(), canonical.key()) : Optional.empty();
      if (recorded.isPresent()) {
        recording.complete(recorded.get());
        replay(recorded.get(), 0, options, plan, answer);
        return;
      }
      // Callers waiting for this recording are told when its own caller leaves before it completes.
      answer.closeHandler(() -> recording.tryFail(new CallError(GrpcStatus.ABORTED, "the identical call that was "
          + "recording this answer ended before it completed: call again")));
    }
    List<ChatEvent> events = new ArrayList<>();
    List<Long> offsets = new ArrayList<>();
    long startedAt = System.nanoTime();
    UpstreamAttempts<ChatRequest, ChatEvent> attempts = live.get();
    AnswerStream<ChatEvent> upstream = attempts.events();
    upstream.exceptionHandler(failure -> {
      recording.tryFail(failure);
      answer.fail(failure);
    });
    upstream.handler(event -> {
      ChatEvent stored = Provenance.withProvider(ResponseNormalizer.normalize(event, canonical.key()), attempts);
      events.add(stored);
      offsets.add((System.nanoTime() - startedAt) / 1_000_000);
      if (!event.hasDone()) {
        answer.emit(Provenance.stampedLive(stored, attempts, CassetteOutcome.CASSETTE_OUTCOME_RECORDED,
            canonical.key(), options.scope()));
        return;
      }
      Cassette.Take recorded = new Cassette.Take(events, recordTiming ? offsets : List.of());
      Cassette.ServedBy servedBy = new Cassette.ServedBy(attempts.servedBy().deployment().name(),
          event.getDone().getResponse().getModel());
      Runnable writeThenDeliver = () -> vertx.executeBlocking(
          () -> write(canonical, options.scope(), take.index(), servedBy, recorded), false).onComplete(written -> {
            if (written.failed()) {
              CallError error = new CallError(GrpcStatus.INTERNAL, "the answer arrived but its cassette could not "
                  + "be written to " + store.pathOf(options.scope(), canonical.key()) + ": "
                  + written.cause().getMessage());
              recording.tryFail(error);
              answer.fail(error);
            } else {
              usageLog.recorded(options.scope(), written.result());
              recording.tryComplete(written.result());
              answer.emit(Provenance.stampedLive(stored, attempts, CassetteOutcome.CASSETTE_OUTCOME_RECORDED,
                  canonical.key(), options.scope()));
            }
          });
      // Takes are written in their order: once the call with the take before this one has ended.
      take.previousCallEnded().onComplete(previous -> context.runOnContext(v -> writeThenDeliver.run()));
    });
    answer.upstream(upstream.asUpstream());
  }

  /**
   * Writes a recorded take (on a worker thread); a later take of a sequence keeps the earlier ones. A cassette
   * re-recorded keeps its request as first recorded: requests that differ only where match rules normalize them
   * (a date) share the key, and the file changes only where the answer does.
   */
  private Cassette write(CanonicalRequest canonical, String scope, int takeIndex, Cassette.ServedBy servedBy,
      Cassette.Take recorded) throws IOException, CorruptCassetteException {
    Optional<Cassette> existing;
    try {
      existing = store.load(scope, canonical.key());
    } catch (CorruptCassetteException corrupt) {
      if (takeIndex > 0) {
        throw corrupt; // its earlier takes cannot be kept
      }
      existing = Optional.empty(); // a first take replaces the broken file
    }
    List<Cassette.Take> takes = new ArrayList<>();
    if (takeIndex > 0) {
      existing.ifPresent(earlier ->
          takes.addAll(earlier.takes().subList(0, Math.min(takeIndex, earlier.takes().size()))));
    }
    takes.add(recorded);
    Cassette cassette = Cassette.of(canonical, servedBy, takes);
    if (existing.isPresent()) {
      cassette = cassette.withRequest(existing.get().request());
    }
    store.write(scope, cassette);
    return cassette;
  }

  /** The error of a cassette lookup that failed: a corrupt file named, a bad scope, or the failure itself. */
  static CallError corrupt(Throwable cause) {
    if (cause instanceof CorruptCassetteException corrupt) {
      return CallError.withInfo(GrpcStatus.FAILED_PRECONDITION, corrupt.getMessage()
          + " (fix or delete the file, or re-record it with --mode record)", "CASSETTE_CORRUPT",
          Map.of("path", corrupt.path().toString()), null);
    }
    if (cause instanceof IllegalArgumentException badScope) {
      return new CallError(GrpcStatus.INVALID_ARGUMENT, badScope.getMessage());
    }
    return cause instanceof CallError error ? error
        : new CallError(GrpcStatus.INTERNAL, "cassette lookup failed: " + cause);
  }
}
