package dev.llmrouter.cassettes;

import java.util.Optional;

/** Replay mode found no cassette for a request; the message says which, where, and what the closest one differs in. */
public final class ReplayMissException extends Exception {

  private final String scope;
  private final String key;
  private final transient CassetteStore.ClosestMatch closest;

  private ReplayMissException(String scope, String key, CassetteStore.ClosestMatch closest, String message) {
    super(message);
    this.scope = scope;
    this.key = key;
    this.closest = closest;
  }

  /** {@code closest} as found by {@link CassetteStore#closest}. */
  public static ReplayMissException of(String scope, CanonicalRequest request,
      Optional<CassetteStore.ClosestMatch> closest) {
    StringBuilder message = new StringBuilder()
        .append("no cassette for key ").append(request.key())
        .append(" in scope \"").append(scope).append("\" (file ")
        .append(scope).append('/').append(request.shortKey()).append(".json)\n");
    closest.ifPresentOrElse(match -> {
      message.append("closest cassette: ").append(match.path()).append('\n');
      message.append("differences (recorded -> requested):\n");
      match.differences().forEach(line -> message.append("  ").append(line).append('\n'));
    }, () -> message.append("the scope has no cassettes\n"));
    message.append("to record it, run the router with --mode record (or auto), "
        + "or send metadata x-cassette-mode: record where overrides are allowed");
    return new ReplayMissException(scope, request.key(), closest.orElse(null), message.toString());
  }

  public String scope() {
    return scope;
  }

  /** The full key of the missing cassette. */
  public String key() {
    return key;
  }

  public Optional<CassetteStore.ClosestMatch> closest() {
    return Optional.ofNullable(closest);
  }
}
