package dev.llmrouter.server.testing;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/** Waiting for something to happen, never for time to pass: each wait ends as soon as its event is seen. */
public final class Await {

  /** How often a condition is looked at again. */
  private static final long POLL_MILLIS = 10;

  /** A look at the state a test waits on; it may fail like the test itself. */
  @FunctionalInterface
  public interface Probe<T> {
    T get() throws Exception;
  }

  private Await() {
  }

  /** The result of a Vert.x future, waited for at most 10 seconds. */
  public static <T> T result(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Probes until {@code done} holds for what it sees, or {@code timeout} has passed, and returns the last value seen:
   * the caller asserts on it, so a timeout fails with the caller's own message.
   */
  public static <T> T poll(Duration timeout, Probe<T> probe, Predicate<? super T> done) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T seen = probe.get();
      if (done.test(seen) || System.nanoTime() - deadline > 0) {
        return seen;
      }
      Thread.sleep(POLL_MILLIS); // the one sleep of the tests: the gap between two looks at a condition
    }
  }

  /** Whether {@code condition} came to hold within {@code timeout}. */
  public static boolean until(Duration timeout, BooleanSupplier condition) {
    try {
      return poll(timeout, condition::getAsBoolean, Boolean::booleanValue);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
