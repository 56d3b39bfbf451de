package dev.llmrouter.server.provider.cohere;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.CapabilityCheck;
import dev.llmrouter.server.provider.EmbeddingAdapter;
import dev.llmrouter.server.provider.EmbeddingCheck;
import dev.llmrouter.server.provider.HttpProviderAdapter;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.UpstreamClient;
import dev.llmrouter.server.provider.cohere.internal.CohereAnswerDecoder;
import dev.llmrouter.server.provider.cohere.internal.CohereEmbeddings;
import dev.llmrouter.server.provider.cohere.internal.CohereRequestMapper;
import java.util.Set;

/**
 * Cohere Chat v2 (`POST {base_url}/v2/chat`), streamed or not, and Embed v2 (`POST {base_url}/v2/embed`),
 * authenticated with a bearer API key.
 */
public final class CohereAdapter extends HttpProviderAdapter implements EmbeddingAdapter {

  public CohereAdapter(UpstreamClient client, ProviderConfig deployment) {
    super(client, deployment);
  }

  /**
   * Chat v2 has no switch for parallel tool calls, no reasoning effort (thinking is a token budget, through
   * provider options) and no PDF input. Images only go to the vision models (Command A Vision, Aya Vision); only
   * Command A Reasoning thinks aloud (other models' tool plans are reasoning too, but not asked for).
   */
  public static Capabilities capabilities(String upstreamModel) {
    boolean vision = upstreamModel.contains("vision");
    return CapabilityCheck.without(CapabilityCheck.everything().setPdf(false).setVision(vision)
            .setReasoning(upstreamModel.startsWith("command-a-reasoning")),
        CapabilityCheck.PARALLEL_TOOL_CALLS, CapabilityCheck.REASONING_EFFORT).build();
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    post("/v2/chat", headersWithKey("authorization", "Bearer ")
            .add("accept", stream ? "text/event-stream" : "application/json"),
        CohereRequestMapper.toRequestBody(request, upstreamModel, stream).toString(), answer,
        new CohereAnswerDecoder(deployment.name(), upstreamModel, answer));
  }

  /** Text and images (the multimodal models), for a task, shortened on request (`output_dimension`, embed-v4). */
  @Override
  public Set<String> embeddingOptions(String upstreamModel) {
    return EmbeddingCheck.EVERYTHING;
  }

  @Override
  public void embed(EmbedRequest request, String upstreamModel, AnswerStream<EmbedResponse> answer) {
    post("/v2/embed", headersWithKey("authorization", "Bearer ").add("accept", "application/json"),
        CohereEmbeddings.requestBody(request, upstreamModel).toString(), answer,
        CohereEmbeddings.decoder(deployment.name(), request, upstreamModel, answer));
  }
}
