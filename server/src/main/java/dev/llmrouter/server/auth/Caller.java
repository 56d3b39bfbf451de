package dev.llmrouter.server.auth;

import dev.llmrouter.api.v1.CallerKey;
import dev.llmrouter.cassettes.CassetteMode;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Who made a call, once authenticated: a caller key with its limits, the admin key, or anyone at all on a router that
 * requires no key. The call log keeps its {@link #keyId()} and {@link #keyName()}, never the key.
 */
public final class Caller {

  /** Anyone, on a router that requires no key: every model, every mode, no limit. */
  public static final Caller ANONYMOUS = new Caller(null, new byte[0], "", "", 0);
  /** The admin key: every model, every mode, no limit, and the admin calls. */
  static final Caller ADMIN = new Caller(null, new byte[0], "admin", "admin", 0);

  private final CallerKey key;
  private final byte[] hashBytes;
  private final String keyId;
  private final String keyName;
  private final Pattern models;
  private final Set<CassetteMode> modes;
  private final long loadedNanos;

  private Caller(CallerKey key, byte[] hashBytes, String keyId, String keyName, long loadedNanos) {
    this.key = key;
    this.loadedNanos = loadedNanos;
    this.hashBytes = hashBytes;
    this.keyId = keyId;
    this.keyName = keyName;
    this.models = key == null ? null : globs(key.getLimits().getModelsList());
    this.modes = key == null || key.getLimits().getCassetteModesCount() == 0 ? EnumSet.allOf(CassetteMode.class)
        : key.getLimits().getCassetteModesList().stream().map(CassetteMode::parse)
            .collect(Collectors.toCollection(() -> EnumSet.noneOf(CassetteMode.class)));
  }

  /**
   * The caller of a stored key.
   *
   * @param hash the SHA-256 hash it was found by
   * @param loadedNanos when it was read from the store, on the router's ticker
   */
  static Caller of(CallerKey key, byte[] hash, long loadedNanos) {
    return new Caller(key, hash, key.getId(), key.getName(), loadedNanos);
  }

  /** The key's id (`admin` for the admin key); empty when no key was needed. */
  public String keyId() {
    return keyId;
  }

  /** The key's name (`admin` for the admin key); empty when no key was needed. */
  public String keyName() {
    return keyName;
  }

  /** Whether the caller may call this model (or alias), by the name it sends. */
  public boolean mayUse(String model) {
    return models == null || models.matcher(model).matches();
  }

  boolean mayRun(CassetteMode mode) {
    return modes.contains(mode);
  }

  boolean isAdmin() {
    return this == ADMIN;
  }

  /** The caller key, when the caller presented one (not the admin key). */
  CallerKey key() {
    return key;
  }

  /** When the key was read from the store, on the router's ticker. */
  long loadedNanos() {
    return loadedNanos;
  }

  /** The hash of the caller key, to compare it. */
  byte[] hashBytes() {
    return hashBytes;
  }

  /** One pattern for the key's model globs, where `*` stands for any characters; null (any model) when none. */
  private static Pattern globs(List<String> globs) {
    if (globs.isEmpty()) {
      return null;
    }
    return Pattern.compile(globs.stream().map(glob -> String.join(".*", quoted(glob.split("\\*", -1))))
        .collect(Collectors.joining("|")));
  }

  private static List<String> quoted(String[] literals) {
    return java.util.Arrays.stream(literals).map(literal -> literal.isEmpty() ? "" : Pattern.quote(literal)).toList();
  }
}
