package dev.llmrouter.cassettes;

import dev.llmrouter.cassettes.CassetteStore.CassetteSummary;
import dev.llmrouter.cassettes.CassetteVerifier.Finding;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Upgrades the cassette files of a folder to the current format version, in place: each older file is read and
 * written again as the router writes it, so a migrated file is byte for byte what a recording would write, and a
 * second run changes nothing. Files already current are not touched; unreadable ones, and versions newer than this
 * code, are reported and left as they are.
 */
public final class CassetteMigration {

  private CassetteMigration() {
  }

  /** A file upgraded (or to upgrade, on a dry run) from {@code fromVersion}. */
  public record Migrated(CassetteSummary cassette, int fromVersion) {
  }

  /** What a migration did over a folder of {@code cassettes} files. */
  public record Report(int cassettes, List<Migrated> migrated, List<Finding> problems) {
    public Report {
      migrated = List.copyOf(migrated);
      problems = List.copyOf(problems);
    }
  }

  /** Migrates every cassette file of the store (blocking); with {@code dryRun}, only says what it would migrate. */
  public static Report migrate(CassetteStore store, boolean dryRun) throws IOException {
    List<CassetteSummary> cassettes = store.list(null);
    List<Migrated> migrated = new ArrayList<>();
    List<Finding> problems = new ArrayList<>();
    for (CassetteSummary summary : cassettes) {
      Cassette cassette;
      try {
        cassette = CassetteCodec.readFile(summary.path());
      } catch (CorruptCassetteException e) {
        problems.add(new Finding(CassetteVerifier.Kind.CORRUPT, summary.path(), e.problem()));
        continue;
      }
      if (cassette.formatVersion() < Cassette.FORMAT_VERSION) {
        if (!dryRun) {
          store.rewrite(summary, cassette);
        }
        migrated.add(new Migrated(summary, cassette.formatVersion()));
      }
    }
    return new Report(cassettes.size(), migrated, problems);
  }
}
