package dev.llmrouter.server.provider;

import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.server.answer.AnswerStream;
import java.util.Set;

/**
 * The embeddings of a provider type whose host has them: its adapter implements this beside {@link ProviderAdapter}.
 * A deployment whose adapter does not is never sent an embedding call; the call is refused, naming it.
 */
public interface EmbeddingAdapter {

  /**
   * Whether {@code upstreamModel} embeds through this adapter: false where the host names its embedding models and
   * this is none of them (a chat model on Bedrock or Vertex AI). Such a model is never sent an embedding call.
   */
  default boolean embeds(String upstreamModel) {
    return true;
  }

  /**
   * What {@code upstreamModel} honours of a request's optional parts, named as in {@link EmbeddingCheck}: a request
   * reaches {@link #embed} only with these.
   */
  Set<String> embeddingOptions(String upstreamModel);

  /**
   * Sends one request upstream and emits its answer into {@code answer}: one {@link EmbedResponse} with a vector per
   * input, in the order of the inputs, and the usage the host reports; or fails it with a {@code CallError}.
   *
   * @param upstreamModel the model name to send to the provider
   */
  void embed(EmbedRequest request, String upstreamModel, AnswerStream<EmbedResponse> answer);
}
