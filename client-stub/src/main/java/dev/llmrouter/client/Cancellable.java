package dev.llmrouter.client;

/** A call running in the background. */
public interface Cancellable {

  /** Cancels the call: the router stops the upstream request, and the handler gets {@code CANCELLED}. */
  void cancel();
}
