package dev.llmrouter.server.provider.openai;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.HttpProviderAdapter;
import dev.llmrouter.server.provider.openai.internal.OpenAiAnswerDecoder;
import dev.llmrouter.server.provider.openai.internal.OpenAiRequestMapper;
import io.vertx.core.http.HttpClient;

/**
 * OpenAI Chat Completions (`POST {base_url}/chat/completions`). Every OpenAI-compatible host (Groq, OpenRouter,
 * Together, vLLM, Ollama...) is served by this adapter with its own `base_url`.
 */
public final class OpenAiAdapter extends HttpProviderAdapter {

  public OpenAiAdapter(HttpClient client, ProviderConfig deployment) {
    super(client, deployment, ALL_CAPABILITIES);
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    post("/chat/completions", headersWithKey("authorization", "Bearer ")
            .add("accept", stream ? "text/event-stream" : "application/json"),
        OpenAiRequestMapper.toRequestBody(request, upstreamModel, stream).toString(), answer,
        new OpenAiAnswerDecoder(deployment.name(), answer));
  }
}
