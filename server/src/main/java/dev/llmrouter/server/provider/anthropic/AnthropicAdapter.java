package dev.llmrouter.server.provider.anthropic;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.config.ProviderConfig;
import dev.llmrouter.server.pipeline.ChatEventStream;
import dev.llmrouter.server.pipeline.RouterError;
import dev.llmrouter.server.provider.ProviderAdapter;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.anthropic.internal.AnthropicAnswerDecoder;
import dev.llmrouter.server.provider.anthropic.internal.AnthropicRequestMapper;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;

/** Anthropic Messages (`POST {base_url}/v1/messages`), streamed or not. */
public final class AnthropicAdapter implements ProviderAdapter {

  /** The API version this adapter speaks; Anthropic keeps a dated version's wire format fixed. */
  static final String API_VERSION = "2023-06-01";

  private static final Capabilities CAPABILITIES = Capabilities.newBuilder().setStreaming(true).setTools(true)
      .setVision(true).setPdf(true).setReasoning(true).setStructuredOutput(true).build();

  private final HttpClient client;
  private final ProviderConfig deployment;

  public AnthropicAdapter(HttpClient client, ProviderConfig deployment) {
    this.client = client;
    this.deployment = deployment;
  }

  @Override
  public Capabilities capabilities() {
    return CAPABILITIES;
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    Buffer body;
    try {
      body = Buffer.buffer(AnthropicRequestMapper.toRequestBody(request, upstreamModel, stream).toString());
    } catch (RouterError notExpressible) {
      answer.fail(notExpressible); // the request asks for something Anthropic cannot do
      return;
    }
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("accept", stream ? "text/event-stream" : "application/json")
        .add("anthropic-version", API_VERSION);
    if (!deployment.apiKey().isEmpty()) {
      headers.add("x-api-key", deployment.apiKey());
    }
    UpstreamHttpCall.post(client, deployment.name(), deployment.baseUrl() + "/v1/messages", headers, body,
        answer, new AnthropicAnswerDecoder(deployment.name(), answer));
  }
}
