package dev.llmrouter.server.provider;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.answer.ChatEventStream;

/**
 * Speaks one provider's wire format for one deployment: maps a {@link ChatRequest} to the provider's HTTP call and
 * its answer (JSON or server-sent events) back to events. This is the whole contract an adapter fulfils.
 */
public interface ProviderAdapter {

  /** What this adapter supports; reported by ListModels and used by tests to pick the cases that apply. */
  Capabilities capabilities();

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
