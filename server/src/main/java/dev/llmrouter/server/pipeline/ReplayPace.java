package dev.llmrouter.server.pipeline;

/**
 * How fast a cassette is replayed (`x-cassette-pace` metadata): as fast as possible (the default), at the recorded
 * per-event offsets (`recorded`; needs cassettes recorded with `record_timing`), or with a fixed gap (`<ms>`).
 *
 * @param recorded replay at the recorded offsets
 * @param gapMillis the fixed gap between events, when not {@code recorded}
 */
public record ReplayPace(boolean recorded, long gapMillis) {

  public static final ReplayPace AS_FAST_AS_POSSIBLE = new ReplayPace(false, 0);

  /** @throws IllegalArgumentException saying what the value may be */
  public static ReplayPace parse(String value) {
    if (value.equals("recorded")) {
      return new ReplayPace(true, 0);
    }
    try {
      long gap = Long.parseLong(value.trim());
      if (gap >= 0 && gap <= 60_000) {
        return new ReplayPace(false, gap);
      }
    } catch (NumberFormatException notANumber) {
      // reported below
    }
    throw new IllegalArgumentException("must be `recorded` or a gap in milliseconds from 0 to 60000, not '"
        + value + "'");
  }

  boolean isPaced() {
    return recorded || gapMillis > 0;
  }
}
