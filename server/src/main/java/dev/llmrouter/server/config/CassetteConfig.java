package dev.llmrouter.server.config;

import dev.llmrouter.cassettes.MatchRules;
import java.util.List;
import java.util.Optional;

/**
 * The `cassettes:` section of the config, with the flags that override it.
 *
 * @param dir where cassettes live
 * @param mode the default cassette mode: replay, record, auto or off
 * @param allowModeOverride whether callers may pick the mode per call (`x-cassette-mode` metadata)
 * @param recordTiming whether recordings keep each event's time offset, for paced replay
 * @param usageFile where the cassettes that answered are listed (`--track-usage`), or empty for nowhere
 * @param redactPatterns regular expressions whose matches are redacted before anything is written, on top of the
 *     built-in rules (keys, bearer tokens, secret-looking fields), which cannot be switched off
 * @param redactFields JSON field names whose values are redacted, on top of the built-in ones
 * @param match the match rules that normalize requests before they are keyed (`match`, `match_sets`)
 * @param allowRecordInCi whether `record` and `auto` are allowed where the environment says CI=true
 * @param inCi whether the environment said CI=true (or 1) when the config was read
 * @param reportXml where the replay report is written as JUnit XML (`--cassette-report`), or empty for nowhere
 * @param reportMarkdown where it is written as Markdown (`--cassette-report-md`), or empty for nowhere
 */
public record CassetteConfig(String dir, String mode, boolean allowModeOverride, boolean recordTiming,
    Optional<String> usageFile, List<String> redactPatterns, List<String> redactFields, MatchRules match,
    boolean allowRecordInCi, boolean inCi, Optional<String> reportXml, Optional<String> reportMarkdown) {

  public static final String DEFAULT_DIR = "cassettes/recorded";

  public CassetteConfig withDir(String newDir) {
    return new CassetteConfig(newDir, mode, allowModeOverride, recordTiming, usageFile, redactPatterns, redactFields,
        match, allowRecordInCi, inCi, reportXml, reportMarkdown);
  }

  public CassetteConfig withMode(String newMode) {
    return new CassetteConfig(dir, newMode, allowModeOverride, recordTiming, usageFile, redactPatterns, redactFields,
        match, allowRecordInCi, inCi, reportXml, reportMarkdown);
  }

  public CassetteConfig withUsageFile(String file) {
    return new CassetteConfig(dir, mode, allowModeOverride, recordTiming, Optional.of(file), redactPatterns,
        redactFields, match, allowRecordInCi, inCi, reportXml, reportMarkdown);
  }

  /** The same settings, with the replay report written to these files (each may be empty: not written). */
  public CassetteConfig withReports(Optional<String> xml, Optional<String> markdown) {
    return new CassetteConfig(dir, mode, allowModeOverride, recordTiming, usageFile, redactPatterns, redactFields,
        match, allowRecordInCi, inCi, xml.or(() -> reportXml), markdown.or(() -> reportMarkdown));
  }

  /** Whether calls may record here: anywhere but in CI, and in CI only with `allow_record_in_ci: true`. */
  public boolean recordingAllowed() {
    return !inCi || allowRecordInCi;
  }

  /**
   * Why a mode that records is refused here, naming where it was asked for ({@code cassettes.mode}, {@code
   * x-cassette-mode}); empty when the mode may run.
   */
  public Optional<String> recordingRefusal(String requestedMode, String where) {
    if (recordingAllowed() || !(requestedMode.equals("record") || requestedMode.equals("auto"))) {
      return Optional.empty();
    }
    return Optional.of(where + " " + requestedMode + " is refused: CI=true is set, and a CI run must never record by "
        + "accident, so record and auto are refused there and replay is the default. Replay (drop the mode, or use "
        + "replay), or set cassettes.allow_record_in_ci: true to record in CI on purpose");
  }
}
