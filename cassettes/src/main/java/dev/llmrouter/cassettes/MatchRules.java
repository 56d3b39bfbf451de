package dev.llmrouter.cassettes;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The match rules of a router: those applied to every call ({@code cassettes.match}), and named sets that a call
 * adds by naming one ({@code x-cassette-match: <name>}, {@code cassettes.match_sets}). Each rule applies only to the
 * scopes its glob matches.
 *
 * @param rules the rules applied to every call, in order
 * @param sets the named sets, by name
 */
public record MatchRules(List<MatchRule> rules, Map<String, List<MatchRule>> sets) {

  /** No rules: every request is keyed as it is. */
  public static final MatchRules NONE = new MatchRules(List.of(), Map.of());

  public MatchRules {
    rules = List.copyOf(rules);
    TreeMap<String, List<MatchRule>> sorted = new TreeMap<>();
    sets.forEach((name, set) -> sorted.put(name, List.copyOf(set)));
    sets = Collections.unmodifiableSortedMap(sorted);
  }

  /**
   * The rules of one call, in the order they apply: the router's rules for its scope, then those of its named set.
   *
   * @param set the set the call names, or empty for none; it must be one of {@link #sets}
   */
  public List<MatchRule> forCall(String scope, Optional<String> set) {
    List<MatchRule> applicable = new ArrayList<>();
    rules.stream().filter(rule -> rule.appliesTo(scope)).forEach(applicable::add);
    set.map(sets::get).orElse(List.of()).stream().filter(rule -> rule.appliesTo(scope)).forEach(applicable::add);
    return applicable;
  }
}
