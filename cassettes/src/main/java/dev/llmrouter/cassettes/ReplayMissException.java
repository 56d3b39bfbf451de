package dev.llmrouter.cassettes;

import java.util.List;
import java.util.Optional;

/**
 * Replay mode found no cassette for a request; the message says which, where, what the closest one differs in, and
 * which match rules normalized the request.
 */
public final class ReplayMissException extends Exception {

  private final String scope;
  private final String key;
  private final transient CassetteStore.ClosestMatch closest;
  private final transient List<MatchRule> appliedRules;
  private final String requestSummary;

  private ReplayMissException(String scope, CanonicalRequest request, CassetteStore.ClosestMatch closest,
      String message) {
    super(message);
    this.scope = scope;
    this.key = request.key();
    this.closest = closest;
    this.appliedRules = request.appliedRules();
    this.requestSummary = request.json().path("model").asText() + "  " + Cassette.firstUserText(request.json());
  }

  /** {@code closest} as found by {@link CassetteStore#closest} for the request's normalized form. */
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
    if (request.appliedRules().isEmpty()) {
      message.append("no match rule changed this request\n");
    } else {
      message.append("match rules applied (the key and the differences are of the normalized request):\n");
      request.appliedRules().forEach(rule -> message.append("  ").append(rule).append('\n'));
    }
    message.append("to record it, run the router with --mode record (or auto), "
        + "or send metadata x-cassette-mode: record where overrides are allowed");
    return new ReplayMissException(scope, request, closest.orElse(null), message.toString());
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

  /** {@code model  first user text} of the missed request, as reports name it. */
  public String requestSummary() {
    return requestSummary;
  }

  /** The match rules that normalized the request before it was keyed. */
  public List<MatchRule> appliedRules() {
    return appliedRules;
  }
}
