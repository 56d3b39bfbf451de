package dev.llmrouter.server.provider.gemini;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.HttpProviderAdapter;
import dev.llmrouter.server.provider.gemini.internal.GeminiAnswerDecoder;
import dev.llmrouter.server.provider.gemini.internal.GeminiRequestMapper;
import io.vertx.core.http.HttpClient;

/**
 * Google Gemini (`POST {base_url}/v1beta/models/{model}:generateContent`, or `:streamGenerateContent?alt=sse` for a
 * streamed answer), authenticated with the `x-goog-api-key` header.
 */
public final class GeminiAdapter extends HttpProviderAdapter {

  public GeminiAdapter(HttpClient client, ProviderConfig deployment) {
    super(client, deployment, ALL_CAPABILITIES);
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    post("/v1beta/models/" + upstreamModel + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent"),
        headersWithKey("x-goog-api-key", ""), GeminiRequestMapper.toRequestBody(request).toString(), answer,
        new GeminiAnswerDecoder(deployment.name(), answer));
  }
}
