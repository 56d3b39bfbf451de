package dev.llmrouter.server.state;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.llmrouter.api.v1.SessionRecord;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.converse.SessionStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Converse sessions in the Redis that replicas share, so that a stream on any replica can resume one. A session is the
 * hash {@code llmr:session:{id}} (`record`: its {@link SessionRecord}, binary protobuf in base64; `key`: the id of the
 * caller key that started it, never the key), kept for the idle timeout once no stream drives it. The stream that
 * drives it holds {@code llmr:session:{id}:lease}, its random token (SET NX PX), renewed every {@link #RENEWAL}: a
 * replica that dies stops renewing, and its sessions are free again after {@link #LEASE}. Each step is one Lua script
 * that checks the token, so only the lease holder changes a session.
 */
final class RedisSessionStore implements SessionStore {

  /** How long a lease lasts unless renewed: a session of a replica that died waits this long to be resumed. */
  static final Duration LEASE = Duration.ofSeconds(15);
  /** How often a stream renews its lease: a renewal or two may fail (a slow Redis) before it lapses. */
  static final Duration RENEWAL = Duration.ofSeconds(5);
  /** The longest wait for Redis's answer: a stream fails with UNAVAILABLE rather than hang. */
  static final Duration ANSWER = Duration.ofSeconds(3);

  /** KEYS: session, lease. ARGV: record, key id, token, the session's time to live, the lease's. */
  private static final RedisScript CREATE = new RedisScript("""
      if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
      redis.call('HSET', KEYS[1], 'record', ARGV[1], 'key', ARGV[2])
      redis.call('PEXPIRE', KEYS[1], ARGV[4])
      redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[5])
      return 1""");
  /** KEYS: session, lease. ARGV: key id, token, the session's time to live, the lease's. {0}: none; {1}: driven. */
  private static final RedisScript CLAIM = new RedisScript("""
      if redis.call('HGET', KEYS[1], 'key') ~= ARGV[1] then return {0} end
      if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[4]) then return {1} end
      redis.call('PEXPIRE', KEYS[1], ARGV[3])
      return {2, redis.call('HGET', KEYS[1], 'record')}""");
  /** KEYS: session, lease. ARGV: token, the session's time to live, the lease's, then the record and key id, if any. */
  private static final RedisScript KEEP = new RedisScript("""
      if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
      if ARGV[4] then redis.call('HSET', KEYS[1], 'record', ARGV[4], 'key', ARGV[5]) end
      if redis.call('PEXPIRE', KEYS[1], ARGV[2]) == 0 then return 0 end
      redis.call('PEXPIRE', KEYS[2], ARGV[3])
      return 1""");
  /** KEYS: session, lease. ARGV: token, the idle timeout, `release` or `remove`. */
  private static final RedisScript LET_GO = new RedisScript("""
      if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
      redis.call('DEL', KEYS[2])
      if ARGV[3] == 'remove' then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
      return 1""");

  private final SharedRedis redis;
  private final Duration idleTimeout;
  /** The sessions that streams of this router drive now. */
  private final Set<String> drivenHere = ConcurrentHashMap.newKeySet();
  /** The last command sent for each session: the next waits for it, as pooled connections may overtake each other. */
  private final Map<String, Future<Void>> lastCommand = new ConcurrentHashMap<>();

  RedisSessionStore(SharedRedis redis, Duration idleTimeout) {
    this.redis = redis;
    this.idleTimeout = idleTimeout;
  }

  @Override
  public Optional<Duration> leaseRenewal() {
    return Optional.of(RENEWAL);
  }

  @Override
  public Future<Boolean> create(SessionRecord record, String token) {
    String id = record.getSessionId();
    return run(id, "start", CREATE, List.of(encode(record), record.getKeyId(), token, keepMillis(), leaseMillis()))
        .map(created -> {
          if (created.toInteger() == 1) {
            drivenHere.add(id);
          }
          return created.toInteger() == 1;
        });
  }

  @Override
  public Future<Optional<SessionRecord>> claim(String sessionId, String keyId, String token) {
    return run(sessionId, "resume", CLAIM, List.of(keyId, token, keepMillis(), leaseMillis())).map(answer -> {
      switch (answer.get(0).toInteger()) {
        case 0:
          return Optional.empty();
        case 1:
          throw SessionStore.drivenElsewhere(sessionId);
        default:
          drivenHere.add(sessionId);
          return Optional.of(decode(sessionId, answer.get(1).toString()));
      }
    });
  }

  @Override
  public Future<Void> keep(String sessionId, String token, Optional<SessionRecord> record) {
    List<String> args = new ArrayList<>(List.of(token, keepMillis(), leaseMillis()));
    record.ifPresent(kept -> args.addAll(List.of(encode(kept), kept.getKeyId())));
    return run(sessionId, "keep", KEEP, args).map(held -> {
      if (held.toInteger() == 0) {
        drivenHere.remove(sessionId);
        throw SessionStore.leaseLost(sessionId);
      }
      return null;
    });
  }

  @Override
  public Future<Void> release(String sessionId, String token) {
    return letGo(sessionId, token, "release");
  }

  @Override
  public Future<Void> remove(String sessionId, String token) {
    return letGo(sessionId, token, "remove");
  }

  private Future<Void> letGo(String sessionId, String token, String how) {
    drivenHere.remove(sessionId);
    return run(sessionId, how, LET_GO, List.of(token, String.valueOf(idleTimeout.toMillis()), how)).mapEmpty();
  }

  @Override
  public long size() {
    return drivenHere.size();
  }

  @Override
  public void cleanUp() {
    // Redis expires sessions by itself.
  }

  /**
   * Runs a script on a session's hash and lease, after the commands sent before for that session, within
   * {@link #ANSWER}; Redis's failure is UNAVAILABLE, naming what could not be done.
   */
  private Future<Response> run(String sessionId, String doing, RedisScript script, List<String> args) {
    List<String> keys = List.of("llmr:session:{" + sessionId + "}", "llmr:session:{" + sessionId + "}:lease");
    return inOrder(sessionId, () -> script.run(redis.client(), keys, args)
        .timeout(ANSWER.toMillis(), TimeUnit.MILLISECONDS)
        .recover(failure -> Future.failedFuture(new CallError(GrpcStatus.UNAVAILABLE, "cannot " + doing
            + " Converse session " + CallError.quote(sessionId) + ": Redis at " + redis.address()
            + " (shared_state.redis_url) did not answer (" + failure.getMessage() + "); resume the session once it "
            + "answers again"))));
  }

  private <T> Future<T> inOrder(String sessionId, Supplier<Future<T>> command) {
    Promise<T> answered = Promise.promise();
    Future<Void> sent = lastCommand.compute(sessionId, (id, before) -> {
      Future<T> next = before == null ? command.get() : before.transform(done -> command.get());
      next.onComplete(answered);
      return next.mapEmpty();
    });
    sent.onComplete(done -> lastCommand.remove(sessionId, sent));
    return answered.future();
  }

  /** While a stream drives the session, its hash outlives the lease by the idle timeout. */
  private String keepMillis() {
    return String.valueOf(idleTimeout.plus(LEASE).toMillis());
  }

  private static String leaseMillis() {
    return String.valueOf(LEASE.toMillis());
  }

  private static String encode(SessionRecord record) {
    return Base64.getEncoder().encodeToString(record.toByteArray());
  }

  private static SessionRecord decode(String sessionId, String stored) {
    try {
      return SessionRecord.parseFrom(Base64.getDecoder().decode(stored));
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      throw new CallError(GrpcStatus.DATA_LOSS, "Converse session " + CallError.quote(sessionId) + " is unreadable "
          + "in Redis: " + e.getMessage());
    }
  }
}
