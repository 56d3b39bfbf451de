package dev.llmrouter.server.state;

import dev.llmrouter.server.config.AuthConfig;
import dev.llmrouter.server.config.ConverseConfig;
import dev.llmrouter.server.converse.SessionStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import java.util.Optional;

/**
 * The Redis that replicas share (`shared_state.redis_url`): one client, a connection per event loop over a pool, for
 * the caller keys, their counters and the Converse sessions of every replica.
 */
public final class SharedRedis {

  /** Each event loop keeps one (see EventLoopRedis); the rest serve workers and start-up. */
  private static final int CONNECTIONS = 32;
  /** Vert.x's defaults (24 waiting for the pool, 2048 on a connection) fail checks beyond them under load; calls
   * waiting here are bounded by the router's own. */
  private static final int WAITING = 100_000;

  private final Redis client;
  private final String address;

  private SharedRedis(Redis client, String address) {
    this.client = client;
    this.address = address;
  }

  /** The Redis the config names, once it answers a PING; none without `shared_state.redis_url`. */
  public static Future<Optional<SharedRedis>> open(Vertx vertx, AuthConfig config) {
    return config.redisUrl().map(url -> connect(vertx, url).map(Optional::of))
        .orElse(Future.succeededFuture(Optional.empty()));
  }

  static Future<SharedRedis> connect(Vertx vertx, String url) {
    Redis client = new EventLoopRedis(Redis.createClient(vertx, new RedisOptions().setConnectionString(url)
        .setMaxPoolSize(CONNECTIONS).setMaxPoolWaiting(WAITING).setMaxWaitingHandlers(WAITING)));
    String address = withoutPassword(url);
    return client.send(Request.cmd(Command.PING)).map(pong -> new SharedRedis(client, address))
        .recover(failure -> client.close().transform(closed -> Future.failedFuture("cannot reach Redis at " + address
            + " (shared_state.redis_url): " + failure.getMessage())));
  }

  /** The Converse sessions of every replica, each kept for {@code config}'s idle timeout without a stream. */
  public SessionStore sessions(ConverseConfig config) {
    return new RedisSessionStore(this, config.idleTimeout());
  }

  Redis client() {
    return client;
  }

  /** Where Redis is, fit for a message: `redis://user:password@host` loses its `user:password@`. */
  String address() {
    return address;
  }

  public Future<Void> close() {
    return client.close();
  }

  private static String withoutPassword(String url) {
    return url.replaceFirst("//[^@/]*@", "//");
  }
}
