package dev.llmrouter.server.auth;

import dev.llmrouter.api.v1.CallerKey;
import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;

/**
 * Where caller keys are kept: each key's settings (a {@link CallerKey}: id, name, limits, creation and expiry), the
 * hex SHA-256 hash it is found by, when it was revoked and last used. Never the key itself. Every operation is
 * asynchronous and never blocks the event loop that calls it; a store is safe to use from several event loops.
 */
public interface KeyStore {

  /** Adds a new key, found by {@code hash} from then on. */
  Future<Void> add(CallerKey key, String hash);

  /** The key with this hash, with its revocation and last use; empty when there is none. */
  Future<Optional<CallerKey>> findByHash(String hash);

  /** The key with this id; empty when there is none. */
  Future<Optional<CallerKey>> find(String id);

  /** Every key, oldest first. */
  Future<List<CallerKey>> list();

  /** Replaces a key's name, limits and expiry with {@code key}'s (found by its id); false when there is no such key. */
  Future<Boolean> replace(CallerKey key);

  /** Marks a key revoked at this time, unless it was already; false when there is no such key. */
  Future<Boolean> revoke(String id, long epochMillis);

  /** Notes that a key was used at this time. */
  Future<Void> used(String id, long epochMillis);

  Future<Void> close();
}
