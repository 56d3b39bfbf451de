package dev.llmrouter.server.provider.gemini;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.provider.TokenCountDecoder;
import dev.llmrouter.api.v1.EmbedTaskType;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.gemini.internal.GeminiAnswerDecoder;
import dev.llmrouter.server.provider.gemini.internal.GeminiEmbeddings;
import dev.llmrouter.server.provider.gemini.internal.GeminiRequestMapper;
import java.util.List;

/**
 * The generateContent wire format, for every adapter that speaks it: the Gemini API's ({@link GeminiAdapter}) and
 * Vertex AI's for Google's models, and Google's names of embedding task types. Each adapter adds its own URL and
 * credentials.
 */
public final class GeminiFormat {

  private GeminiFormat() {
  }

  /**
   * The request body of {@code request}.
   *
   * @param signedBy the provider type whose reasoning signatures the host accepts back (its own); others are dropped
   */
  public static ObjectNode requestBody(ChatRequest request, String signedBy) {
    return GeminiRequestMapper.toRequestBody(request, signedBy);
  }

  /**
   * The decoder of one answer, whole or streamed.
   *
   * @param finishReasonNames the host's finish reasons by number, for a host that may send them as numbers
   *     (Vertex AI); empty for one that sends names
   */
  public static UpstreamHttpCall.Decoder answerDecoder(String provider, ChatEventStream answer,
      List<String> finishReasonNames) {
    return new GeminiAnswerDecoder(provider, answer, finishReasonNames);
  }

  /**
   * The body of a `countTokens` request. The Gemini API counts `contents` alone, or a whole generateContent request
   * (with its model) when the system instruction and tools are to count too; Vertex AI takes those beside the
   * contents.
   *
   * @param nestWhole whether the host wants the system instruction and tools inside a `generateContentRequest` (the
   *     Gemini API) rather than beside the contents (Vertex AI)
   */
  public static ObjectNode countTokensBody(ChatRequest request, String upstreamModel, String signedBy,
      boolean nestWhole) {
    ObjectNode body = requestBody(request, signedBy).retain("contents", "systemInstruction", "tools");
    if (!nestWhole || body.size() == 1) {
      return body;
    }
    ObjectNode nested = body.objectNode();
    nested.putObject("generateContentRequest").put("model", "models/" + upstreamModel).setAll(body);
    return nested;
  }

  /** The decoder of a `countTokens` answer: `{"totalTokens": n, ...}`. */
  public static UpstreamHttpCall.Decoder countTokensDecoder(String provider, String upstreamModel,
      AnswerStream<CountTokensResponse> answer, List<String> finishReasonNames) {
    return new TokenCountDecoder(provider, upstreamModel, "totalTokens", answer,
        answerDecoder(provider, new ChatEventStream(), finishReasonNames));
  }

  /**
   * Google's name of an embedding task type (`RETRIEVAL_QUERY`...), as the Gemini API and Vertex AI's `:predict`
   * spell it; null when unspecified.
   */
  public static String embeddingTaskType(EmbedTaskType taskType) {
    return GeminiEmbeddings.taskType(taskType);
  }
}
