package dev.llmrouter.server.config;

import dev.llmrouter.server.provider.ProviderConfig;
import java.util.Optional;

/**
 * Who may call the router and where its caller keys live: `auth:`, `shared_state:` and `admin.metrics_public`.
 *
 * @param required whether every call must present a valid key, a caller key or the admin key; without it keys are
 *     not looked at
 * @param adminKey the admin key, from the environment: the one key that may manage caller keys (and, when keys are
 *     required, read the call log); empty when none is configured
 * @param maxFailedAttempts the most calls with a wrong key one client address may make per minute; beyond it the
 *     address's calls are refused until its minute has passed
 * @param metricsPublic whether `/metrics` on the admin listener answers without a key
 * @param redisUrl `shared_state.redis_url`: keys, rate counters, spend and Converse sessions in Redis, shared by every
 *     replica; empty for keys in the data folder (`keys.db`), counters and sessions in memory
 */
public record AuthConfig(boolean required, Optional<ProviderConfig.ApiKey> adminKey, int maxFailedAttempts,
    boolean metricsPublic, Optional<String> redisUrl) {

  public static final int DEFAULT_MAX_FAILED_ATTEMPTS = 20;

  /** No keys: the embedded default, on loopback. */
  public static final AuthConfig NONE = new AuthConfig(false, Optional.empty(), DEFAULT_MAX_FAILED_ATTEMPTS, false,
      Optional.empty());

  /** Whether the router keeps caller keys: they are required, or an admin key is there to manage them. */
  public boolean keysInUse() {
    return required || adminKey.isPresent();
  }

  @Override
  public String toString() {
    // Neither the admin key nor a password in the Redis URL.
    return "AuthConfig[required=" + required + ", adminKey=" + adminKey + ", maxFailedAttempts=" + maxFailedAttempts
        + ", metricsPublic=" + metricsPublic + ", redis=" + redisUrl.isPresent() + "]";
  }
}
