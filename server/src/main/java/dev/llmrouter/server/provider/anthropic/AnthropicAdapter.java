package dev.llmrouter.server.provider.anthropic;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.provider.TokenCountAdapter;
import dev.llmrouter.server.provider.CapabilityCheck;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.UpstreamClient;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.HttpProviderAdapter;

/** Anthropic Messages (`POST {base_url}/v1/messages`), streamed or not, and its `count_tokens`. */
public final class AnthropicAdapter extends HttpProviderAdapter implements TokenCountAdapter {

  /** The API version this adapter speaks; Anthropic keeps a dated version's wire format fixed. */
  static final String API_VERSION = "2023-06-01";

  public AnthropicAdapter(UpstreamClient client, ProviderConfig deployment) {
    super(client, deployment);
  }

  /**
   * Messages has no seed, no presence or frequency penalty and no schema-less JSON mode. Extended thinking (reasoning
   * effort, reasoning output) came with Claude 3.7: the earlier models have none.
   */
  public static Capabilities capabilities(String upstreamModel) {
    // Prefill is native (a last assistant message is continued, the answer holds only the continuation) until 4.6.
    Capabilities.Builder capabilities = CapabilityCheck.without(CapabilityCheck.everything().setJsonObject(false)
            .setPrefill(ClaudeModels.continuesPrefill(upstreamModel)),
        CapabilityCheck.SEED, CapabilityCheck.PRESENCE_PENALTY, CapabilityCheck.FREQUENCY_PENALTY);
    boolean thinks = !upstreamModel.startsWith("claude-2") && !upstreamModel.startsWith("claude-instant")
        && (!upstreamModel.startsWith("claude-3-") || upstreamModel.startsWith("claude-3-7"));
    if (!thinks) {
      CapabilityCheck.without(capabilities.setReasoning(false), CapabilityCheck.REASONING_EFFORT);
    }
    // The web_search server tool came with Claude 3.5 Sonnet (new) and 3.5 Haiku: the Claude 3 models lack it.
    boolean searches = !upstreamModel.startsWith("claude-2") && !upstreamModel.startsWith("claude-instant")
        && !upstreamModel.startsWith("claude-3-haiku") && !upstreamModel.startsWith("claude-3-opus")
        && !upstreamModel.startsWith("claude-3-sonnet") && !upstreamModel.startsWith("claude-3-5-sonnet-20240620");
    return capabilities.setWebSearch(searches).build();
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    String body;
    try {
      body = AnthropicFormat.requestBody(request, upstreamModel, stream, deployment.type()).toString();
    } catch (CallError notExpressible) {
      answer.fail(notExpressible); // the request asks for something Anthropic cannot do
      return;
    }
    post("/v1/messages", headersWithKey("x-api-key", "")
            .add("accept", stream ? "text/event-stream" : "application/json").add("anthropic-version", API_VERSION),
        body, answer, AnthropicFormat.answerDecoder(deployment.name(), answer));
  }

  @Override
  public void countTokens(ChatRequest request, String upstreamModel, AnswerStream<CountTokensResponse> answer) {
    String body;
    try {
      body = AnthropicFormat.countTokensBody(request, upstreamModel, deployment.type()).toString();
    } catch (CallError notExpressible) {
      answer.fail(notExpressible);
      return;
    }
    post("/v1/messages/count_tokens", headersWithKey("x-api-key", "").add("accept", "application/json")
            .add("anthropic-version", API_VERSION), body, answer,
        AnthropicFormat.countTokensDecoder(deployment.name(), upstreamModel, answer));
  }
}
