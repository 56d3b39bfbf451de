package dev.llmrouter.server.provider.openai;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.config.ProviderConfig;
import dev.llmrouter.server.pipeline.ChatEventStream;
import dev.llmrouter.server.provider.ProviderAdapter;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.openai.internal.OpenAiAnswerDecoder;
import dev.llmrouter.server.provider.openai.internal.OpenAiRequestMapper;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;

/**
 * OpenAI Chat Completions (`POST {base_url}/chat/completions`). Every OpenAI-compatible host (Groq, OpenRouter,
 * Together, vLLM, Ollama...) is served by this adapter with its own `base_url`.
 */
public final class OpenAiAdapter implements ProviderAdapter {

  private static final Capabilities CAPABILITIES = Capabilities.newBuilder().setStreaming(true).setTools(true)
      .setVision(true).setPdf(true).setReasoning(true).setStructuredOutput(true).build();

  private final HttpClient client;
  private final ProviderConfig deployment;

  public OpenAiAdapter(HttpClient client, ProviderConfig deployment) {
    this.client = client;
    this.deployment = deployment;
  }

  @Override
  public Capabilities capabilities() {
    return CAPABILITIES;
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("accept", stream ? "text/event-stream" : "application/json");
    if (!deployment.apiKey().isEmpty()) {
      headers.add("authorization", "Bearer " + deployment.apiKey());
    }
    Buffer body = Buffer.buffer(OpenAiRequestMapper.toRequestBody(request, upstreamModel, stream).toString());
    UpstreamHttpCall.post(client, deployment.name(), deployment.baseUrl() + "/chat/completions", headers, body,
        answer, new OpenAiAnswerDecoder(deployment.name(), answer));
  }
}
