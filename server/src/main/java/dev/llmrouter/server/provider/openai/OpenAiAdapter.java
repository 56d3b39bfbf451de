package dev.llmrouter.server.provider.openai;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.provider.CapabilityCheck;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.UpstreamClient;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.HttpProviderAdapter;
import dev.llmrouter.server.provider.openai.internal.OpenAiAnswerDecoder;
import dev.llmrouter.server.provider.openai.internal.OpenAiRequestMapper;
import java.util.regex.Pattern;

/**
 * OpenAI Chat Completions (`POST {base_url}/chat/completions`). Every OpenAI-compatible host (Groq, OpenRouter,
 * Together, vLLM, Ollama...) is served by this adapter with its own `base_url`.
 */
public final class OpenAiAdapter extends HttpProviderAdapter {

  /** OpenAI's reasoning models (o1, o3, o4-mini, gpt-5 but not gpt-5-chat), also behind a host prefix (`openai/o3`). */
  private static final Pattern REASONING_MODEL = Pattern.compile("(.*/)?(o\\d.*|gpt-5(?!-chat).*)");

  public OpenAiAdapter(UpstreamClient client, ProviderConfig deployment) {
    super(client, deployment);
  }

  /**
   * Everything, except that OpenAI's reasoning models refuse sampling settings (temperature, top_p and the
   * penalties: HTTP 400 "Unsupported parameter"). A compatible host's own models are taken to honour every setting:
   * the host answers what it does not.
   */
  public static Capabilities capabilities(String upstreamModel) {
    Capabilities.Builder capabilities = CapabilityCheck.everything();
    if (REASONING_MODEL.matcher(upstreamModel).matches()) {
      CapabilityCheck.without(capabilities, CapabilityCheck.TEMPERATURE, CapabilityCheck.TOP_P,
          CapabilityCheck.PRESENCE_PENALTY, CapabilityCheck.FREQUENCY_PENALTY);
    }
    return capabilities.build();
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    post("/chat/completions", headersWithKey("authorization", "Bearer ")
            .add("accept", stream ? "text/event-stream" : "application/json"),
        OpenAiRequestMapper.toRequestBody(request, upstreamModel, stream).toString(), answer,
        new OpenAiAnswerDecoder(deployment.name(), answer));
  }
}
