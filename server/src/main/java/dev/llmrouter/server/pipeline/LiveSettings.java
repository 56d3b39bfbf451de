package dev.llmrouter.server.pipeline;

import io.vertx.core.Future;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The {@link CallSettings} new calls get: read once per call, when the call is planned, and swapped whole by a config
 * reload, so that a running call keeps the settings it started with. Safe from every event loop.
 */
public final class LiveSettings {

  private final AtomicReference<CallSettings> current;

  public LiveSettings(CallSettings initial) {
    this.current = new AtomicReference<>(initial);
  }

  /** The settings now, for what is not a call (listing models, health); see {@link #forCall} for a call. */
  public CallSettings current() {
    return current.get();
  }

  /**
   * The settings a new call runs on, held for it until {@link CallSettings#callEnded}: a reload cannot close their
   * provider clients under the call.
   */
  CallSettings forCall() {
    while (true) {
      CallSettings settings = current.get();
      settings.callStarted();
      if (current.get() == settings) {
        return settings;
      }
      settings.callEnded(); // replaced in between: take the newer ones
    }
  }

  /** New calls get {@code next}; the calls running on the settings it replaces finish on them. */
  public void replace(CallSettings next) {
    current.getAndSet(next).replaced();
  }

  /** Closes the provider clients of the settings now, whatever runs on them: the router is closing. */
  public Future<Void> close() {
    return current.get().close();
  }
}
