package dev.llmrouter.server.observe;

import dev.llmrouter.api.v1.CallType;
import dev.llmrouter.api.v1.Usage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;

/**
 * The router's own Prometheus series (Vert.x's HTTP and pool series come from vertx-micrometer-metrics on the same
 * registry). Meters are looked up once per label set and kept, so counting on the event loop stays cheap.
 */
public final class CallMetrics {

  /** Latency buckets: from a replayed answer (well under a millisecond) to a long reasoning call. */
  private static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(5),
      Duration.ofMillis(25), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
      Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
      Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120)};

  /** The most distinct `model` labels kept; later names count under `other`, so the series stay bounded. */
  static final int MAX_MODEL_LABELS = 200;

  private static final String CASSETTE_OUTCOMES = "llmrouter.cassette.outcomes";

  private final MeterRegistry registry;
  private final Set<String> modelLabels = ConcurrentHashMap.newKeySet();
  private final LabelledCounter cassetteOutcomes =
      new LabelledCounter(CASSETTE_OUTCOMES, "Cassette hits, misses and recordings", "outcome");
  private final LabelledCounter upstreamAttempts =
      new LabelledCounter("llmrouter.upstream.attempts", "Upstream requests sent, by provider", "provider");
  private final LabelledCounter upstreamRetries = new LabelledCounter("llmrouter.upstream.retries",
      "Upstream requests that retried or fell back, by provider", "provider");
  private final Map<String, CallMeters> callMeters = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> openStreams = new ConcurrentHashMap<>();

  private final Counter joinedRecordings;

  public CallMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.joinedRecordings = Counter.builder("llmrouter.cassette.recordings.joined")
        .description("Calls answered by the recording of an identical call in flight (one upstream call for both)")
        .register(registry);
  }

  /** A call that waits for an identical call's recording instead of calling upstream itself. */
  public void joinedRecording() {
    joinedRecordings.increment();
  }

  /** The RPC name of a call type, as the `rpc` label says it. */
  static String rpcOf(CallType type) {
    return switch (type) {
      case CALL_TYPE_STREAM -> "StreamChat";
      case CALL_TYPE_CONVERSE_TURN -> "Converse";
      case CALL_TYPE_EMBED -> "Embed";
      case CALL_TYPE_COUNT_TOKENS -> "CountTokens";
      default -> "Chat";
    };
  }

  /** One finished model call: count, latency, time to first event, tokens and cost. */
  void call(CallType type, String modelName, String status, Duration latency, Duration timeToFirstEvent,
      Usage usage) {
    String rpc = rpcOf(type);
    String model = modelLabels.contains(modelName) || modelLabels.size() < MAX_MODEL_LABELS
        && modelLabels.add(modelName) ? modelName : "other";
    CallMeters meters = callMeters.computeIfAbsent(rpc + '\0' + model, key -> new CallMeters(rpc, model));
    meters.requests.computeIfAbsent(status, code -> Counter.builder("llmrouter.requests")
        .description("Model calls, by RPC, model (as called) and gRPC status")
        .tags("rpc", rpc, "model", model, "status", code).register(registry)).increment();
    meters.duration.record(latency);
    if (timeToFirstEvent != null) {
      meters.timeToFirstEvent.record(timeToFirstEvent);
    }
    meters.inputTokens.increment(usage.getInputTokens());
    meters.outputTokens.increment(usage.getOutputTokens());
    meters.cachedInputTokens.increment(usage.getCachedInputTokens());
    meters.reasoningTokens.increment(usage.getReasoningTokens());
    if (usage.hasCostUsd()) {
      meters.cost.increment(usage.getCostUsd());
    }
  }

  /** The meters of one RPC and model, made once. */
  private final class CallMeters {
    final Map<String, Counter> requests = new ConcurrentHashMap<>();
    final Timer duration;
    final Timer timeToFirstEvent;
    final Counter inputTokens;
    final Counter outputTokens;
    final Counter cachedInputTokens;
    final Counter reasoningTokens;
    final Counter cost;

    CallMeters(String rpc, String model) {
      duration = timer("llmrouter.request.duration", "From the start of a model call to its end", rpc, model);
      timeToFirstEvent = timer("llmrouter.time.to.first.event", "From the start of a model call to its first event",
          rpc, model);
      inputTokens = tokens(model, "input");
      outputTokens = tokens(model, "output");
      cachedInputTokens = tokens(model, "cached_input");
      reasoningTokens = tokens(model, "reasoning");
      cost = Counter.builder("llmrouter.cost.usd").description("Cost of model calls in US dollars, from the price "
          + "table, by model").tag("model", model).register(registry);
    }

    private Timer timer(String name, String description, String rpc, String model) {
      return Timer.builder(name).description(description).tags("rpc", rpc, "model", model)
          .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
    }

    private Counter tokens(String model, String kind) {
      return Counter.builder("llmrouter.tokens").description("Tokens of model calls, by model and kind")
          .tags("model", model, "kind", kind).register(registry);
    }
  }

  /** A cassette outcome: `hit`, `miss` or `recorded`. */
  public void cassette(String outcome) {
    cassetteOutcomes.of(outcome).increment();
  }

  /** How many calls a router whose metrics go to {@code registry} has counted with this cassette outcome. */
  public static long cassetteOutcomes(MeterRegistry registry, String outcome) {
    Counter counter = registry.find(CASSETTE_OUTCOMES).tag("outcome", outcome).counter();
    return counter == null ? 0 : (long) counter.count();
  }

  /** One upstream request to a deployment; a retry when it is not the call's first. */
  void upstreamAttempt(String deployment, boolean retry) {
    upstreamAttempts.of(deployment).increment();
    if (retry) {
      upstreamRetries.of(deployment).increment();
    }
  }

  /** A stream of this RPC opened ({@code +1}) or closed ({@code -1}). */
  public void streamOpened(String rpc, int delta) {
    openStreams.computeIfAbsent(rpc, name -> {
      AtomicInteger open = new AtomicInteger();
      Gauge.builder("llmrouter.open.streams", open, AtomicInteger::get).description("Open streams, by RPC")
          .tag("rpc", name).register(registry);
      return open;
    }).addAndGet(delta);
  }

  /** A gauge read from {@code source} at each scrape. */
  public <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
    Gauge.builder(name, source, value).description(description).register(registry);
  }

  /** A counter read from {@code source} at each scrape. */
  public <T> void functionCounter(String name, String description, T source, ToDoubleFunction<T> value) {
    FunctionCounter.builder(name, source, value).description(description).register(registry);
  }

  /** A counter with one label, its meter per label value made once. */
  private final class LabelledCounter {
    private final String name;
    private final String description;
    private final String label;
    private final Map<String, Counter> byValue = new ConcurrentHashMap<>();

    LabelledCounter(String name, String description, String label) {
      this.name = name;
      this.description = description;
      this.label = label;
    }

    Counter of(String value) {
      return byValue.computeIfAbsent(value,
          v -> Counter.builder(name).description(description).tag(label, v).register(registry));
    }
  }
}
