package dev.llmrouter.server.auth;

import com.google.protobuf.FieldMask;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.Timestamps;
import com.google.rpc.BadRequest;
import dev.llmrouter.api.v1.CallerKey;
import dev.llmrouter.api.v1.KeyLimits;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.server.answer.CallError;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Creating, listing, changing and revoking caller keys, with the checks they share: what the `keys` commands and
 * `AdminService` do. A bad setting is INVALID_ARGUMENT naming its field; an unknown id, NOT_FOUND.
 */
public final class CallerKeys {

  private static final int MAX_NAME_CHARS = 100;
  private static final int MAX_GLOBS = 100;
  private static final int MAX_GLOB_CHARS = 200;

  private final KeyStore store;
  private final Quotas quotas;
  private final WallClock clock;

  public CallerKeys(KeyStore store, Quotas quotas, WallClock clock) {
    this.store = store;
    this.quotas = quotas;
    this.clock = clock;
  }

  /**
   * A key just made: as kept, and the key itself, shown this once.
   *
   * @param secret the key, `llmr_` and 43 letters and digits
   */
  public record Created(CallerKey key, String secret) {
    @Override
    public String toString() {
      return "Created[" + key.getId() + "]"; // never the key
    }
  }

  /**
   * Makes a key and keeps its hash.
   *
   * @param expiresIn how long it works from now; empty for ever
   */
  public Future<Created> create(String name, KeyLimits limits, Optional<Duration> expiresIn) {
    long now = clock.millis();
    CallerKey.Builder key = CallerKey.newBuilder().setId(KeySecret.newId()).setName(name).setLimits(limits)
        .setCreateTime(Timestamps.fromMillis(now));
    BadRequest.Builder violations = BadRequest.newBuilder();
    expiresIn.ifPresent(duration -> {
      if (duration.isNegative() || duration.isZero()) {
        violation(violations, "expires_in", "must be more than 0");
      } else {
        key.setExpireTime(Timestamps.fromMillis(now + duration.toMillis()));
      }
    });
    CallerKey checked;
    try {
      checked = checked(key.build(), violations);
    } catch (CallError invalid) {
      return Future.failedFuture(invalid);
    }
    String secret = KeySecret.generate();
    return store.add(checked, KeySecret.hex(KeySecret.hash(secret))).map(v -> new Created(checked, secret));
  }

  /** Every key, oldest first, with its spend. */
  public Future<List<CallerKey>> list() {
    return store.list().compose(keys -> Future.all(keys.stream().map(this::withSpend).toList())
        .map(all -> all.<CallerKey>list()));
  }

  /** Revokes a key for good (a second revocation keeps the first time). */
  public Future<CallerKey> revoke(String id) {
    return store.revoke(id, clock.millis()).compose(found -> found ? existing(id) : notFound(id));
  }

  /**
   * Changes the fields of a key that {@code mask} names to their values in {@code values} (see `UpdateKeyRequest`).
   */
  public Future<CallerKey> update(String id, CallerKey values, FieldMask mask) {
    return store.find(id).compose(found -> {
      if (found.isEmpty()) {
        return notFound(id);
      }
      CallerKey changed;
      try {
        changed = checked(changed(found.get(), values, mask), BadRequest.newBuilder());
      } catch (CallError invalid) {
        return Future.failedFuture(invalid);
      }
      return store.replace(changed).compose(replaced -> replaced ? existing(id) : notFound(id));
    });
  }

  private static CallerKey changed(CallerKey key, CallerKey values, FieldMask mask) {
    if (mask.getPathsCount() == 0) {
      throw invalid("update_mask", "names no field to change");
    }
    CallerKey.Builder changed = key.toBuilder();
    KeyLimits.Builder limits = changed.getLimitsBuilder();
    KeyLimits newLimits = values.getLimits();
    for (String path : mask.getPathsList()) {
      switch (path) {
        case "name" -> changed.setName(values.getName());
        case "expire_time" -> {
          if (values.hasExpireTime()) {
            changed.setExpireTime(values.getExpireTime());
          } else {
            changed.clearExpireTime();
          }
        }
        case "limits" -> changed.setLimits(newLimits);
        case "limits.models" -> limits.clearModels().addAllModels(newLimits.getModelsList());
        case "limits.requests_per_minute" -> limits.setRequestsPerMinute(newLimits.getRequestsPerMinute());
        case "limits.tokens_per_minute" -> limits.setTokensPerMinute(newLimits.getTokensPerMinute());
        case "limits.budget_usd" -> {
          if (newLimits.hasBudgetUsd()) {
            limits.setBudgetUsd(newLimits.getBudgetUsd());
          } else {
            limits.clearBudgetUsd();
          }
        }
        case "limits.budget_window" -> {
          if (newLimits.hasBudgetWindow()) {
            limits.setBudgetWindow(newLimits.getBudgetWindow());
          } else {
            limits.clearBudgetWindow();
          }
        }
        case "limits.cassette_modes" -> limits.clearCassetteModes().addAllCassetteModes(
            newLimits.getCassetteModesList());
        default -> throw invalid("update_mask", CallError.quote(path) + " is not a field a key update changes");
      }
    }
    return changed.build();
  }

