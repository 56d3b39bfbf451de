package dev.llmrouter.server.converse;

import dev.llmrouter.api.v1.SessionRecord;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * One stream's hold on the session it drives: the random token of its lease in the {@link SessionStore}, renewed
 * while the stream lives where leases lapse (so that a router that died frees its sessions). Used from the stream's
 * context only.
 */
public final class SessionLease {

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Vertx vertx;
  private final SessionStore store;
  private final String sessionId;
  private final String token;
  private long renewal = -1;

  public SessionLease(Vertx vertx, SessionStore store, String sessionId) {
    this.vertx = vertx;
    this.store = store;
    this.sessionId = sessionId;
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    this.token = HexFormat.of().formatHex(bytes);
  }

  public String sessionId() {
    return sessionId;
  }

  /** Keeps a new session under this lease; false when its id is taken. */
  public Future<Boolean> create(SessionRecord record) {
    return store.create(record, token);
  }

  /** Takes the lease of a kept session of {@code keyId}: its record, or empty when there is none. */
  public Future<Optional<SessionRecord>> claim(String keyId) {
    return store.claim(sessionId, keyId, token);
  }

  /** Renews the lease as often as the store needs, until released; {@code lost} hears of a failed renewal. */
  public void renewWhileHeld(Handler<Throwable> lost) {
    store.leaseRenewal().ifPresent(every -> {
      renewal = vertx.setPeriodic(every.toMillis(), id -> store.keep(sessionId, token, Optional.empty())
          .onFailure(failure -> {
            stopRenewing();
            lost.handle(failure);
          }));
    });
  }

  /** Keeps the session's new state (and renews the lease). */
  public Future<Void> keep(SessionRecord record) {
    return store.keep(sessionId, token, Optional.of(record));
  }

  /** Lets the session go: another stream may resume it. */
  public Future<Void> release() {
    stopRenewing();
    return store.release(sessionId, token);
  }

  /** Ends the session for good. */
  public Future<Void> remove() {
    stopRenewing();
    return store.remove(sessionId, token);
  }

  private void stopRenewing() {
    if (renewal != -1) {
      vertx.cancelTimer(renewal);
      renewal = -1;
    }
  }
}
