package dev.llmrouter.server.provider.bedrock;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.CapabilityCheck;
import dev.llmrouter.server.provider.EmbeddingAdapter;
import dev.llmrouter.server.provider.HttpProviderAdapter;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.TokenCountAdapter;
import dev.llmrouter.server.provider.TokenCountDecoder;
import dev.llmrouter.server.provider.UpstreamClient;
import dev.llmrouter.server.provider.UpstreamErrors;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.anthropic.AnthropicAdapter;
import dev.llmrouter.server.provider.anthropic.AnthropicFormat;
import dev.llmrouter.server.provider.anthropic.ClaudeModels;
import dev.llmrouter.server.provider.bedrock.internal.BedrockAnswerDecoder;
import dev.llmrouter.server.provider.bedrock.internal.BedrockEmbeddings;
import dev.llmrouter.server.provider.bedrock.internal.BedrockFrames;
import dev.llmrouter.server.provider.bedrock.internal.BedrockInvokeDecoder;
import dev.llmrouter.server.provider.bedrock.internal.BedrockRequestMapper;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * AWS Bedrock's Converse API (`POST {base_url}/model/{modelId}/converse`, or `/converse-stream` for a streamed
 * answer in the binary event-stream framing): one request shape for every model family on Bedrock. A deployment with
 * `bedrock_api: invoke` calls InvokeModel instead (`/invoke`, or `/invoke-with-response-stream`) in Anthropic's
 * Messages format, for Claude models: the body is the one Anthropic's API takes, naming the version
 * `bedrock-2023-05-31` instead of the model, and the answer Anthropic's, its stream events framed by Bedrock. Each request is
 * signed with SigV4 by {@link BedrockSigning} (on a worker thread), then sent on the deployment's pooled client; a
 * deployment with an `api_key` (a Bedrock API key) sends it as a bearer token instead. Embeddings go through
 * InvokeModel (`/model/{modelId}/invoke`) to the Titan and Cohere embedding models ({@link BedrockEmbeddings}).
 */
public final class BedrockAdapter extends HttpProviderAdapter implements EmbeddingAdapter, TokenCountAdapter {

  /** The `bedrock_api` of a deployment that calls Converse (the default). */
  public static final String CONVERSE = "converse";
  /** The `bedrock_api` of a deployment that calls InvokeModel in Anthropic's Messages format. */
  public static final String INVOKE = "invoke";
  /** The Messages API version Bedrock speaks, sent in the body. */
  static final String ANTHROPIC_VERSION = "bedrock-2023-05-31";

  /** Claude models that think (3.7 and every Claude 4 and later), as Bedrock names them. */
  private static final Pattern THINKING_CLAUDE = Pattern.compile(".*anthropic\\.claude-(3-7|(opus|sonnet|haiku)-[4-9]).*");

