package dev.llmrouter.server.converse;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.llmrouter.api.v1.SessionRecord;
import dev.llmrouter.server.config.ConverseConfig;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.Optional;

/**
 * The sessions of one router, in its memory: at most `converse.max_sessions` of them, each kept for the idle timeout
 * after its stream let it go (a session a stream drives does not expire). Safe from every event loop: each change is
 * one atomic step of the cache's map.
 */
public final class MemorySessionStore implements SessionStore {

  private static final Duration NEVER = Duration.ofNanos(Long.MAX_VALUE);

  /** A kept session, and the token of the stream driving it ({@code null} when none does). */
  private record Kept(SessionRecord record, String token) {
  }

  private final Cache<String, Kept> sessions;

  public MemorySessionStore(ConverseConfig config, Ticker ticker) {
    Duration idle = config.idleTimeout();
    // The idle time runs from the last change: the lease given up, or the session kept with none.
    this.sessions = Caffeine.newBuilder()
        .expireAfter(Expiry.writing((String id, Kept kept) -> kept.token() == null ? idle : NEVER))
        .maximumSize(config.maxSessions()).ticker(ticker).build();
  }

  @Override
  public Optional<Duration> leaseRenewal() {
    return Optional.empty();
  }

  @Override
  public Future<Boolean> create(SessionRecord record, String token) {
    return Future.succeededFuture(sessions.asMap().putIfAbsent(record.getSessionId(), new Kept(record, token)) == null);
  }

  @Override
  public Future<Optional<SessionRecord>> claim(String sessionId, String keyId, String token) {
    Kept seen = sessions.getIfPresent(sessionId);
    if (seen == null || !seen.record().getKeyId().equals(keyId)) {
      return Future.succeededFuture(Optional.empty());
    }
    Kept[] claimed = new Kept[1];
    sessions.asMap().computeIfPresent(sessionId, (id, kept) -> {
      if (kept.token() != null) {
        return kept;
      }
      claimed[0] = new Kept(kept.record(), token);
      return claimed[0];
    });
    if (claimed[0] == null) {
      return sessions.getIfPresent(sessionId) == null ? Future.succeededFuture(Optional.empty())
          : Future.failedFuture(SessionStore.drivenElsewhere(sessionId));
    }
    return Future.succeededFuture(Optional.of(claimed[0].record()));
  }

  @Override
  public Future<Void> keep(String sessionId, String token, Optional<SessionRecord> record) {
    boolean[] held = new boolean[1];
    sessions.asMap().computeIfPresent(sessionId, (id, kept) -> {
      if (!token.equals(kept.token())) {
        return kept;
      }
      held[0] = true;
      return new Kept(record.orElse(kept.record()), token);
    });
    return held[0] ? Future.succeededFuture() : Future.failedFuture(SessionStore.leaseLost(sessionId));
  }

  @Override
  public Future<Void> release(String sessionId, String token) {
    sessions.asMap().computeIfPresent(sessionId, (id, kept) -> token.equals(kept.token())
        ? new Kept(kept.record(), null) : kept);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> remove(String sessionId, String token) {
    sessions.asMap().computeIfPresent(sessionId, (id, kept) -> token.equals(kept.token()) ? null : kept);
    return Future.succeededFuture();
  }

  @Override
  public long size() {
    sessions.cleanUp();
    return sessions.estimatedSize();
  }

  @Override
  public void cleanUp() {
    sessions.cleanUp();
  }
}
