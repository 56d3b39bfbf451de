package dev.llmrouter.server.provider;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.answer.ChatEventStream;

/**
 * Speaks one provider's wire format for one deployment: maps a {@link ChatRequest} to the provider's HTTP call and
 * its answer (JSON or server-sent events) back to events. What each model can honour through it, the adapter declares
 * in its type's entry of {@link ProviderTypes}: a request reaches {@link #chat} only with what that declares.
 */
public interface ProviderAdapter {

  /**
   * Sends one request upstream and writes the answer into {@code answer}: a start event, deltas, usage, then
   * {@link ChatEventStream#complete} — or {@link ChatEventStream#fail} with a {@code CallError}. The adapter
   * connects its flow control with {@link ChatEventStream#upstream} so the reader can pause or cancel it.
   *
   * @param upstreamModel the model name to send to the provider
   * @param stream whether to ask the provider for a streamed answer
   */
  void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer);
}
