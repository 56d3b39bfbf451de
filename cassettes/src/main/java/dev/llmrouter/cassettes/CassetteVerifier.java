package dev.llmrouter.cassettes;

import dev.llmrouter.cassettes.CassetteStore.CassetteSummary;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks cassette files against themselves: each must parse, its key must be the key of the request it stores (its
 * normalized form when match rules made one), and
 * its file must be named after that key. A redacted request cannot give its key back, which is only a warning.
 */
public final class CassetteVerifier {

  private static final int SHORT_KEY_LENGTH = 16;

  private CassetteVerifier() {
  }

  /** What a finding is about, with the label that starts its line. */
  public enum Kind {
    CORRUPT("CORRUPT", true),
    KEY_MISMATCH("KEY MISMATCH", true),
    MISPLACED("MISPLACED", true),
    REDACTED("REDACTED", false);

    private final String label;
    private final boolean isProblem;

    Kind(String label, boolean isProblem) {
      this.label = label;
      this.isProblem = isProblem;
    }

    /** A problem makes the cassette unusable; the other kinds are warnings. */
    public boolean isProblem() {
      return isProblem;
    }
  }

  /** One thing found wrong with one cassette file. */
  public record Finding(Kind kind, Path file, String detail) {

    public boolean isProblem() {
      return kind.isProblem();
    }

    /** {@code KIND file: detail}, e.g. {@code MISPLACED cassettes/a/0123.json: file name does not match key}. */
    public String line() {
      return kind.label + " " + file + ": " + detail;
    }
  }

  /** The findings over a set of cassettes, in the order of their files. */
  public record Report(int cassettes, List<Finding> findings) {

    public Report {
      findings = List.copyOf(findings);
    }

    public long problems() {
      return findings.stream().filter(Finding::isProblem).count();
    }

    public long warnings() {
      return findings.size() - problems();
    }
  }

  /** Checks every cassette file of a store. */
  public static Report verify(CassetteStore store) {
    List<CassetteSummary> cassettes = store.list(null);
    List<Finding> findings = new ArrayList<>();
    cassettes.forEach(summary -> findings.addAll(check(summary)));
    return new Report(cassettes.size(), findings);
  }

  /** Parses one cassette file, recomputes its key from its keyed request and checks the file is named after it. */
  public static List<Finding> check(CassetteSummary summary) {
    Path file = summary.path();
    Cassette cassette;
    try {
      cassette = CassetteCodec.readFile(file);
    } catch (CorruptCassetteException e) {
      return List.of(new Finding(Kind.CORRUPT, file, e.problem()));
    }
    List<Finding> findings = new ArrayList<>();
    // The key was computed before redaction, so a redacted request cannot give it back.
    if (cassette.keyedRequest().toString().contains(Redactor.REPLACEMENT)) {
      findings.add(new Finding(Kind.REDACTED, file, "key cannot be recomputed because the request was redacted"));
    } else {
      String computed = CanonicalRequest.keyOf(cassette.keyedRequest());
      if (!computed.equals(cassette.key())) {
        findings.add(new Finding(Kind.KEY_MISMATCH, file, "stored " + cassette.key() + " computed " + computed));
      }
    }
    if (!cassette.key().substring(0, SHORT_KEY_LENGTH).equals(summary.shortKey())) {
      findings.add(new Finding(Kind.MISPLACED, file, "file name does not match key"));
    }
    return findings;
  }
}
