package dev.llmrouter.server.route;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Reasoning;
import dev.llmrouter.server.provider.EmbeddingAdapter;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.ProviderTypes;
import dev.llmrouter.server.provider.TokenCountAdapter;
import dev.llmrouter.server.provider.ProviderTypes.KeyedAdapter;
import dev.llmrouter.server.provider.UpstreamClient;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One configured upstream at run time: its adapters (one per API key, used in turn) and the pooled client they share,
 * its circuit breaker, the time until which its provider rate-limits it, and its count of calls in flight. A config
 * reload that leaves the deployment as it was hands it on to the next {@link RoutePlanner}, client, breaker and all:
 * the client closes when the last planner holding it closes.
 */
public final class Deployment {

  private final ProviderConfig config;
  private final List<KeyedAdapter> adaptersByKey;
  private final UpstreamClient client;
  private final AtomicInteger planners = new AtomicInteger(1);
  private final CircuitBreaker breaker;
  private final AtomicInteger nextKey = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final LongSupplier nanoClock;
  private final AtomicLong rateLimitedUntil;
  // Asked on every call; model names come from callers, so the memory is bounded.
  private final Cache<String, Capabilities> capabilitiesByModel = Caffeine.newBuilder().maximumSize(1_000).build();

  /** @param nanoClock the time source of the rate-limit window, the circuit breaker's */
  Deployment(ProviderConfig config, ProviderTypes.Connection connection, CircuitBreaker breaker,
      LongSupplier nanoClock) {
    this.config = config;
    this.adaptersByKey = connection.adaptersByKey();
    this.client = connection.client();
    this.breaker = breaker;
    this.nanoClock = nanoClock;
    this.rateLimitedUntil = new AtomicLong(nanoClock.getAsLong());
  }

  public ProviderConfig config() {
    return config;
  }

  public String name() {
    return config.name();
  }

  public CircuitBreaker breaker() {
    return breaker;
  }

  /** What {@code upstreamModel} can honour through this deployment's adapter. */
  public Capabilities capabilities(String upstreamModel) {
    return capabilitiesByModel.get(upstreamModel, model -> ProviderTypes.capabilities(config, model)
        .toBuilder()
        .setEmbeddings(capability(EmbeddingAdapter.class).filter(adapter -> adapter.embeds(model)).isPresent())
        .setCountTokens(capability(TokenCountAdapter.class).filter(counter -> counter.countsTokens(model)).isPresent())
        .build());
  }

  /**
   * The adapter for a call: the keys take turns, but a conversation holding reasoning that one of this deployment's
   * keys produced goes to that key, the only one its provider may accept it from (OpenAI's encrypted reasoning).
   */
  public KeyedAdapter adapterFor(ChatRequest request) {
    if (adaptersByKey.size() > 1) {
      String credential = lastReasoningCredential(request);
      for (KeyedAdapter keyed : adaptersByKey) {
        if (keyed.credential().equals(credential)) {
          return keyed;
        }
      }
    }
    return adaptersByKey.get(Math.floorMod(nextKey.getAndIncrement(), adaptersByKey.size()));
  }

  /** The credential that produced the latest signed reasoning of this deployment in the history; null when none. */
  private String lastReasoningCredential(ChatRequest request) {
    for (int m = request.getMessagesCount() - 1; m >= 0; m--) {
      Message message = request.getMessages(m);
      for (int p = message.getPartsCount() - 1; p >= 0; p--) {
        Part part = message.getParts(p);
        Reasoning reasoning = part.getReasoning();
        if (part.hasReasoning() && !reasoning.getSignature().isEmpty() && reasoning.getDeployment().equals(name())) {
          return reasoning.getCredential();
        }
      }
    }
    return null;
  }

  /**
   * What the deployment's type (the first key's adapter) can do beside chat, such as {@link EmbeddingAdapter} or
   * {@link TokenCountAdapter}: empty when its host cannot.
   */
  public <T> Optional<T> capability(Class<T> kind) {
    return Optional.of(adaptersByKey.get(0).adapter()).filter(kind::isInstance).map(kind::cast);
  }

  /** The adapter for the next call of that kind (the keys take turns), of a deployment whose type can make it. */
  public <T> T nextAdapter(Class<T> kind) {
    KeyedAdapter next = adaptersByKey.get(Math.floorMod(nextKey.getAndIncrement(), adaptersByKey.size()));
    if (!kind.isInstance(next.adapter())) {
      throw new IllegalStateException(name() + " (type " + config.type() + ") is no " + kind.getSimpleName());
    }
    return kind.cast(next.adapter());
  }

  /** The variable to set when keys (or tokens) are configured but none has a value; null when calls can go out. */
  public String missingKeyVariable() {
    List<ProviderConfig.ApiKey> credentials = config.credentials();
    boolean noneSet = credentials.stream().allMatch(k -> k.value().isEmpty());
    return credentials.isEmpty() || !noneSet ? null : credentials.get(0).variable();
  }

  /** The provider answered 429: calls skip the deployment for {@code window} (its Retry-After), unless longer is set. */
  public void rateLimitedFor(Duration window) {
    long until = nanoClock.getAsLong() + window.toNanos();
    // Clock readings compare by their difference (System.nanoTime may be negative), keeping the later one.
    rateLimitedUntil.accumulateAndGet(until, (current, asked) -> asked - current > 0 ? asked : current);
  }

  /** How long the provider still rate-limits the deployment; zero when calls may go. */
  public Duration rateLimitRemaining() {
    return Duration.ofNanos(Math.max(0, rateLimitedUntil.get() - nanoClock.getAsLong()));
  }

  /** Takes a call slot; false when {@code max_concurrency} calls are already in flight. */
  public boolean tryAcquire() {
    if (config.maxConcurrency() == 0) {
      inFlight.incrementAndGet();
      return true;
    }
    while (true) {
      int current = inFlight.get();
      if (current >= config.maxConcurrency()) {
        return false;
      }
      if (inFlight.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  public void release() {
    inFlight.decrementAndGet();
  }

  /** One more planner holds the deployment (a reload handed it on). */
  void heldByAnotherPlanner() {
    planners.incrementAndGet();
  }

  /** A planner holding the deployment closed: the client closes with the last one. */
  Future<Void> plannerClosed() {
    return planners.decrementAndGet() == 0 ? client.close() : Future.succeededFuture();
  }
}
