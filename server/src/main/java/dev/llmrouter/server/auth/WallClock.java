package dev.llmrouter.server.auth;

import com.github.benmanes.caffeine.cache.Ticker;

/**
 * The time of day as the router's {@link Ticker} moves it: read once from the system clock, then advanced by the
 * ticker, so that tests moving a manual clock move key expiry, rate windows and budget windows with it.
 */
public final class WallClock {

  private final Ticker ticker;
  private final long startMillis;
  private final long startNanos;

  public WallClock(Ticker ticker) {
    this.ticker = ticker;
    this.startMillis = System.currentTimeMillis();
    this.startNanos = ticker.read();
  }

  /** Milliseconds since the epoch. */
  public long millis() {
    return startMillis + (ticker.read() - startNanos) / 1_000_000;
  }

  /** The ticker the clock runs on, for caches that must expire on the same time. */
  Ticker ticker() {
    return ticker;
  }
}
