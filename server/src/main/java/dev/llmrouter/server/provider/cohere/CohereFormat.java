package dev.llmrouter.server.provider.cohere;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.provider.EmbeddingDecoder;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.cohere.internal.CohereEmbeddings;

/**
 * Cohere's Embed wire format, for every adapter that speaks it: Cohere's own ({@link CohereAdapter}) and Bedrock's
 * InvokeModel for the Cohere embedding models. Each adapter adds its own URL, credentials and error reading.
 */
public final class CohereFormat {

  private CohereFormat() {
  }

  /** The Embed request body of {@code request} for {@code upstreamModel} (which the body names). */
  public static ObjectNode embedRequestBody(EmbedRequest request, String upstreamModel) {
    return CohereEmbeddings.requestBody(request, upstreamModel);
  }

  /** The decoder of the answer to {@code request}; errors are read by {@code errors}, the host's own reader. */
  public static EmbeddingDecoder embedDecoder(String provider, EmbedRequest request, String upstreamModel,
      AnswerStream<EmbedResponse> answer, UpstreamHttpCall.Decoder errors) {
    return CohereEmbeddings.decoder(provider, request, upstreamModel, answer, errors);
  }
}
