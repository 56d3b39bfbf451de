package dev.llmrouter.client;

import io.grpc.StatusRuntimeException;
import java.util.function.Consumer;

/**
 * Receives the events of a stream, then exactly one of {@link #onError} or {@link #onDone}. Called on grpc-java's
 * threads, one call at a time.
 *
 * @param <E> the event type
 */
public interface EventHandler<E> {

  void onEvent(E event);

  /** The stream ended with a non-OK status (the router's status, description and details). */
  void onError(StatusRuntimeException error);

  /** The stream ended with status OK. */
  void onDone();

  /** A handler made of three lambdas. */
  static <E> EventHandler<E> of(Consumer<E> onEvent, Consumer<StatusRuntimeException> onError, Runnable onDone) {
    return new EventHandler<>() {
      @Override
      public void onEvent(E event) {
        onEvent.accept(event);
      }

      @Override
      public void onError(StatusRuntimeException error) {
        onError.accept(error);
      }

      @Override
      public void onDone() {
        onDone.run();
      }
    };
  }
}
