package dev.llmrouter.client.testing;

import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;

final class Await {

  private Await() {
  }

  /** The result of a Vert.x future, waited for at most 10 seconds. */
  static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
