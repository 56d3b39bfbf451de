package dev.llmrouter.cassettes;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** What the cassette layer does with a call. */
public enum CassetteMode {
  /** A hit replays; a miss fails, never a silent live call. */
  REPLAY,
  /** Always live, and the cassette is (over)written. */
  RECORD,
  /** Replay when the cassette exists, otherwise live and record. */
  AUTO,
  /** Live; cassettes untouched. */
  OFF;

  /** Parses the lower-case name used on the command line and in call metadata ({@code replay}, ...). */
  public static CassetteMode parse(String name) {
    for (CassetteMode mode : values()) {
      if (mode.externalName().equals(name)) {
        return mode;
      }
    }
    throw new IllegalArgumentException("unknown cassette mode \"" + name + "\"; valid modes: " + names());
  }

  /** The names {@link #parse} accepts, comma-separated: {@code replay, record, auto, off}. */
  public static String names() {
    return Arrays.stream(values()).map(CassetteMode::externalName).collect(Collectors.joining(", "));
  }

  /** The lower-case name that {@link #parse} accepts. */
  public String externalName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
