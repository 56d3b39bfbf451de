package dev.llmrouter.server.converse;

import dev.llmrouter.api.v1.SessionRecord;
import dev.llmrouter.server.answer.CallError;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.Optional;

/**
 * Where Converse sessions are kept between streams: the router's memory, or Redis when replicas share state. A session
 * is kept as its {@link SessionRecord}; the one stream that drives it holds its lease, a random token, and only the
 * holder may change or end it. A session without a lease expires after the idle timeout.
 *
 * <p>The operations on one session that one router issues take effect in the order it issued them.
 */
public interface SessionStore {

  /** How often a stream renews its lease; empty when a lease lasts as long as its stream (in memory). */
  Optional<Duration> leaseRenewal();

  /** Keeps a new session, leased to {@code token}; false when a session with its id is kept already. */
  Future<Boolean> create(SessionRecord record, String token);

  /**
   * Leases a kept session of the key {@code keyId} to {@code token}: its record, or empty when there is none (it
   * ended, expired, or is another key's). Fails with {@link #drivenElsewhere} when another stream holds its lease.
   */
  Future<Optional<SessionRecord>> claim(String sessionId, String keyId, String token);

  /**
   * Renews the lease, and keeps {@code record} as the session's state when given. Fails with {@link #leaseLost}
   * when {@code token} no longer holds the lease.
   */
  Future<Void> keep(String sessionId, String token, Optional<SessionRecord> record);

  /** Gives the lease up: the session stays resumable for the idle timeout. */
  Future<Void> release(String sessionId, String token);

  /** Ends the session for good. */
  Future<Void> remove(String sessionId, String token);

  /** The sessions this router keeps (in memory), or drives now (in Redis). */
  long size();

  /** Drops expired sessions now, where the store does not do it by itself. */
  void cleanUp();

  /** The refusal of a second stream for a session that a stream drives: one message for every store. */
  static CallError drivenElsewhere(String sessionId) {
    return new CallError(GrpcStatus.FAILED_PRECONDITION, "session " + CallError.quote(sessionId)
        + " is driven by another stream: at most one stream drives a session at a time. End that stream (or wait "
        + "until the router notices it dropped), then resume");
  }

  /** What a stream learns when its lease was taken from it (it expired, or its session was dropped). */
  static CallError leaseLost(String sessionId) {
    return new CallError(GrpcStatus.ABORTED, "session " + CallError.quote(sessionId)
        + " is no longer this stream's: its lease lapsed and the session expired or was resumed elsewhere; resume it "
        + "on a new stream");
  }
}
