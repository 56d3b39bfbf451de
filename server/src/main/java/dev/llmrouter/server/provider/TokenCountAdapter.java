package dev.llmrouter.server.provider;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.server.answer.AnswerStream;

/**
 * The count endpoint of a provider type whose host has one (Anthropic `count_tokens`, Gemini and Vertex AI
 * `countTokens`, Bedrock `CountTokens`): its adapter implements this beside {@link ProviderAdapter}, and
 * `Capabilities.count_tokens` says so. A deployment whose adapter does not is counted by the {@link LocalTokenizer}.
 */
public interface TokenCountAdapter {

  /** Whether the host counts {@code upstreamModel}'s tokens (Vertex AI counts its Gemini models, not Claude). */
  default boolean countsTokens(String upstreamModel) {
    return true;
  }

  /**
   * Sends the request's input to the host's count endpoint and emits its count into {@code answer} (one
   * {@link CountTokensResponse} with the input tokens, the model and the provider set); or fails it with a
   * {@code CallError}.
   *
   * @param upstreamModel the model name to send to the provider
   */
  void countTokens(ChatRequest request, String upstreamModel, AnswerStream<CountTokensResponse> answer);
}
