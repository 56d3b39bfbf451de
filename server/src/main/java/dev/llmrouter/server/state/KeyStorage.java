package dev.llmrouter.server.state;

import dev.llmrouter.server.auth.KeyStore;
import dev.llmrouter.server.auth.LocalQuotas;
import dev.llmrouter.server.auth.Quotas;
import dev.llmrouter.server.auth.SqliteKeyStore;
import dev.llmrouter.server.config.AuthConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where caller keys and their counters live: with `shared_state.redis_url`, in Redis, where every replica sees the
 * same keys, counters and spend; without it, in the data folder ({@code keys.db}) and in the router's memory.
 */
public final class KeyStorage {

  /** Each call's check is one round trip on a pooled connection: enough of them for every event loop at full load. */
  private static final int REDIS_CONNECTIONS = 32;
  /** Vert.x's default (24) fails checks beyond it under load; calls waiting here are bounded by the router's own. */
  private static final int REDIS_WAITING = 100_000;

  private final KeyStore store;
  private final Quotas quotas;
  private final Optional<Redis> redis;

  private KeyStorage(KeyStore store, Quotas quotas, Optional<Redis> redis) {
    this.store = store;
    this.quotas = quotas;
    this.redis = redis;
  }

  /**
   * Opens the storage the config names: Redis once it answers a PING, or {@code dataDir/keys.db} (opening that file
   * blocks: call it before serving, or off the event loop).
   */
  public static Future<KeyStorage> open(Vertx vertx, AuthConfig auth, Path dataDir) {
    if (auth.redisUrl().isEmpty()) {
      try {
        SqliteKeyStore store = SqliteKeyStore.open(vertx, dataDir);
        return Future.succeededFuture(new KeyStorage(store, new LocalQuotas(vertx, store), Optional.empty()));
      } catch (IllegalStateException cannotOpen) {
        return Future.failedFuture(cannotOpen.getMessage());
      }
    }
    String url = auth.redisUrl().get();
    Redis redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(url)
        .setMaxPoolSize(REDIS_CONNECTIONS).setMaxPoolWaiting(REDIS_WAITING));
    return redis.send(Request.cmd(Command.PING))
        .map(pong -> new KeyStorage(new RedisKeyStore(redis), new RedisQuotas(redis), Optional.of(redis)))
        .recover(failure -> redis.close().transform(closed -> Future.failedFuture("cannot reach Redis at "
            + withoutPassword(url) + " (shared_state.redis_url): " + failure.getMessage())));
  }

  public KeyStore store() {
    return store;
  }

  public Quotas quotas() {
    return quotas;
  }

  /** Saves what is pending (the local spend), then closes the store and the Redis client. */
  public Future<Void> close() {
    return quotas.close().eventually(store::close)
        .eventually(() -> redis.map(Redis::close).orElse(Future.succeededFuture()));
  }

  /** A Redis URL fit for a message: `redis://user:password@host` loses its `user:password@`. */
  private static String withoutPassword(String url) {
    return url.replaceFirst("//[^@/]*@", "//");
  }
}
