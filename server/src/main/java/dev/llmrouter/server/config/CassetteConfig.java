package dev.llmrouter.server.config;

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
 */
public record CassetteConfig(String dir, String mode, boolean allowModeOverride, boolean recordTiming,
    Optional<String> usageFile, List<String> redactPatterns, List<String> redactFields) {

  public static final String DEFAULT_DIR = "cassettes/recorded";

  public CassetteConfig withDir(String newDir) {
    return new CassetteConfig(newDir, mode, allowModeOverride, recordTiming, usageFile, redactPatterns, redactFields);
  }

  public CassetteConfig withMode(String newMode) {
    return new CassetteConfig(dir, newMode, allowModeOverride, recordTiming, usageFile, redactPatterns, redactFields);
  }

  public CassetteConfig withUsageFile(String file) {
    return new CassetteConfig(dir, mode, allowModeOverride, recordTiming, Optional.of(file), redactPatterns,
        redactFields);
  }
}
