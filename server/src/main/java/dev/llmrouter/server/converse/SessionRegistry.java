package dev.llmrouter.server.converse;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.llmrouter.server.config.ConverseConfig;
import java.util.Optional;

/**
 * The sessions that can be resumed: bounded in number, each expiring after the configured idle time. An expired or
 * evicted session is closed, which stops its running model call and lets its history be collected.
 */
public final class SessionRegistry {

  private final Cache<String, ConverseSession> sessions;

  public SessionRegistry(ConverseConfig config, Ticker ticker) {
    this.sessions = Caffeine.newBuilder().expireAfterAccess(config.idleTimeout()).maximumSize(config.maxSessions())
        .ticker(ticker)
        .removalListener((String id, ConverseSession session, RemovalCause cause) -> {
          if (session != null && cause != RemovalCause.EXPLICIT) {
            session.close();
          }
        })
        .build();
  }

  public void add(ConverseSession session) {
    sessions.put(session.id(), session);
  }

  /** The session, which counts as activity: its idle time starts again. */
  public Optional<ConverseSession> find(String id) {
    return Optional.ofNullable(sessions.getIfPresent(id));
  }

  /** Ends a session for good (the client closed it). */
  public void remove(String id) {
    sessions.invalidate(id);
  }

  /** The number of live sessions, after expired ones are dropped. */
  public long size() {
    sessions.cleanUp();
    return sessions.estimatedSize();
  }

  /** Drops expired sessions now; called periodically so memory is freed without waiting for traffic. */
  public void cleanUp() {
    sessions.cleanUp();
  }
}
