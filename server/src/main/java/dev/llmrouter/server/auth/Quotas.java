package dev.llmrouter.server.auth;

import com.google.protobuf.util.Durations;
import dev.llmrouter.api.v1.CallerKey;
import dev.llmrouter.api.v1.KeyLimits;
import dev.llmrouter.api.v1.KeySpend;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.Optional;

/**
 * The counters behind a key's limits: its calls and tokens per minute, and its spend per budget window. Each window
 * opens with the first count after the previous one ended (a {@link Window}). Safe to use from several event loops;
 * never blocks them.
 */
public interface Quotas {

  long MINUTE_MILLIS = 60_000;
  Duration DEFAULT_BUDGET_WINDOW = Duration.ofDays(30);

  /** A limit that refuses a call. */
  enum Limit { BUDGET, TOKENS_PER_MINUTE, REQUESTS_PER_MINUTE }

  /** A refused call: the limit, and how long until its window ends. */
  record Refusal(Limit limit, long retryAfterMillis) {
  }

  /**
   * Checks the key's budget, then its tokens of the minute, then takes one of its calls of the minute; a refused call
   * takes nothing.
   *
   * @return empty when the call may go on
   */
  Future<Optional<Refusal>> admit(CallerKey key, long nowMillis);

  /** Counts an answered call's tokens and cost (in billionths of a US dollar). */
  Future<Void> charge(CallerKey key, long tokens, long costNanos, long nowMillis);

  /** What the key spent in its current budget window. */
  Future<KeySpend> spend(CallerKey key, long nowMillis);

  Future<Void> close();

  /** The key's budget in billionths of a US dollar (integers add up exactly); -1 for none. */
  static long budgetNanos(KeyLimits limits) {
    return limits.hasBudgetUsd() ? Math.round(limits.getBudgetUsd() * 1e9) : -1;
  }

  static long budgetWindowMillis(KeyLimits limits) {
    return limits.hasBudgetWindow() ? Durations.toMillis(limits.getBudgetWindow()) : DEFAULT_BUDGET_WINDOW.toMillis();
  }

  /** Whether calls of the key need counting at all. */
  static boolean limited(KeyLimits limits) {
    return limits.hasBudgetUsd() || limits.getTokensPerMinute() > 0 || limits.getRequestsPerMinute() > 0;
  }
}
