package dev.llmrouter.server.state;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallerKey;
import dev.llmrouter.server.auth.KeyStore;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Caller keys in Redis, shared by every replica. A key is the hash {@code llmr:key:{id}} (`settings`: its
 * {@link CallerKey} in base64, without what has a field of its own; `hash`; `revoked`; `last_used`, epoch milliseconds), found
 * by its hash through {@code llmr:keyhash:<hex hash>}, and listed in the set {@code llmr:keys}. Never the key itself.
 */
final class RedisKeyStore implements KeyStore {

  private static final String ALL = "llmr:keys";
  /** Sets a field of an existing hash only: a revocation or a change never brings a key back. */
  private static final RedisScript SET_IF_EXISTS = new RedisScript("""
      if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
      if ARGV[3] == 'keep' then redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
      else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
      return 1""");

  private final Redis redis;

  RedisKeyStore(Redis redis) {
    this.redis = redis;
  }

  private static String keyOf(String id) {
    return "llmr:key:{" + id + "}";
  }

  @Override
  public Future<Void> add(CallerKey key, String hash) {
    return redis.batch(List.of(
            Request.cmd(Command.HSET).arg(keyOf(key.getId())).arg("settings").arg(settings(key)).arg("hash").arg(hash),
            Request.cmd(Command.SET).arg("llmr:keyhash:" + hash).arg(key.getId()),
            Request.cmd(Command.SADD).arg(ALL).arg(key.getId())))
        .mapEmpty();
  }

  @Override
  public Future<Optional<CallerKey>> findByHash(String hash) {
    return redis.send(Request.cmd(Command.GET).arg("llmr:keyhash:" + hash))
        .compose(id -> id == null ? Future.succeededFuture(Optional.empty()) : find(id.toString()));
  }

  @Override
  public Future<Optional<CallerKey>> find(String id) {
    return redis.send(Request.cmd(Command.HMGET).arg(keyOf(id)).arg("settings").arg("revoked").arg("last_used"))
        .map(fields -> {
          if (fields.get(0) == null) {
            return Optional.empty();
          }
          CallerKey.Builder key;
          try {
            key = CallerKey.parseFrom(Base64.getDecoder().decode(fields.get(0).toString())).toBuilder();
          } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            throw new IllegalStateException("key " + id + " has unreadable settings in Redis: " + e.getMessage(), e);
          }
          if (fields.get(1) != null) {
            key.setRevokeTime(Timestamps.fromMillis(fields.get(1).toLong()));
          }
          if (fields.get(2) != null) {
            key.setLastUseTime(Timestamps.fromMillis(fields.get(2).toLong()));
          }
          return Optional.of(key.build());
        });
  }

  @Override
  public Future<List<CallerKey>> list() {
    return redis.send(Request.cmd(Command.SMEMBERS).arg(ALL))
        .compose(ids -> Future.all(ids.stream().map(id -> find(id.toString())).toList()))
        .map(found -> found.<Optional<CallerKey>>list().stream().flatMap(Optional::stream)
            .sorted(Comparator.comparing(key -> Timestamps.toNanos(key.getCreateTime()))).toList());
  }

  @Override
  public Future<Boolean> replace(CallerKey key) {
    return setIfExists(key.getId(), "settings", settings(key), "replace");
  }

  @Override
  public Future<Boolean> revoke(String id, long epochMillis) {
    return setIfExists(id, "revoked", String.valueOf(epochMillis), "keep");
  }

  @Override
  public Future<Void> used(String id, long epochMillis) {
    return setIfExists(id, "last_used", String.valueOf(epochMillis), "replace").mapEmpty();
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture(); // the Redis client is closed with the KeyStorage
  }

  private Future<Boolean> setIfExists(String id, String field, String value, String mode) {
    return SET_IF_EXISTS.run(redis, List.of(keyOf(id)), List.of(field, value, mode))
        .map(Response::toInteger).map(set -> set == 1);
  }

  /** Settings as stored: binary protobuf in base64. */
  private static String settings(CallerKey key) {
    return Base64.getEncoder().encodeToString(key.toBuilder().clearRevokeTime().clearLastUseTime().clearSpend()
        .build().toByteArray());
  }
}
