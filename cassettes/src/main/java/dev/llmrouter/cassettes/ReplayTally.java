package dev.llmrouter.cassettes;

import dev.llmrouter.cassettes.CassetteStore.CassetteSummary;
import dev.llmrouter.cassettes.ReplayReport.Miss;
import dev.llmrouter.cassettes.ReplayReport.ScopeReport;
import dev.llmrouter.cassettes.ReplayReport.Unused;
import dev.llmrouter.cassettes.ReplayReport.Used;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the cassettes did for the calls of one run, per scope: the cassettes that answered (hits), the requests that
 * found none (misses), the cassettes recorded. Safe to use from every thread; {@link #report} turns it into a
 * {@link ReplayReport}, with the cassettes that answered nothing.
 */
public final class ReplayTally {

  /** A cassette, or a missing one, by its scope and short key. */
  private record Cassetted(String scope, String shortKey) {
    static Cassetted of(String scope, String key) {
      return new Cassetted(scope, key.substring(0, 16));
    }
  }

  /** How many calls one cassette (or one missing key) served, and how reports name it. */
  private record Count(String summary, AtomicInteger calls) {
  }

  private record MissCount(ReplayMissException first, AtomicInteger calls) {
  }

  private final Map<Cassetted, Count> hits = new ConcurrentHashMap<>();
  private final Map<Cassetted, Count> recorded = new ConcurrentHashMap<>();
  private final Map<Cassetted, MissCount> misses = new ConcurrentHashMap<>();

  /** A call was answered from the cassette. */
  public void hit(String scope, Cassette cassette) {
    count(hits, scope, cassette);
  }

  /** A call's answer was recorded into the cassette. */
  public void recorded(String scope, Cassette cassette) {
    count(recorded, scope, cassette);
  }

  /** A call found no cassette; identical misses are counted under the first one. */
  public void miss(ReplayMissException miss) {
    misses.computeIfAbsent(Cassetted.of(miss.scope(), miss.key()), key -> new MissCount(miss, new AtomicInteger()))
        .calls().incrementAndGet();
  }

  private static void count(Map<Cassetted, Count> counts, String scope, Cassette cassette) {
    counts.computeIfAbsent(Cassetted.of(scope, cassette.key()),
        key -> new Count(cassette.summary(), new AtomicInteger())).calls().incrementAndGet();
  }

  /**
   * The report of the calls so far, with every cassette of the store that none of them used (read from disk, so
   * blocking). Scopes, and the entries of each, are in name order, so the same run gives the same report.
   */
  public ReplayReport report(CassetteStore store) {
    Set<String> scopes = new TreeSet<>();
    hits.keySet().forEach(key -> scopes.add(key.scope()));
    recorded.keySet().forEach(key -> scopes.add(key.scope()));
    misses.keySet().forEach(key -> scopes.add(key.scope()));
    Map<String, List<Unused>> unused = new TreeMap<>();
    for (CassetteSummary file : store.list(null)) {
      Cassetted cassetted = new Cassetted(file.scope(), file.shortKey());
      if (!hits.containsKey(cassetted) && !recorded.containsKey(cassetted)) {
        unused.computeIfAbsent(file.scope(), scope -> new ArrayList<>())
            .add(new Unused(file.shortKey(), file.path(), file.describe()));
        scopes.add(file.scope());
      }
    }
    List<ScopeReport> reports = new ArrayList<>();
    List<Miss> allMisses = misses();
    for (String scope : scopes) {
      List<Miss> scopeMisses = allMisses.stream().filter(miss -> miss.exception().scope().equals(scope)).toList();
      reports.add(new ScopeReport(scope, used(hits, scope), scopeMisses, used(recorded, scope),
          unused.getOrDefault(scope, List.of())));
    }
    return new ReplayReport(reports);
  }

  /** The misses so far, by scope then key; never touches the disk. */
  public List<Miss> misses() {
    return misses.values().stream().map(count -> new Miss(count.first(), count.calls().get()))
        .sorted(Comparator.comparing((Miss miss) -> miss.exception().scope())
            .thenComparing(miss -> miss.exception().key()))
        .toList();
  }

  private static List<Used> used(Map<Cassetted, Count> counts, String scope) {
    return counts.entrySet().stream().filter(entry -> entry.getKey().scope().equals(scope))
        .map(entry -> new Used(entry.getKey().shortKey(), entry.getValue().summary(),
            entry.getValue().calls().get()))
        .sorted(Comparator.comparing(Used::shortKey))
        .toList();
  }
}
