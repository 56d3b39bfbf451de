package dev.llmrouter.cassettes;

import static dev.llmrouter.cassettes.Fixtures.answer;
import static dev.llmrouter.cassettes.Fixtures.cassette;
import static dev.llmrouter.cassettes.Fixtures.userRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.cassettes.CassetteVerifier.Finding;
import dev.llmrouter.cassettes.CassetteVerifier.Kind;
import dev.llmrouter.cassettes.CassetteVerifier.Report;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CassetteVerifierTest {

  @TempDir
  Path dir;

  private CassetteStore store() {
    return new CassetteStore(dir, 0, Redactor.defaults());
  }

  /** Writes a cassette as the server records it and returns its file. */
  private Path record(String scope, String question) throws Exception {
    Cassette cassette = cassette(userRequest(question), answer("An answer."));
    store().write(scope, cassette);
    return store().pathOf(scope, cassette.key());
  }

  @Test
  void cassettesAsRecordedHaveNoFindings() throws Exception {
    record("default", "What is the capital of France?");
    record("suite/test", "Hi");

    Report report = CassetteVerifier.verify(store());

    assertEquals(new Report(2, List.of()), report);
    assertEquals(0, report.problems());
  }

  @Test
  void aTamperedRequestNoLongerGivesItsKey() throws Exception {
    Path file = record("suite", "What is the capital of France?");
    String stored = CassetteCodec.readFile(file).key();
    Files.writeString(file, Files.readString(file).replace("France", "Italy"));

    String computed = CanonicalRequest.of(userRequest("What is the capital of Italy?")).key();
    assertEquals(List.of(new Finding(Kind.KEY_MISMATCH, file, "stored " + stored + " computed " + computed)),
        CassetteVerifier.verify(store()).findings());
  }

  @Test
  void aTruncatedFileIsCorruptAndAMovedOneMisplaced() throws Exception {
    Path truncated = record("suite", "Hi");
    byte[] bytes = Files.readAllBytes(truncated);
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
    Path misplaced = dir.resolve("suite").resolve("0123456789abcdef.json");
    Files.move(record("suite", "Good"), misplaced);

    Report report = CassetteVerifier.verify(store());

    assertEquals(2, report.cassettes());
    Map<Kind, String> lines = report.findings().stream().collect(Collectors.toMap(Finding::kind, Finding::line));
    assertEquals(Set.of(Kind.CORRUPT, Kind.MISPLACED), lines.keySet());
    assertEquals("MISPLACED " + misplaced + ": file name does not match key", lines.get(Kind.MISPLACED));
    assertTrue(lines.get(Kind.CORRUPT).startsWith("CORRUPT " + truncated + ": invalid JSON at line "),
        lines.get(Kind.CORRUPT));
    assertEquals(2, report.problems());
  }

  @Test
  void aRedactedRequestIsOnlyAWarning() throws Exception {
    Path file = record("suite", "My key is sk-proj-abcdefghijklmnopqrstuvwxyz012345, is it valid?");

    Report report = CassetteVerifier.verify(store());

    assertEquals(List.of(new Finding(Kind.REDACTED, file, "key cannot be recomputed because the request was redacted")),
        report.findings());
    assertEquals(0, report.problems());
    assertEquals(1, report.warnings());
  }
}
