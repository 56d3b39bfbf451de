package dev.llmrouter.server.provider.bedrock;

import dev.llmrouter.api.v1.Capabilities;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.provider.TokenCountAdapter;
import dev.llmrouter.server.provider.TokenCountDecoder;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.CapabilityCheck;
import dev.llmrouter.server.provider.HttpProviderAdapter;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.UpstreamClient;
import dev.llmrouter.server.provider.UpstreamErrors;
import dev.llmrouter.server.provider.bedrock.internal.BedrockAnswerDecoder;
import dev.llmrouter.server.provider.bedrock.internal.BedrockRequestMapper;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * AWS Bedrock's Converse API (`POST {base_url}/model/{modelId}/converse`, or `/converse-stream` for a streamed
 * answer in the binary event-stream framing): one request shape for every model family on Bedrock. Each request is
 * signed with SigV4 by {@link BedrockSigning} (on a worker thread), then sent on the deployment's pooled client; a
 * deployment with an `api_key` (a Bedrock API key) sends it as a bearer token instead.
 */
public final class BedrockAdapter extends HttpProviderAdapter implements TokenCountAdapter {

  /** Claude models that think (3.7 and every Claude 4 and later), as Bedrock names them. */
  private static final Pattern THINKING_CLAUDE = Pattern.compile(".*anthropic\\.claude-(3-7|(opus|sonnet|haiku)-[4-9]).*");

  private final BedrockSigning signing;

  public BedrockAdapter(UpstreamClient client, ProviderConfig deployment) {
    super(client, deployment);
    this.signing = BedrockSigning.of(deployment);
  }

  /** The Bedrock runtime endpoint of {@code region}, where a deployment without base_url goes. */
  public static String defaultBaseUrl(String region) {
    return "https://bedrock-runtime." + region + ".amazonaws.com";
  }

  /**
   * Converse has no seed, no penalties, no switch for parallel tool calls and no JSON mode. Images and documents go to
   * the multimodal families (Claude 3 and later, Nova Lite / Pro / Premier, Llama 3.2 vision and Llama 4, Pixtral);
   * reasoning comes from the Claude models that think (whose effort becomes a thinking budget), gpt-oss and DeepSeek
   * R1, whose effort Converse cannot set.
   */
  public static Capabilities capabilities(String upstreamModel) {
    String model = upstreamModel.toLowerCase(Locale.ROOT);
    boolean claude = model.contains("anthropic.claude");
    boolean multimodal = claude && !model.contains("claude-v2") && !model.contains("claude-instant")
        || model.matches(".*amazon\\.nova-(lite|pro|premier).*") || model.matches(".*meta\\.llama(3-2-(11|90)b|4).*")
        || model.contains("pixtral");
    boolean thinks = THINKING_CLAUDE.matcher(model).matches();
    boolean reasons = thinks || model.contains("openai.gpt-oss") || model.contains("deepseek.r1");
    Capabilities.Builder capabilities = CapabilityCheck.without(CapabilityCheck.everything().setJsonObject(false)
            .setStructuredOutput(false).setVision(multimodal).setPdf(multimodal).setReasoning(reasons),
        CapabilityCheck.SEED, CapabilityCheck.PRESENCE_PENALTY, CapabilityCheck.FREQUENCY_PENALTY,
        CapabilityCheck.PARALLEL_TOOL_CALLS);
    if (!thinks) {
      CapabilityCheck.without(capabilities, CapabilityCheck.REASONING_EFFORT);
    }
    return capabilities.build();
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    String body;
    try {
      body = BedrockRequestMapper.toRequestBody(request,
          THINKING_CLAUDE.matcher(upstreamModel.toLowerCase(Locale.ROOT)).matches()).toString();
    } catch (CallError notExpressible) {
      answer.fail(notExpressible); // the request asks for something Converse cannot carry
      return;
    }
    // The model id goes in the path percent-encoded (`anthropic.claude-3-haiku-20240307-v1%3A0`), as AWS signs it.
    String path = "/model/" + SdkHttpUtils.urlEncode(upstreamModel) + (stream ? "/converse-stream" : "/converse");
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json")
        .add("accept", stream ? "application/vnd.amazon.eventstream" : "application/json");
    signedPost(path, headers, body, answer, new BedrockAnswerDecoder(deployment.name(), upstreamModel, answer));
  }

  /** Bedrock's CountTokens takes Anthropic's Claude models. */
  @Override
  public boolean countsTokens(String upstreamModel) {
    return upstreamModel.toLowerCase(Locale.ROOT).contains("anthropic.claude");
  }

  /** CountTokens (`POST /model/{modelId}/count-tokens`) over the Converse request's input: `{"inputTokens": n}`. */
  @Override
  public void countTokens(ChatRequest request, String upstreamModel, AnswerStream<CountTokensResponse> answer) {
    ObjectNode converse;
    try {
      converse = BedrockRequestMapper.toRequestBody(request,
          THINKING_CLAUDE.matcher(upstreamModel.toLowerCase(Locale.ROOT)).matches())
          .retain("messages", "system", "toolConfig", "additionalModelRequestFields");
    } catch (CallError notExpressible) {
      answer.fail(notExpressible);
      return;
    }
    ObjectNode body = converse.objectNode();
    body.putObject("input").set("converse", converse);
    String path = "/model/" + SdkHttpUtils.urlEncode(upstreamModel) + "/count-tokens";
    signedPost(path, MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json")
            .add("accept", "application/json"), body.toString(), answer,
        new TokenCountDecoder(deployment.name(), upstreamModel, "inputTokens", answer,
            new BedrockAnswerDecoder(deployment.name(), upstreamModel, new ChatEventStream())));
  }

  /** POSTs with the deployment's Bedrock API key as a bearer token, or else signed with SigV4 (on a worker). */
  private void signedPost(String path, MultiMap headers, String body, AnswerStream<?> answer,
      UpstreamHttpCall.Decoder decoder) {
    if (!deployment.apiKey().isEmpty()) {
      // A Bedrock API key is a bearer token, sent instead of a signature.
      post(path, headers.add("authorization", "Bearer " + deployment.apiKey()), body, answer, decoder);
      return;
    }
    answer.activity("signing the request to " + deployment.name());
    signing.signOnWorker(Vertx.currentContext(), deployment.baseUrl() + path, headers,
            body.getBytes(StandardCharsets.UTF_8))
        .onSuccess(signed -> post(path, signed, body, answer, decoder))
        .onFailure(failure -> answer.fail(failure instanceof CallError error ? error
            : UpstreamErrors.unreachable(deployment.name(), "the request could not be signed: " + failure.getMessage())));
  }

}
