package dev.llmrouter.server.auth;

import com.github.benmanes.caffeine.cache.AsyncCacheLoader;
import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallerKey;
import dev.llmrouter.api.v1.KeyLimits;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.config.AuthConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The one place calls are let in or refused, for every door: gRPC, the HTTP dialects and the admin listener.
 *
 * <ul>
 *   <li>{@link #authenticate}: who calls, from the key its headers present (`authorization: Bearer`, `x-api-key`,
 *   `x-goog-api-key`; `Basic` with the key as password, as browsers send it). No key, an unknown, revoked or
 *   expired one: UNAUTHENTICATED. An address that sent {@code max_failed_attempts} wrong keys within a minute gets
 *   RESOURCE_EXHAUSTED until that minute has passed, without its keys being looked at.
 *   <li>{@link #admit}: whether one model call may run: the model and the cassette mode must be the key's
 *   (PERMISSION_DENIED), its budget, tokens and calls of the minute must not be spent (RESOURCE_EXHAUSTED with a
 *   `RetryInfo`; reason `BUDGET_EXHAUSTED` for the budget).
 *   <li>{@link #charge}: counts an answered call's tokens and cost against the key; a replayed answer costs nothing.
 * </ul>
 *
 * Keys are compared by their SHA-256 hash, in constant time. A key found (or not found) is remembered for one second
 * of the router's clock: a key revoked on any replica is refused everywhere within that second. A key read half a
 * second ago or more is read again in the background when it is used. Each event loop also keeps the text of the last
 * key it let in, for half a second, and compares the next key with it (in constant time) before hashing: most calls
 * on a connection present the key the one before did. Nothing here logs, stores or quotes a key. Safe to use from
 * several event loops; never blocks them.
 */
public final class CallerAuth {

  /** The header of `Bearer` keys, in gRPC metadata and HTTP alike. */
  private static final String AUTHORIZATION = "authorization";

  private static final System.Logger LOG = System.getLogger("llmrouter");
  private static final Future<Caller> ANONYMOUS = Future.succeededFuture(Caller.ANONYMOUS);
  private static final Future<Void> ADMITTED = Future.succeededFuture();
  /** Longer than any key (a caller key has 48 characters, an admin key is usually 64): the rest is not hashed. */
  private static final int MAX_KEY_CHARS = 256;
  private static final Duration REMEMBERED = Duration.ofSeconds(1);
  /**
   * How long a thread's last key holds, and the age at which a read of a remembered key has it read again in the
   * background: a key in use is never forgotten, so its calls never take the store's path. That path, taken once a
   * second inside the calls' compiled code, made the JIT throw that code away and compile it again, every second.
   */
  private static final Duration REFRESHED = REMEMBERED.dividedBy(2);
  private static final long LAST_USE_EVERY_MILLIS = 60_000;
  private static final int MAX_CALLERS_REMEMBERED = 100_000;
  private static final String HOW_TO_SEND = "send it as `authorization: Bearer <key>` (gRPC metadata or HTTP header; "
      + "x-api-key and x-goog-api-key work too)";

  private final boolean required;
  private final byte[] adminKeyHash;
  private final int maxFailedAttempts;
  private final KeyStore store;
  private final Quotas quotas;
  private final WallClock clock;
  private final AsyncLoadingCache<KeyHash, Optional<Caller>> callers;
  private final Cache<String, Window> failures;
  private final Map<String, Long> lastUses = new ConcurrentHashMap<>();
  /** The last key each thread let in; in memory only, like the key in the call's own headers. */
  private final ThreadLocal<LastKey> lastKeys = new ThreadLocal<>();
  /** Bumped by {@link #forget}: a thread's last key from before is not used again. */
  private final AtomicLong forgotten = new AtomicLong();

  /**
   * @param store where the keys are
   * @param quotas where the keys' counters are
   * @param clock the router's clock: key expiry, windows and the memory of keys run on it
   */
  public CallerAuth(AuthConfig config, KeyStore store, Quotas quotas, WallClock clock) {
    this.required = config.required();
    this.adminKeyHash = config.adminKey().filter(key -> !key.value().isEmpty())
        .map(key -> KeySecret.hash(key.value())).orElse(null);
    this.maxFailedAttempts = config.maxFailedAttempts();
    this.store = store;
    this.quotas = quotas;
    this.clock = clock;
    // Caffeine's own pool: re-reads run off the event loops (the memory of the last keys keeps its upkeep rare).
    this.callers = Caffeine.newBuilder().ticker(clock.ticker()).expireAfterWrite(REMEMBERED)
        .refreshAfterWrite(REFRESHED).maximumSize(MAX_CALLERS_REMEMBERED).buildAsync(new AsyncCacheLoader<>() {
          @Override
          public CompletableFuture<Optional<Caller>> asyncLoad(KeyHash hash, Executor executor) {
            return read(hash);
          }

          @Override
          public CompletableFuture<Optional<Caller>> asyncReload(KeyHash hash, Optional<Caller> old,
              Executor executor) {
            // Started on Caffeine's pool: not a line of the store's code runs inside a call. A re-read that fails
            // keeps the key until its second is up, then the next call is refused UNAVAILABLE; cancelled, not
            // failed: Caffeine logs a failed re-read's stack trace.
            return CompletableFuture.supplyAsync(() -> read(hash), executor).thenCompose(Function.identity())
                .exceptionallyCompose(failure -> CompletableFuture.failedFuture(
                    new CancellationException("cannot read the caller keys: " + failure.getMessage())));
          }
        });
    this.failures = Caffeine.newBuilder().ticker(clock.ticker()).expireAfterWrite(Duration.ofMillis(
        Quotas.MINUTE_MILLIS)).maximumSize(MAX_CALLERS_REMEMBERED).executor(Runnable::run).build();
  }

  /** A router without caller keys: every call is let in, and there is no admin key. */
  public static CallerAuth none(WallClock clock) {
    return new CallerAuth(AuthConfig.NONE, null, null, clock);
  }

  /** Whether every call must present a key. */
  public boolean required() {
    return required;
  }

  /**
   * Who makes a call, from the key its headers present; anyone when the router requires no key.
   *
   * @param address the client's address, by which wrong keys are counted (asked for only when needed: it costs)
   */
  public Future<Caller> authenticate(MultiMap headers, Supplier<String> address) {
    return required ? identify(headers, address) : ANONYMOUS;
  }

  /** The admin key, whatever `auth.required` says: PERMISSION_DENIED for a caller key. */
  public Future<Caller> admin(MultiMap headers, Supplier<String> address) {
    if (adminKeyHash == null) {
      return Future.failedFuture(new CallError(GrpcStatus.UNAUTHENTICATED, "this router has no admin key: set "
          + "auth.admin_key in its config"));
    }
    return identify(headers, address).compose(caller -> caller.isAdmin() ? Future.succeededFuture(caller)
        : Future.failedFuture(CallError.withInfo(GrpcStatus.PERMISSION_DENIED, "only the admin key may do this; "
            + "key " + caller.keyId() + " is a caller key", "ADMIN_KEY_REQUIRED", Map.of(), null)));
  }

  private Future<Caller> identify(MultiMap headers, Supplier<String> address) {
    String presented;
    try {
      presented = presentedKey(headers);
    } catch (CallError malformed) {
      return failedAttempt(address, malformed);
    }
    if (presented == null) {
      return Future.failedFuture(unauthenticated("this router requires a key: " + HOW_TO_SEND, "KEY_MISSING"));
    }
    long now = clock.millis();
    Window failed = failures.estimatedSize() == 0 ? null : failures.getIfPresent(address.get());
    if (failed != null) {
      synchronized (failed) {
        if (failed.total(now) >= maxFailedAttempts) {
          return Future.failedFuture(CallError.withInfo(GrpcStatus.RESOURCE_EXHAUSTED, "too many wrong keys from "
              + "this address: its calls are refused until its minute has passed", "TOO_MANY_FAILED_ATTEMPTS",
              Map.of(), Duration.ofMillis(failed.endsMillis() - now)));
        }
      }
    }
    LastKey last = lastKeys.get();
    if (last != null && last.forgotten == forgotten.get() && clock.ticker().read() - last.caller.loadedNanos()
        < REFRESHED.toNanos() && sameKey(presented, last.text)) {
      return admitted(last.caller, last.future, now, address);
    }
    byte[] hash = KeySecret.hash(presented);
    if (adminKeyHash != null && MessageDigest.isEqual(hash, adminKeyHash)) {
      return Future.succeededFuture(Caller.ADMIN);
    }
    if (store == null || !KeySecret.wellFormed(presented)) {
      return failedAttempt(address, unknownKey());
    }
    long forgottenBefore = forgotten.get();
    return then(lookup(hash), found -> {
      // Found by its hash; compared again in constant time, as every key comparison is.
      if (found.isEmpty() || !MessageDigest.isEqual(hash, found.get().hashBytes())) {
        return failedAttempt(address, unknownKey());
      }
      LastKey lastKey = new LastKey(presented, found.get(), Future.succeededFuture(found.get()), forgottenBefore);
      lastKeys.set(lastKey);
      return admitted(lastKey.caller, lastKey.future, now, address);
    });
  }

  /** The caller of a key found, unless it was revoked or has expired since. */
  private Future<Caller> admitted(Caller caller, Future<Caller> future, long now, Supplier<String> address) {
    Optional<CallError> unusable = unusable(caller.key(), now);
    if (unusable.isPresent()) {
      return failedAttempt(address, unusable.get());
    }
    noteUse(caller.key().getId(), now);
    return future;
  }

  /** Whether a presented key is the one remembered, in a time that depends on their lengths only. */
  private static boolean sameKey(String presented, String remembered) {
    if (presented.length() != remembered.length()) {
      return false;
    }
    int difference = 0;
    for (int i = 0; i < presented.length(); i++) {
      difference |= presented.charAt(i) ^ remembered.charAt(i);
    }
    return difference == 0;
  }

  /**
   * Whether one model call of {@code caller} may run: the key as it is now (a long session sees it revoked or
   * changed), its models and cassette modes, then its budget and rate limits. A call let in counts as one of the
   * key's calls of the minute.
   */
  public Future<Void> admit(Caller caller, String model, CassetteMode mode) {
    if (caller.key() == null) {
      return ADMITTED;
    }
    // Read less than a second ago (the call was just let in): as current as what is remembered of it.
    if (clock.ticker().read() - caller.loadedNanos() < REMEMBERED.toNanos()) {
      return admitCurrent(caller, model, mode);
    }
    return then(lookup(caller.hashBytes()), found -> found.isEmpty() ? Future.failedFuture(unknownKey())
        : admitCurrent(found.get(), model, mode));
  }

  /** Whether a call of the key as it is now may run: usable, its model and mode, its counters. */
  private Future<Void> admitCurrent(Caller current, String model, CassetteMode mode) {
    long now = clock.millis();
    Optional<CallError> unusable = unusable(current.key(), now);
    if (unusable.isPresent()) {
      return Future.failedFuture(unusable.get());
    }
    String id = current.keyId();
    if (!current.mayUse(model)) {
      return Future.failedFuture(CallError.withInfo(GrpcStatus.PERMISSION_DENIED, "key " + id + " may not call "
          + CallError.quote(model) + "; it may call " + current.key().getLimits().getModelsList(),
          "MODEL_NOT_ALLOWED", Map.of("key_id", id), null));
    }
    if (!current.mayRun(mode)) {
      return Future.failedFuture(CallError.withInfo(GrpcStatus.PERMISSION_DENIED, "key " + id + " may not run "
          + "calls in cassette mode " + mode.externalName() + "; it may use "
          + current.key().getLimits().getCassetteModesList(), "CASSETTE_MODE_NOT_ALLOWED",
          Map.of("key_id", id), null));
    }
    if (!Quotas.limited(current.key().getLimits())) {
      return ADMITTED;
    }
    Future<Optional<Quotas.Refusal>> counted = quotas.admit(current.key(), now);
    if (!counted.succeeded()) {
      counted = onCurrentContext(counted).recover(failure -> Future.failedFuture(
          storeUnavailable("the caller keys' counters", failure)));
    }
    return then(counted, refusal -> refusal.isEmpty() ? ADMITTED
        : Future.failedFuture(refused(current.key(), refusal.get(), now)));
  }

  /**
   * {@code next} of the future's result: at once when it has one (the common case: a key remembered, counters in
   * memory), which spares every call the allocations of a composition; composed otherwise.
   */
  private static <T, R> Future<R> then(Future<T> future, Function<T, Future<R>> next) {
    return future.succeeded() ? next.apply(future.result()) : future.compose(next);
  }

  /** Counts an answered call's tokens and cost against its key; a replayed answer costs nothing. */
  public void charge(Caller caller, Usage usage, boolean replayed) {
    if (caller.key() == null || replayed) {
      return;
    }
    KeyLimits limits = caller.key().getLimits();
    long tokens = limits.getTokensPerMinute() > 0 ? usage.getInputTokens() + usage.getOutputTokens() : 0;
    long costNanos = limits.hasBudgetUsd() && usage.hasCostUsd() ? Math.round(usage.getCostUsd() * 1e9) : 0;
    if (tokens > 0 || costNanos > 0) {
      quotas.charge(caller.key(), tokens, costNanos, clock.millis()).onFailure(failure -> LOG.log(
          System.Logger.Level.WARNING, "cannot count a call against key " + caller.keyId() + ": " + failure));
    }
  }

  /** Forgets what is remembered of a key, so that a change made here holds here at once. */
  public void forget(String keyId) {
    forgotten.incrementAndGet();
    callers.synchronous().asMap().values().removeIf(found -> found.isPresent()
        && found.get().keyId().equals(keyId));
  }

  /** The key a call presents, null when none; CallError UNAUTHENTICATED when what is there is no key. */
  private static String presentedKey(MultiMap headers) {
    String authorization = headers.get(AUTHORIZATION);
    if (authorization != null) {
      int space = authorization.indexOf(' ');
      String scheme = space < 0 ? authorization : authorization.substring(0, space);
      String credentials = space < 0 ? "" : authorization.substring(space + 1).strip();
      if (scheme.equalsIgnoreCase("Bearer")) {
        return bounded(AUTHORIZATION, credentials);
      }
      if (scheme.equalsIgnoreCase("Basic")) {
        return bounded(AUTHORIZATION, basicPassword(credentials));
      }
      throw unauthenticated("authorization must be `Bearer <key>`", "KEY_INVALID");
    }
    for (String header : new String[] {"x-api-key", "x-goog-api-key"}) {
      String value = headers.get(header);
      if (value != null) {
        return bounded(header, value.strip());
      }
    }
    return null;
  }

  /** The password of HTTP Basic credentials (the user name is not looked at). */
  private static String basicPassword(String credentials) {
    try {
      String decoded = new String(Base64.getDecoder().decode(credentials), StandardCharsets.UTF_8);
      int colon = decoded.indexOf(':');
      return colon < 0 ? "" : decoded.substring(colon + 1);
    } catch (IllegalArgumentException notBase64) {
      throw unauthenticated("authorization Basic credentials are not base64", "KEY_INVALID");
    }
  }

  private static String bounded(String header, String key) {
    if (key.isEmpty()) {
      throw unauthenticated(header + " holds no key: " + HOW_TO_SEND, "KEY_INVALID");
    }
    if (key.length() > MAX_KEY_CHARS) {
      throw unauthenticated(header + " holds " + key.length() + " characters; a key has at most " + MAX_KEY_CHARS,
          "KEY_INVALID");
    }
    for (int i = 0; i < key.length(); i++) {
      if (key.charAt(i) <= 0x20 || key.charAt(i) >= 0x7f) {
        throw unauthenticated(header + " holds characters no key has (keys are printable ASCII)", "KEY_INVALID");
      }
    }
    return key;
  }

  /** Why a key found cannot be used now: revoked or expired. */
  private static Optional<CallError> unusable(CallerKey key, long now) {
    if (key.hasRevokeTime()) {
      return Optional.of(unauthenticated("key " + key.getId() + " was revoked at "
          + Timestamps.toString(key.getRevokeTime()), "KEY_REVOKED"));
    }
    if (key.hasExpireTime() && Timestamps.toMillis(key.getExpireTime()) <= now) {
      return Optional.of(unauthenticated("key " + key.getId() + " expired at "
          + Timestamps.toString(key.getExpireTime()), "KEY_EXPIRED"));
    }
    return Optional.empty();
  }

  /** Counts a wrong key against the address; says so once in the log when the address is cut off. */
  private Future<Caller> failedAttempt(Supplier<String> client, CallError error) {
    long now = clock.millis();
    String address = client.get();
    Window counted = failures.asMap().compute(address, (a, window) -> window == null ? new Window() : window);
    synchronized (counted) {
      counted.add(now, 1, Quotas.MINUTE_MILLIS);
      if (counted.total(now) == maxFailedAttempts) {
        LOG.log(System.Logger.Level.WARNING, "client " + address + " sent " + maxFailedAttempts + " wrong keys "
            + "within a minute: its calls are refused for " + (counted.endsMillis() - now) / 1000 + " s");
      }
    }
    return Future.failedFuture(error);
  }

  /** The key with this hash, remembered for a second; read from the store (by the hash's hex form) otherwise. */
  private Future<Optional<Caller>> lookup(byte[] hash) {
    KeyHash remembering = new KeyHash(hash);
    CompletableFuture<Optional<Caller>> remembered = callers.getIfPresent(remembering);
    if (remembered != null && remembered.isDone() && !remembered.isCompletedExceptionally()) {
      return Future.succeededFuture(remembered.join());
    }
    CompletableFuture<Optional<Caller>> found = callers.get(remembering);
    Context context = Vertx.currentContext();
    Future<Optional<Caller>> loaded = context == null ? Future.fromCompletionStage(found)
        : Future.fromCompletionStage(found, context);
    return loaded.recover(failure -> Future.failedFuture(storeUnavailable("the caller keys", failure)));
  }

  /** The key with this hash, read from the store (by the hash's hex form). */
  private CompletableFuture<Optional<Caller>> read(KeyHash hash) {
    return store.findByHash(KeySecret.hex(hash.bytes())).map(key -> key.map(k -> Caller.of(k, hash.bytes(),
        clock.ticker().read()))).toCompletionStage().toCompletableFuture();
  }

  /** The store failed: UNAVAILABLE, and the call is refused (a key that cannot be checked lets nothing through). */
  private static CallError storeUnavailable(String what, Throwable failure) {
    return CallError.withInfo(GrpcStatus.UNAVAILABLE, what + " cannot be read: " + failure.getMessage(),
        "KEY_STORE_UNAVAILABLE", Map.of(), null);
  }

  /** Writes a key's last use at most once a minute per router. */
  private void noteUse(String id, long now) {
    Long last = lastUses.get(id);
    if (last == null || now - last >= LAST_USE_EVERY_MILLIS) {
      lastUses.put(id, now);
      store.used(id, now).onFailure(failure -> LOG.log(System.Logger.Level.WARNING, "cannot note the last use of "
          + "key " + id + ": " + failure));
    }
  }

  private static CallError refused(CallerKey key, Quotas.Refusal refusal, long now) {
    Duration wait = Duration.ofMillis(Math.max(1, refusal.retryAfterMillis()));
    String rollsOver = " until " + Instant.ofEpochMilli(now).plus(wait) + " (" + (wait.toMillis() + 999) / 1000
        + " s)";
    KeyLimits limits = key.getLimits();
    return switch (refusal.limit()) {
      case BUDGET -> CallError.withInfo(GrpcStatus.RESOURCE_EXHAUSTED, "key " + key.getId() + " has spent its "
          + "budget of " + limits.getBudgetUsd() + " USD; calls are refused" + rollsOver, "BUDGET_EXHAUSTED",
          Map.of("key_id", key.getId()), wait);
      case TOKENS_PER_MINUTE -> CallError.withInfo(GrpcStatus.RESOURCE_EXHAUSTED, "key " + key.getId() + " used its "
          + limits.getTokensPerMinute() + " tokens per minute; calls are refused" + rollsOver, "KEY_RATE_LIMITED",
          Map.of("key_id", key.getId(), "limit", "tokens_per_minute"), wait);
      case REQUESTS_PER_MINUTE -> CallError.withInfo(GrpcStatus.RESOURCE_EXHAUSTED, "key " + key.getId() + " made "
          + "its " + limits.getRequestsPerMinute() + " calls per minute; calls are refused" + rollsOver,
          "KEY_RATE_LIMITED", Map.of("key_id", key.getId(), "limit", "requests_per_minute"), wait);
    };
  }

  private static CallError unknownKey() {
    return unauthenticated("the key presented is not a key of this router", "KEY_INVALID");
  }

  private static CallError unauthenticated(String message, String reason) {
    return CallError.withInfo(GrpcStatus.UNAUTHENTICATED, message, reason, Map.of(), null);
  }

  /** A future whose callbacks run on the caller's context, whichever thread (a worker, Redis's) completes it. */
  private static <T> Future<T> onCurrentContext(Future<T> future) {
    Context context = Vertx.currentContext();
    return context == null || future.isComplete() ? future
        : Future.fromCompletionStage(future.toCompletionStage(), context);
  }

  /** The last key a thread let in: its text, its caller (and as a future), and {@link #forgotten} when it was read. */
  private record LastKey(String text, Caller caller, Future<Caller> future, long forgotten) {
  }

  /** A key's SHA-256 hash as the remembered keys' map key, compared by value: no hex form made for every call. */
  private record KeyHash(byte[] bytes) {

    @Override
    public boolean equals(Object other) {
      return other instanceof KeyHash that && Arrays.equals(bytes, that.bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }
  }
}
