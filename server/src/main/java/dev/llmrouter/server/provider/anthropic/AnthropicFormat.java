package dev.llmrouter.server.provider.anthropic;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.provider.TokenCountDecoder;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.anthropic.internal.AnthropicAnswerDecoder;
import dev.llmrouter.server.provider.anthropic.internal.AnthropicRequestMapper;

/**
 * The Messages wire format, for every adapter that speaks it: Anthropic's own API ({@link AnthropicAdapter}) and
 * Vertex AI's for Claude models. Each adapter adds its own URL, credentials and version marker.
 */
public final class AnthropicFormat {

  private AnthropicFormat() {
  }

  /**
   * The request body of {@code request} for {@code upstreamModel}.
   *
   * @param signedBy the provider type whose reasoning signatures the host accepts back (its own); others are dropped
   * @throws CallError when the request asks for something the Messages API cannot express
   */
  public static ObjectNode requestBody(ChatRequest request, String upstreamModel, boolean stream, String signedBy) {
    return AnthropicRequestMapper.toRequestBody(request, upstreamModel, stream, signedBy);
  }

  /** The decoder of one answer, whole or streamed. */
  public static UpstreamHttpCall.Decoder answerDecoder(String provider, ChatEventStream answer) {
    return new AnthropicAnswerDecoder(provider, answer);
  }

  /**
   * The body of a `count_tokens` request: the Messages body's input alone (model, messages, system, tools, tool
   * choice, thinking), since the endpoint refuses the generation settings.
   *
   * @throws CallError when the request asks for something the Messages API cannot express
   */
  public static ObjectNode countTokensBody(ChatRequest request, String upstreamModel, String signedBy) {
    return requestBody(request, upstreamModel, false, signedBy)
        .retain("model", "messages", "system", "tools", "tool_choice", "thinking");
  }

  /** The decoder of a `count_tokens` answer: `{"input_tokens": n}`. */
  public static UpstreamHttpCall.Decoder countTokensDecoder(String provider, String upstreamModel,
      AnswerStream<CountTokensResponse> answer) {
    return new TokenCountDecoder(provider, upstreamModel, "input_tokens", answer,
        answerDecoder(provider, new ChatEventStream()));
  }
}
