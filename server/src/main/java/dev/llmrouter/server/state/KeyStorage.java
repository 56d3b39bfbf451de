package dev.llmrouter.server.state;

import dev.llmrouter.server.auth.KeyStore;
import dev.llmrouter.server.auth.LocalQuotas;
import dev.llmrouter.server.auth.Quotas;
import dev.llmrouter.server.auth.SqliteKeyStore;
import dev.llmrouter.server.config.AuthConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where caller keys and their counters live: with `shared_state.redis_url`, in Redis, where every replica sees the
 * same keys, counters and spend; without it, in the data folder ({@code keys.db}) and in the router's memory.
 */
public final class KeyStorage {

  private final KeyStore store;
  private final Quotas quotas;
  /** The Redis this storage opened, to close with it; empty when it has none, or uses the router's. */
  private final Optional<SharedRedis> ownRedis;

  private KeyStorage(KeyStore store, Quotas quotas, Optional<SharedRedis> ownRedis) {
    this.store = store;
    this.quotas = quotas;
    this.ownRedis = ownRedis;
  }

  /**
   * Opens the storage the config names: Redis once it answers a PING, or {@code dataDir/keys.db} (opening that file
   * blocks: call it before serving, or off the event loop).
   */
  public static Future<KeyStorage> open(Vertx vertx, AuthConfig auth, Path dataDir) {
    return SharedRedis.open(vertx, auth).compose(redis -> redis.isPresent()
        ? Future.succeededFuture(inRedis(redis.get(), redis))
        : inDataDir(vertx, dataDir));
  }

  /** The storage of a router: in its shared Redis when it has one (closed by the router), or in the data folder. */
  public static Future<KeyStorage> open(Vertx vertx, Optional<SharedRedis> sharedRedis, Path dataDir) {
    return sharedRedis.map(redis -> Future.succeededFuture(inRedis(redis, Optional.empty())))
        .orElseGet(() -> inDataDir(vertx, dataDir));
  }

  private static KeyStorage inRedis(SharedRedis redis, Optional<SharedRedis> own) {
    return new KeyStorage(new RedisKeyStore(redis.client()), new RedisQuotas(redis.client()), own);
  }

  private static Future<KeyStorage> inDataDir(Vertx vertx, Path dataDir) {
    try {
      SqliteKeyStore store = SqliteKeyStore.open(vertx, dataDir);
      return Future.succeededFuture(new KeyStorage(store, new LocalQuotas(vertx, store), Optional.empty()));
    } catch (IllegalStateException cannotOpen) {
      return Future.failedFuture(cannotOpen.getMessage());
    }
  }

  public KeyStore store() {
    return store;
  }

  public Quotas quotas() {
    return quotas;
  }

  /** Saves what is pending (the local spend), then closes the store and the Redis client it opened. */
  public Future<Void> close() {
    return quotas.close().eventually(store::close)
        .eventually(() -> ownRedis.map(SharedRedis::close).orElse(Future.succeededFuture()));
  }
}
