package dev.llmrouter.server.route;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A deployment's circuit breaker: after {@code threshold} consecutive upstream failures it opens for a cool-down,
 * during which calls skip the deployment; then one probe call is let through (half-open), whose outcome closes or
 * reopens it. Thread-safe: calls on several event loops share a deployment.
 */
public final class CircuitBreaker {

  private final int threshold;
  private final long coolDownNanos;
  private final LongSupplier nanoClock;
  private int consecutiveFailures;
  private long openUntil;
  private boolean open;
  private boolean probing;

  public CircuitBreaker(int threshold, Duration coolDown, LongSupplier nanoClock) {
    this.threshold = threshold;
    this.coolDownNanos = coolDown.toNanos();
    this.nanoClock = nanoClock;
  }

  /** Whether a call may go to the deployment now; after the cool-down, only the first caller (the probe) may. */
  public synchronized boolean allowsCall() {
    if (!open) {
      return true;
    }
    if (nanoClock.getAsLong() < openUntil || probing) {
      return false;
    }
    probing = true;
    return true;
  }

  /** The deployment answered (even with a caller error): the circuit closes. */
  public synchronized void success() {
    consecutiveFailures = 0;
    open = false;
    probing = false;
  }

  /** The deployment failed (unreachable, 5xx, 429, timeout): a failed probe or one failure too many opens it. */
  public synchronized void failure() {
    consecutiveFailures++;
    if (probing || consecutiveFailures >= threshold) {
      open = true;
      probing = false;
      openUntil = nanoClock.getAsLong() + coolDownNanos;
    }
  }

  /** The call ended without a verdict (cancelled): a probe slot is given back. */
  public synchronized void release() {
    probing = false;
  }

  /** True while calls skip the deployment. */
  public synchronized boolean isOpen() {
    return open && (nanoClock.getAsLong() < openUntil || probing);
  }
}