  /** The key with its settings checked and its cassette modes in their canonical names. */
  private static CallerKey checked(CallerKey key, BadRequest.Builder violations) {
    String name = key.getName();
    if (name.isBlank() || name.length() > MAX_NAME_CHARS || !name.chars().allMatch(c -> c >= 0x20 && c != 0x7f)) {
      violation(violations, "name", "must be 1 to " + MAX_NAME_CHARS + " printable characters");
    }
    KeyLimits limits = key.getLimits();
    if (limits.getModelsCount() > MAX_GLOBS) {
      violation(violations, "limits.models", "has at most " + MAX_GLOBS + " globs");
    }
    for (int i = 0; i < limits.getModelsCount(); i++) {
      String glob = limits.getModels(i);
      if (glob.isEmpty() || glob.length() > MAX_GLOB_CHARS || !glob.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
        violation(violations, "limits.models[" + i + "]", "must be a model name or a glob like openai/*, of 1 to "
            + MAX_GLOB_CHARS + " printable characters without spaces");
      }
    }
    if (limits.getRequestsPerMinute() < 0) {
      violation(violations, "limits.requests_per_minute", "must be 0 (no limit) or more");
    }
    if (limits.getTokensPerMinute() < 0) {
      violation(violations, "limits.tokens_per_minute", "must be 0 (no limit) or more");
    }
    if (limits.hasBudgetUsd() && !(limits.getBudgetUsd() >= 0 && limits.getBudgetUsd() < 1e9)) {
      violation(violations, "limits.budget_usd", "must be a number of US dollars from 0 to a billion");
    }
    if (limits.hasBudgetWindow() && Durations.toMillis(limits.getBudgetWindow()) < Quotas.MINUTE_MILLIS) {
      violation(violations, "limits.budget_window", "must be at least a minute");
    }
    KeyLimits.Builder canonical = limits.toBuilder().clearCassetteModes();
    for (int i = 0; i < limits.getCassetteModesCount(); i++) {
      try {
        canonical.addCassetteModes(CassetteMode.parse(limits.getCassetteModes(i)).externalName());
      } catch (IllegalArgumentException e) {
        violation(violations, "limits.cassette_modes[" + i + "]", "must be one of " + CassetteMode.names() + ", not "
            + CallError.quote(limits.getCassetteModes(i)));
      }
    }
    if (violations.getFieldViolationsCount() > 0) {
      throw CallError.badRequest(violations.build());
    }
    return key.toBuilder().setLimits(canonical).build();
  }

  private Future<CallerKey> existing(String id) {
    return store.find(id).compose(found -> found.isPresent() ? withSpend(found.get()) : notFound(id));
  }

  private Future<CallerKey> withSpend(CallerKey key) {
    return quotas.spend(key, clock.millis()).map(spend -> key.toBuilder().setSpend(spend).build());
  }

  private static <T> Future<T> notFound(String id) {
    return Future.failedFuture(new CallError(GrpcStatus.NOT_FOUND, "no key has the id " + CallError.quote(id)
        + " (keys list shows them)"));
  }

  private static void violation(BadRequest.Builder violations, String field, String description) {
    violations.addFieldViolations(BadRequest.FieldViolation.newBuilder().setField(field).setDescription(description));
  }

  private static CallError invalid(String field, String description) {
    BadRequest.Builder violations = BadRequest.newBuilder();
    violation(violations, field, description);
    return CallError.badRequest(violations.build());
  }
}
