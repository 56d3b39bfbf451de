package dev.llmrouter.server.pipeline;

import dev.llmrouter.server.config.ResilienceConfig;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.observe.PriceTable;
import dev.llmrouter.server.route.RoutePlanner;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * What a call is planned and priced with, from one reading of the config: the routes (providers with their keys and
 * limits, aliases), the prices, retries and circuit breaking. It never changes: a config reload makes the next one
 * and swaps it in whole ({@link LiveSettings}), and the calls running on this one finish on it. Its provider clients
 * close once it is replaced and its last call has ended.
 */
public final class CallSettings {

  private final RouterConfig config;
  private final RoutePlanner routes;
  private final PriceTable prices;
  private final AtomicInteger calls = new AtomicInteger();
  private volatile boolean replaced;
  private final AtomicBoolean closed = new AtomicBoolean();

  private CallSettings(RouterConfig config, RoutePlanner routes) {
    this.config = config;
    this.routes = routes;
    this.prices = new PriceTable(config.observability().prices());
  }

  /** @param nanoClock the time source of the circuit breakers and rate-limit windows */
  public static CallSettings of(Vertx vertx, RouterConfig config, LongSupplier nanoClock) {
    return new CallSettings(config, new RoutePlanner(vertx, config, nanoClock));
  }

  /** The settings of a reloaded config; deployments left as they were are handed on (see {@link RoutePlanner#next}). */
  public CallSettings next(RouterConfig reloaded) {
    return new CallSettings(reloaded, routes.next(reloaded));
  }

  /** The config these settings were read from (its other settings may not be the ones the router runs with). */
  public RouterConfig config() {
    return config;
  }

  public RoutePlanner routes() {
    return routes;
  }

  public PriceTable prices() {
    return prices;
  }

  public ResilienceConfig resilience() {
    return config.resilience();
  }

  /** A call runs on these settings (see {@link LiveSettings#forCall}). */
  void callStarted() {
    calls.incrementAndGet();
  }

  /** A call running on these settings ended. */
  void callEnded() {
    if (calls.decrementAndGet() == 0 && replaced) {
      close();
    }
  }

  /** Newer settings serve new calls: these close once their last call has ended. */
  void replaced() {
    replaced = true;
    if (calls.get() == 0) {
      close();
    }
  }

  /** Closes the provider clients that no newer settings hold; once, whoever asks first. */
  Future<Void> close() {
    return closed.compareAndSet(false, true) ? routes.close() : Future.succeededFuture();
  }
}