  /** The first Claude generation Bedrock's structured outputs take (Claude 4.5). */
  private static final int STRUCTURED_OUTPUT_FROM = 405;

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
   * Converse has no seed, no penalties, no switch for parallel tool calls and no schema-less JSON mode. Images and
   * documents go to the multimodal families (Claude 3 and later, Nova Lite / Pro / Premier, Llama 3.2 vision and
   * Llama 4, Pixtral); reasoning comes from the Claude models that think (whose effort becomes a thinking budget),
   * gpt-oss and DeepSeek R1, whose effort Converse cannot set. A JSON schema (`outputConfig.textFormat`) goes to the
   * Claude models from 4.5, the ones Bedrock's structured outputs name; a prefill to the Claude models before 4.6,
   * which continue it as on Anthropic's API.
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
            .setStructuredOutput(claude && ClaudeModels.generation(model) >= STRUCTURED_OUTPUT_FROM)
            .setPrefill(claude && ClaudeModels.continuesPrefill(model))
            .setVision(multimodal).setPdf(multimodal).setReasoning(reasons),
        CapabilityCheck.SEED, CapabilityCheck.PRESENCE_PENALTY, CapabilityCheck.FREQUENCY_PENALTY,
        CapabilityCheck.PARALLEL_TOOL_CALLS);
    if (!thinks) {
      CapabilityCheck.without(capabilities, CapabilityCheck.REASONING_EFFORT);
    }
    return capabilities.build();
  }

  /** Those of {@code upstreamModel} through the deployment's API: Converse's, or InvokeModel's. */
  public static Capabilities capabilities(ProviderConfig deployment, String upstreamModel) {
    return deployment.bedrockApi().equals(INVOKE) ? invokeCapabilities(upstreamModel) : capabilities(upstreamModel);
  }

  /**
   * Those of a Claude model through InvokeModel: the model's through Anthropic's Messages API, save the web search
   * tool, which Bedrock does not offer, and structured outputs, which Bedrock takes from Claude 4.5 only.
   */
  public static Capabilities invokeCapabilities(String upstreamModel) {
    String model = upstreamModel.toLowerCase(Locale.ROOT);
    // `us.anthropic.claude-sonnet-4-20250514-v1:0` is Anthropic's `claude-sonnet-4-20250514`.
    Capabilities anthropic = AnthropicAdapter.capabilities(model.substring(Math.max(0, model.indexOf("claude-"))));
    return anthropic.toBuilder().setWebSearch(false).setStructuredOutput(anthropic.getStructuredOutput()
        && ClaudeModels.generation(model) >= STRUCTURED_OUTPUT_FROM).build();
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    if (deployment.bedrockApi().equals(INVOKE)) {
      invoke(request, upstreamModel, stream, answer);
      return;
    }
    String body;
    try {
      body = BedrockRequestMapper.toRequestBody(request,
          THINKING_CLAUDE.matcher(upstreamModel.toLowerCase(Locale.ROOT)).matches()).toString();
    } catch (CallError notExpressible) {
      answer.fail(notExpressible); // the request asks for something Converse cannot carry
      return;
    }
    postSigned(upstreamModel, stream ? "/converse-stream" : "/converse",
        stream ? BedrockFrames.MEDIA_TYPE : "application/json", body, answer,
        new BedrockAnswerDecoder(deployment.name(), upstreamModel, answer));
  }

  /** InvokeModel with Anthropic's Messages body, which names the version instead of the model (in the URL). */
  private void invoke(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    ObjectNode body;
    try {
      body = AnthropicFormat.requestBody(request, upstreamModel, stream, deployment.type());
    } catch (CallError notExpressible) {
      answer.fail(notExpressible); // the request asks for something the Messages API cannot do
      return;
    }
    body.remove("model");
    body.remove("stream"); // the operation says whether the answer streams
    if (!body.has("anthropic_version")) {
      body.put("anthropic_version", ANTHROPIC_VERSION);
    }
    postSigned(upstreamModel, stream ? "/invoke-with-response-stream" : "/invoke",
        stream ? BedrockFrames.MEDIA_TYPE : "application/json", body.toString(), answer,
        new BedrockInvokeDecoder(deployment.name(), AnthropicFormat.answerDecoder(deployment.name(), answer)));
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
    postSigned(upstreamModel, "/count-tokens", "application/json", body.toString(), answer,
        new TokenCountDecoder(deployment.name(), upstreamModel, "inputTokens", answer,
            new BedrockAnswerDecoder(deployment.name(), upstreamModel, new ChatEventStream())));
  }

  /** The Titan and Cohere embedding models ({@link BedrockEmbeddings}); other models do not embed. */
  @Override
  public boolean embeds(String upstreamModel) {
    return BedrockEmbeddings.embeds(upstreamModel);
  }

  @Override
  public Set<String> embeddingOptions(String upstreamModel) {
    return BedrockEmbeddings.options(upstreamModel);
  }

  /** Through InvokeModel, in the model's own body: Titan's or Cohere's. */
  @Override
  public void embed(EmbedRequest request, String upstreamModel, AnswerStream<EmbedResponse> answer) {
    String body;
    try {
      body = BedrockEmbeddings.requestBody(request, deployment.name(), upstreamModel).toString();
    } catch (CallError notExpressible) {
      answer.fail(notExpressible);
      return;
    }
    postSigned(upstreamModel, "/invoke", "application/json", body, answer,
        BedrockEmbeddings.decoder(deployment.name(), request, upstreamModel, answer));
  }

  /**
   * POSTs {@code body} to the model's {@code operation} (`/converse`, `/invoke`...), signed, or with the deployment's
   * Bedrock API key as a bearer token instead when it has one.
   */
  private void postSigned(String upstreamModel, String operation, String accept, String body, AnswerStream<?> answer,
      UpstreamHttpCall.Decoder decoder) {
    // The model id goes in the path percent-encoded (`anthropic.claude-3-haiku-20240307-v1%3A0`), as AWS signs it.
    String path = "/model/" + SdkHttpUtils.urlEncode(upstreamModel) + operation;
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json")
        .add("accept", accept);
    if (!deployment.apiKey().isEmpty()) {
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
