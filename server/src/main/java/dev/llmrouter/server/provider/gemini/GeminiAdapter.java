package dev.llmrouter.server.provider.gemini;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.config.ProviderConfig;
import dev.llmrouter.server.pipeline.ChatEventStream;
import dev.llmrouter.server.provider.ProviderAdapter;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.gemini.internal.GeminiAnswerDecoder;
import dev.llmrouter.server.provider.gemini.internal.GeminiRequestMapper;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;

/**
 * Google Gemini (`POST {base_url}/v1beta/models/{model}:generateContent`, or `:streamGenerateContent?alt=sse` for a
 * streamed answer), authenticated with the `x-goog-api-key` header.
 */
public final class GeminiAdapter implements ProviderAdapter {

  private static final Capabilities CAPABILITIES = Capabilities.newBuilder().setStreaming(true).setTools(true)
      .setVision(true).setPdf(true).setReasoning(true).setStructuredOutput(true).build();

  private final HttpClient client;
  private final ProviderConfig deployment;

  public GeminiAdapter(HttpClient client, ProviderConfig deployment) {
    this.client = client;
    this.deployment = deployment;
  }

  @Override
  public Capabilities capabilities() {
    return CAPABILITIES;
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (!deployment.apiKey().isEmpty()) {
      headers.add("x-goog-api-key", deployment.apiKey());
    }
    String url = deployment.baseUrl() + "/v1beta/models/" + upstreamModel
        + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
    Buffer body = Buffer.buffer(GeminiRequestMapper.toRequestBody(request).toString());
    UpstreamHttpCall.post(client, deployment.name(), url, headers, body, answer,
        new GeminiAnswerDecoder(deployment.name(), answer));
  }
}
