package dev.llmrouter.server.provider.gemini;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.server.provider.TokenCountAdapter;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.CapabilityCheck;
import dev.llmrouter.server.provider.EmbeddingAdapter;
import dev.llmrouter.server.provider.EmbeddingCheck;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.UpstreamClient;
import dev.llmrouter.server.provider.WebSearchOptions;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.HttpProviderAdapter;
import dev.llmrouter.server.provider.gemini.internal.GeminiEmbeddings;
import java.util.Set;
import java.util.List;

/**
 * Google Gemini (`POST {base_url}/v1beta/models/{model}:generateContent`, or `:streamGenerateContent?alt=sse` for a
 * streamed answer; embeddings through `:batchEmbedContents`), authenticated with the `x-goog-api-key` header.
 */
public final class GeminiAdapter extends HttpProviderAdapter implements EmbeddingAdapter, TokenCountAdapter {

  public GeminiAdapter(UpstreamClient client, ProviderConfig deployment) {
    super(client, deployment);
  }

  /**
   * Gemini has no switch for parallel function calls. Presence and frequency penalties are enabled on the Gemini 2.0
   * models only (the others answer HTTP 400 "Penalty is not enabled"); thinking came with 2.5 (and 2.0's thinking
   * preview), so the earlier models take no reasoning effort. Grounding with Google Search is web search.
   */
  public static Capabilities capabilities(String upstreamModel) {
    Capabilities.Builder capabilities = CapabilityCheck.without(CapabilityCheck.everything(),
        CapabilityCheck.PARALLEL_TOOL_CALLS);
    boolean gemini2 = upstreamModel.startsWith("gemini-2.0");
    if (!gemini2) {
      CapabilityCheck.without(capabilities, CapabilityCheck.PRESENCE_PENALTY, CapabilityCheck.FREQUENCY_PENALTY);
    }
    boolean thinks = !upstreamModel.startsWith("gemini-1.") && (!gemini2 || upstreamModel.contains("thinking"));
    if (!thinks) {
      CapabilityCheck.without(capabilities.setReasoning(false), CapabilityCheck.REASONING_EFFORT);
    }
    // The googleSearch tool serves Gemini 2.0 and later (1.5 had googleSearchRetrieval); Gemma models have none.
    return capabilities.setWebSearch(upstreamModel.startsWith("gemini-") && !upstreamModel.startsWith("gemini-1."))
        .build();
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    try {
      WebSearchOptions.refuseDomainFilter(request, deployment.name(), upstreamModel);
    } catch (CallError noDomainFilter) {
      answer.fail(noDomainFilter); // Google Search grounding has no domain filter
      return;
    }
    post("/v1beta/models/" + upstreamModel + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent"),
        headersWithKey("x-goog-api-key", ""), GeminiFormat.requestBody(request, deployment.type()).toString(), answer,
        GeminiFormat.answerDecoder(deployment.name(), answer, List.of()));
  }

  /** Text, for a task, shortened on request (`outputDimensionality`). */
  @Override
  public Set<String> embeddingOptions(String upstreamModel) {
    return Set.of(EmbeddingCheck.DIMENSIONS, EmbeddingCheck.TASK_TYPE);
  }

  @Override
  public void countTokens(ChatRequest request, String upstreamModel, AnswerStream<CountTokensResponse> answer) {
    post("/v1beta/models/" + upstreamModel + ":countTokens", headersWithKey("x-goog-api-key", ""),
        GeminiFormat.countTokensBody(request, upstreamModel, deployment.type(), true).toString(), answer,
        GeminiFormat.countTokensDecoder(deployment.name(), upstreamModel, answer, List.of()));
  }

  @Override
  public void embed(EmbedRequest request, String upstreamModel, AnswerStream<EmbedResponse> answer) {
    post("/v1beta/models/" + upstreamModel + ":batchEmbedContents", headersWithKey("x-goog-api-key", ""),
        GeminiEmbeddings.requestBody(request, upstreamModel).toString(), answer,
        GeminiEmbeddings.decoder(deployment.name(), request, upstreamModel, answer));
  }
}
