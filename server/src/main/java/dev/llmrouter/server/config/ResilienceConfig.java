package dev.llmrouter.server.config;

import java.time.Duration;

/**
 * Retries and circuit breaking, for every deployment.
 *
 * @param maxAttempts the most attempts on one target, the first included
 * @param initialBackoff the backoff ceiling after the first failure; it doubles per attempt (full jitter below it)
 * @param maxBackoff the largest backoff ceiling
 * @param breakerFailureThreshold consecutive failures that open a deployment's circuit
 * @param breakerCoolDown how long an open circuit stays open before one probe is let through
 */
public record ResilienceConfig(int maxAttempts, Duration initialBackoff, Duration maxBackoff,
    int breakerFailureThreshold, Duration breakerCoolDown) {

  public static final ResilienceConfig DEFAULT =
      new ResilienceConfig(3, Duration.ofMillis(250), Duration.ofSeconds(10), 5, Duration.ofSeconds(30));
}
