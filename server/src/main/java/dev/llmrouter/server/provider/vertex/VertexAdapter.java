package dev.llmrouter.server.provider.vertex;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.HttpProviderAdapter;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.UpstreamClient;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.WebSearchOptions;
import dev.llmrouter.server.provider.anthropic.AnthropicAdapter;
import dev.llmrouter.server.provider.anthropic.AnthropicFormat;
import dev.llmrouter.server.provider.gemini.GeminiAdapter;
import dev.llmrouter.server.provider.gemini.GeminiFormat;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Google Vertex AI. A model is served by its publisher, chosen by its name: `claude-*` models are Anthropic's, in
 * the Messages format (`POST {base_url}/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}
 * :rawPredict`, or `:streamRawPredict`, the body naming the version `vertex-2023-10-16` instead of the model); every
 * other model is Google's, in the generateContent format (`.../publishers/google/models/{model}:generateContent`, or
 * `:streamGenerateContent?alt=sse`). Calls carry the deployment's {@link VertexCredentials}; in express mode (an API
 * key and no project) the paths have no project or location.
 */
public final class VertexAdapter extends HttpProviderAdapter {

  /** The Messages API version Vertex AI speaks, sent in the body. */
  static final String ANTHROPIC_VERSION = "vertex-2023-10-16";

  /** Vertex AI's finish reasons by number, as it sends them to clients that ask for `enum-encoding=int`. */
  static final List<String> FINISH_REASONS = List.of("FINISH_REASON_UNSPECIFIED", "STOP", "MAX_TOKENS", "SAFETY",
      "RECITATION", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "MALFORMED_FUNCTION_CALL", "MODEL_ARMOR",
      "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER", "UNEXPECTED_TOOL_CALL",
      "NO_IMAGE");

  /** The Claude 4 models (Opus, Sonnet, Haiku 4 and their point versions), which Vertex AI lets search the web. */
  private static final Pattern CLAUDE_4 = Pattern.compile("claude-(opus|sonnet|haiku)-4.*");
  /** The beta Vertex AI requires of a Claude request with the web search tool. */
  private static final String WEB_SEARCH_BETA = "web-search-2025-03-05";

  private final VertexCredentials credentials;

  public VertexAdapter(UpstreamClient client, ProviderConfig deployment) {
    super(client, deployment);
    this.credentials = new VertexCredentials(deployment);
  }

  /** Whether Anthropic publishes {@code upstreamModel} on Vertex AI (any other model is Google's). */
  static boolean isClaude(String upstreamModel) {
    return upstreamModel.startsWith("claude-");
  }

  /**
   * Those of the model through its publisher's own API: Anthropic's Messages, or Gemini's generateContent; but Vertex
   * AI offers Claude's web search tool (in preview) to the Claude 4 models only.
   */
  public static Capabilities capabilities(String upstreamModel) {
    if (!isClaude(upstreamModel)) {
      return GeminiAdapter.capabilities(upstreamModel);
    }
    Capabilities anthropic = AnthropicAdapter.capabilities(upstreamModel);
    return anthropic.toBuilder().setWebSearch(anthropic.getWebSearch()
        && CLAUDE_4.matcher(upstreamModel).matches()).build();
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    boolean claude = isClaude(upstreamModel);
    String body;
    try {
      if (!claude) {
        WebSearchOptions.refuseDomainFilter(request, deployment.name(), upstreamModel); // grounding has none
      }
      body = claude ? anthropicBody(request, upstreamModel, stream)
          : GeminiFormat.requestBody(request, deployment.type()).toString();
    } catch (CallError notExpressible) {
      answer.fail(notExpressible); // the request asks for something the Messages API cannot do
      return;
    }
    ProviderConfig.GoogleCloud cloud = deployment.googleCloud().orElseThrow();
    String path = claude
        ? cloud.modelPath("anthropic", upstreamModel) + (stream ? ":streamRawPredict" : ":rawPredict")
        : cloud.modelPath("google", upstreamModel) + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
    UpstreamHttpCall.Decoder decoder = claude ? AnthropicFormat.answerDecoder(deployment.name(), answer)
        : GeminiFormat.answerDecoder(deployment.name(), answer, FINISH_REASONS);
    Future<MultiMap> headers = credentials.headers(Vertx.currentContext());
    if (!headers.isComplete()) {
      answer.activity("getting an access token for " + deployment.name());
    }
    headers.onComplete(authentication -> {
      if (answer.isClosed()) {
        return; // the caller left while the token was on its way
      }
      if (authentication.failed()) {
        answer.fail(authentication.cause());
        return;
      }
      MultiMap callHeaders = authentication.result().add("accept", stream ? "text/event-stream" : "application/json");
      if (claude && request.hasWebSearch()) {
        callHeaders.add("anthropic-beta", WEB_SEARCH_BETA);
      }
      post(path, callHeaders, body, answer, decoder);
    });
  }

  // Vertex AI names the model in the URL and the API version in the body.
  private String anthropicBody(ChatRequest request, String upstreamModel, boolean stream) {
    ObjectNode body = AnthropicFormat.requestBody(request, upstreamModel, stream, deployment.type());
    body.remove("model");
    if (!body.has("anthropic_version")) {
      body.put("anthropic_version", ANTHROPIC_VERSION);
    }
    return body.toString();
  }
}
