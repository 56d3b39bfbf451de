package dev.llmrouter.server.route;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A deployment's circuit breaker: after {@code threshold} consecutive upstream failures it opens for a cool-down,
 * during which calls skip the deployment; then one probe call is let through (half-open), whose outcome closes or
 * reopens it. Only the deployment's own faults count (see {@code UpstreamAttempts}): never a caller's deadline or
 * cancel, a rate limit, or a caller error. Thread-safe: calls on several event loops share a deployment.
 */
public final class CircuitBreaker {

  /** What a call may do: go (closed), go as the one probe of a half-open circuit, or skip the deployment. */
  public enum Admission { CLOSED, PROBE, REFUSED }

  /** What a refused call is told to wait while a probe is deciding (its cool-down has passed). */
  private static final Duration PROBE_VERDICT_WAIT = Duration.ofSeconds(1);

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

  /** Admits a call; after the cool-down, only the first caller (the probe) may go. */
  public synchronized Admission admit() {
    if (!open) {
      return Admission.CLOSED;
    }
    if (nanoClock.getAsLong() < openUntil || probing) {
      return Admission.REFUSED;
    }
    probing = true;
    return Admission.PROBE;
  }

  /** How long a refused call should wait before coming back: the rest of the cool-down, or while a probe decides. */
  public synchronized Duration retryAfter() {
    long left = openUntil - nanoClock.getAsLong();
    return left > 0 ? Duration.ofNanos(left) : PROBE_VERDICT_WAIT;
  }

  /** The deployment answered (even with a caller error or a rate limit): the circuit closes. */
  public synchronized void success() {
    consecutiveFailures = 0;
    open = false;
    probing = false;
  }

  /** The deployment failed (unreachable, 5xx, its own timeout): a failed probe or one failure too many opens it. */
  public synchronized void failure() {
    consecutiveFailures++;
    if (probing || consecutiveFailures >= threshold) {
      open = true;
      probing = false;
      openUntil = nanoClock.getAsLong() + coolDownNanos;
    }
  }

  /** The probe ended without a verdict (its caller left, or it was never sent): the next caller may probe. */
  public synchronized void releaseProbe() {
    probing = false;
  }

  /** True while calls skip the deployment. */
  public synchronized boolean isOpen() {
    return open && (nanoClock.getAsLong() < openUntil || probing);
  }
}
