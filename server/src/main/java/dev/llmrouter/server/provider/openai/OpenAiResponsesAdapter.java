package dev.llmrouter.server.provider.openai;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.CapabilityCheck;
import dev.llmrouter.server.provider.HttpProviderAdapter;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.UpstreamClient;
import dev.llmrouter.server.provider.openai.internal.ResponsesAnswerDecoder;
import dev.llmrouter.server.provider.openai.internal.ResponsesRequestMapper;
import java.util.regex.Pattern;

/**
 * The OpenAI Responses API (`POST {base_url}/responses`), streamed or not, used statelessly: every call carries the
 * whole conversation, and a reasoning model's reasoning comes back as encrypted items that the next turn returns to
 * the same deployment and key (see {@link ResponsesRequestMapper}). Also serves Azure OpenAI's v1 API
 * (`base_url: https://RESOURCE.openai.azure.com/openai/v1`) and other hosts of the same API.
 */
public final class OpenAiResponsesAdapter extends HttpProviderAdapter {

  /** The models OpenAI documents without the web_search tool: older, smaller and the first reasoning models. */
  private static final Pattern NO_WEB_SEARCH = Pattern.compile("(.*/)?(gpt-4\\.1-nano|gpt-3\\.5|gpt-4-|o1|o3-mini).*");

  public OpenAiResponsesAdapter(UpstreamClient client, ProviderConfig deployment) {
    super(client, deployment);
  }

  /**
   * The Responses API has no stop sequences, seed or presence and frequency penalties; OpenAI's reasoning models
   * also refuse the sampling settings there. Its `web_search` tool serves the current models.
   */
  public static Capabilities capabilities(String upstreamModel) {
    Capabilities.Builder capabilities = CapabilityCheck.without(CapabilityCheck.everything()
            .setWebSearch(!NO_WEB_SEARCH.matcher(upstreamModel).matches()),
        CapabilityCheck.STOP_SEQUENCES, CapabilityCheck.SEED, CapabilityCheck.PRESENCE_PENALTY,
        CapabilityCheck.FREQUENCY_PENALTY);
    if (OpenAiAdapter.isReasoningModel(upstreamModel)) {
      CapabilityCheck.without(capabilities, CapabilityCheck.TEMPERATURE, CapabilityCheck.TOP_P);
    }
    return capabilities.build();
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    String body = ResponsesRequestMapper.toRequestBody(request, upstreamModel, stream, deployment,
        OpenAiAdapter.isReasoningModel(upstreamModel)).toString();
    post("/responses", headersWithKey("authorization", "Bearer ")
            .add("accept", stream ? "text/event-stream" : "application/json"),
        body, answer, new ResponsesAnswerDecoder(deployment.name(), answer));
  }
}
