package dev.llmrouter.server.auth;

/**
 * A count over a window of time that opens with the first addition after the previous window ended, and lasts a
 * fixed length from there: a rate limit's minute, a budget's month. Not thread-safe: its owner locks around it.
 */
final class Window {

  private long total;
  private long endsMillis;

  Window() {
  }

  Window(long total, long endsMillis) {
    this.total = total;
    this.endsMillis = endsMillis;
  }

  /** The count at this time: 0 once the window has ended. */
  long total(long nowMillis) {
    return nowMillis >= endsMillis ? 0 : total;
  }

  /** The count of the last window, ended or not (with {@link #endsMillis()}, what to save). */
  long lastTotal() {
    return total;
  }

  /** When the window ends; in the past when none is open. */
  long endsMillis() {
    return endsMillis;
  }

  /** Adds to the count, opening a window of {@code lengthMillis} when none is open. */
  void add(long nowMillis, long amount, long lengthMillis) {
    if (nowMillis >= endsMillis) {
      total = 0;
      endsMillis = nowMillis + lengthMillis;
    }
    total += amount;
  }
}
