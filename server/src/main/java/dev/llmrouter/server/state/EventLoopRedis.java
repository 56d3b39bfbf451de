package dev.llmrouter.server.state;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The shared Redis as each event loop uses it: one connection per loop, made on that loop and kept, carrying the
 * commands of its calls pipelined, so that a command neither takes a pooled connection nor answers on another loop's
 * thread (see docs/benchmarks.md, "Caller keys"). Commands from other threads (workers, start-up) go through the pool.
 * A connection that fails or ends is dropped, and the next command on its loop makes a new one.
 */
final class EventLoopRedis implements Redis {

  private final Redis pool;
  private final Map<Thread, Future<RedisConnection>> byLoop = new ConcurrentHashMap<>();

  EventLoopRedis(Redis pool) {
    this.pool = pool;
  }

  @Override
  public Future<Response> send(Request command) {
    Future<RedisConnection> connection = ofThisLoop();
    return connection == null ? pool.send(command) : connection.compose(open -> open.send(command));
  }

  @Override
  public Future<List<Response>> batch(List<Request> commands) {
    Future<RedisConnection> connection = ofThisLoop();
    return connection == null ? pool.batch(commands) : connection.compose(open -> open.batch(commands));
  }

  @Override
  public Future<RedisConnection> connect() {
    return pool.connect();
  }

  @Override
  public Future<Void> close() {
    byLoop.values().forEach(connection -> connection.onSuccess(RedisConnection::close));
    byLoop.clear();
    return pool.close();
  }

  /** The calling event loop's connection (being made, or made); null off an event loop. */
  private Future<RedisConnection> ofThisLoop() {
    if (!Context.isOnEventLoopThread()) {
      return null;
    }
    Thread loop = Thread.currentThread();
    Future<RedisConnection> kept = byLoop.get(loop);
    if (kept != null && !kept.failed()) {
      return kept;
    }
    Future<RedisConnection> made = pool.connect();
    byLoop.put(loop, made);
    made.onSuccess(open -> open.exceptionHandler(failure -> drop(loop, made)).endHandler(end -> drop(loop, made)))
        .onFailure(failure -> drop(loop, made));
    return made;
  }

  private void drop(Thread loop, Future<RedisConnection> connection) {
    if (byLoop.remove(loop, connection)) {
      connection.onSuccess(RedisConnection::close);
    }
  }
}
