package dev.llmrouter.server.auth;

import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallerKey;
import dev.llmrouter.api.v1.KeyLimits;
import dev.llmrouter.api.v1.KeySpend;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The counters of one router, in memory (without `shared_state`): each key's calls and tokens of the minute, and its
 * spend, which is also written to the key store every second, so that a budget outlives a restart. Each key's
 * counters are locked on their own, for the short time a check takes, whichever event loop asks.
 */
public final class LocalQuotas implements Quotas {

  private static final long SAVE_EVERY_MILLIS = 1000;
  private static final Future<Optional<Refusal>> ADMITTED = Future.succeededFuture(Optional.empty());

  private final SqliteKeyStore store;
  private final Map<String, Counters> counters = new ConcurrentHashMap<>();
  private final Vertx vertx;
  private final long saver;

  /** One key's counters; guarded by itself. */
  private static final class Counters {
    final Window calls = new Window();
    final Window tokens = new Window();
    final Window spend;
    boolean spendChanged;

    Counters(Window spend) {
      this.spend = spend;
    }
  }

  public LocalQuotas(Vertx vertx, SqliteKeyStore store) {
    this.vertx = vertx;
    this.store = store;
    this.saver = vertx.setPeriodic(SAVE_EVERY_MILLIS, id -> saveSpend());
  }

  @Override
  public Future<Optional<Refusal>> admit(CallerKey key, long nowMillis) {
    KeyLimits limits = key.getLimits();
    Counters counted = countersOf(key);
    synchronized (counted) {
      long budget = Quotas.budgetNanos(limits);
      if (budget >= 0 && counted.spend.total(nowMillis) >= budget) {
        return refused(Limit.BUDGET, counted.spend, nowMillis);
      }
      if (limits.getTokensPerMinute() > 0 && counted.tokens.total(nowMillis) >= limits.getTokensPerMinute()) {
        return refused(Limit.TOKENS_PER_MINUTE, counted.tokens, nowMillis);
      }
      if (limits.getRequestsPerMinute() > 0) {
        if (counted.calls.total(nowMillis) >= limits.getRequestsPerMinute()) {
          return refused(Limit.REQUESTS_PER_MINUTE, counted.calls, nowMillis);
        }
        counted.calls.add(nowMillis, 1, MINUTE_MILLIS);
      }
    }
    return ADMITTED;
  }

  private static Future<Optional<Refusal>> refused(Limit limit, Window window, long nowMillis) {
    return Future.succeededFuture(Optional.of(new Refusal(limit, window.endsMillis() - nowMillis)));
  }

  @Override
  public Future<Void> charge(CallerKey key, long tokens, long costNanos, long nowMillis) {
    Counters counted = countersOf(key);
    synchronized (counted) {
      if (tokens > 0) {
        counted.tokens.add(nowMillis, tokens, MINUTE_MILLIS);
      }
      if (costNanos > 0) {
        counted.spend.add(nowMillis, costNanos, Quotas.budgetWindowMillis(key.getLimits()));
        counted.spendChanged = true;
      }
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<KeySpend> spend(CallerKey key, long nowMillis) {
    Counters counted = counters.get(key.getId());
    if (counted == null) {
      // Not used since this process started (a `keys list` command): the spend last saved.
      boolean running = key.getSpend().hasResetTime() && Timestamps.toMillis(key.getSpend().getResetTime()) > nowMillis;
      return Future.succeededFuture(running ? key.getSpend() : KeySpend.getDefaultInstance());
    }
    synchronized (counted) {
      long spent = counted.spend.total(nowMillis);
      KeySpend.Builder spend = KeySpend.newBuilder().setSpentUsd(spent / 1e9);
      if (counted.spend.endsMillis() > nowMillis) {
        spend.setResetTime(Timestamps.fromMillis(counted.spend.endsMillis()));
      }
      return Future.succeededFuture(spend.build());
    }
  }

  /** The key's counters, its spend starting from what was saved (a budget outlives a restart). */
  private Counters countersOf(CallerKey key) {
    return counters.computeIfAbsent(key.getId(), id -> new Counters(new Window(
        Math.round(key.getSpend().getSpentUsd() * 1e9),
        key.getSpend().hasResetTime() ? Timestamps.toMillis(key.getSpend().getResetTime()) : 0)));
  }

  /** Writes the spends changed since the last time to the key store. */
  private Future<Void> saveSpend() {
    Map<String, long[]> changed = new HashMap<>();
    counters.forEach((id, counted) -> {
      synchronized (counted) {
        if (counted.spendChanged) {
          counted.spendChanged = false;
          changed.put(id, new long[] {counted.spend.lastTotal(), counted.spend.endsMillis()});
        }
      }
    });
    return changed.isEmpty() ? Future.succeededFuture() : store.saveSpend(changed);
  }

  @Override
  public Future<Void> close() {
    vertx.cancelTimer(saver);
    return saveSpend();
  }
}
