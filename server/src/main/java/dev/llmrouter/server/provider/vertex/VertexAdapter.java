package dev.llmrouter.server.provider.vertex;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.EmbeddingAdapter;
import dev.llmrouter.server.provider.EmbeddingCheck;
import dev.llmrouter.server.provider.HttpProviderAdapter;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.TokenCountAdapter;
import dev.llmrouter.server.provider.UpstreamClient;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.WebSearchOptions;
import dev.llmrouter.server.provider.anthropic.AnthropicAdapter;
import dev.llmrouter.server.provider.anthropic.AnthropicFormat;
import dev.llmrouter.server.provider.gemini.GeminiAdapter;
import dev.llmrouter.server.provider.gemini.GeminiFormat;
import dev.llmrouter.server.provider.vertex.internal.VertexEmbeddings;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Google Vertex AI. A model is served by its publisher, chosen by its name: `claude-*` models are Anthropic's, in
 * the Messages format (`POST {base_url}/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}
 * :rawPredict`, or `:streamRawPredict`, the body naming the version `vertex-2023-10-16` instead of the model); every
 * other model is Google's, in the generateContent format (`.../publishers/google/models/{model}:generateContent`, or
 * `:streamGenerateContent?alt=sse`); embeddings are Google's text embedding models through `:predict`. Calls carry
 * the deployment's {@link VertexCredentials}; in express mode (an API key and no project) the paths have no project
 * or location.
 */
public final class VertexAdapter extends HttpProviderAdapter implements EmbeddingAdapter, TokenCountAdapter {

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
   * The tag of the reasoning signatures a model's publisher makes here ({@code Reasoning.provider}):
   * `vertex/anthropic` or `vertex/google`. Each publisher's models verify only their own signatures, so a conversation
   * that moves between publishers on Vertex AI sends each only the signatures it made.
   */
  public static String reasoningSigner(String upstreamModel) {
    return "vertex/" + (isClaude(upstreamModel) ? "anthropic" : "google");
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
          : GeminiFormat.requestBody(request, reasoningSigner(upstreamModel)).toString();
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
    MultiMap callHeaders = accepting(stream ? "text/event-stream" : "application/json");
    if (claude && request.hasWebSearch()) {
      callHeaders.add("anthropic-beta", WEB_SEARCH_BETA);
    }
    postAuthenticated(path, callHeaders, body, answer, decoder);
  }

  /** Vertex AI counts its Gemini models' tokens; Claude's count endpoint on Vertex AI is not spoken here. */
  @Override
  public boolean countsTokens(String upstreamModel) {
    return !isClaude(upstreamModel);
  }

  @Override
  public void countTokens(ChatRequest request, String upstreamModel, AnswerStream<CountTokensResponse> answer) {
    String path = deployment.googleCloud().orElseThrow().modelPath("google", upstreamModel) + ":countTokens";
    postAuthenticated(path, accepting("application/json"),
        GeminiFormat.countTokensBody(request, upstreamModel, reasoningSigner(upstreamModel), false).toString(), answer,
        GeminiFormat.countTokensDecoder(deployment.name(), upstreamModel, answer, FINISH_REASONS));
  }

  /** Google's models; Anthropic's have no embeddings on Vertex AI. */
  @Override
  public boolean embeds(String upstreamModel) {
    return !isClaude(upstreamModel);
  }

  /**
   * Text embedding models (`text-embedding-005`, `text-multilingual-embedding-002`, `gemini-embedding-001`) take a
   * task type and shorten their vectors; the older `textembedding-gecko` models do neither but for `@003`, which takes
   * a task type. No image: the multimodal model answers in another shape.
   */
  @Override
  public Set<String> embeddingOptions(String upstreamModel) {
    if (!upstreamModel.startsWith("textembedding-gecko")) {
      return Set.of(EmbeddingCheck.DIMENSIONS, EmbeddingCheck.TASK_TYPE);
    }
    return upstreamModel.endsWith("@003") ? Set.of(EmbeddingCheck.TASK_TYPE) : Set.of();
  }

  @Override
  public void embed(EmbedRequest request, String upstreamModel, AnswerStream<EmbedResponse> answer) {
    String path = deployment.googleCloud().orElseThrow().modelPath("google", upstreamModel) + ":predict";
    postAuthenticated(path, accepting("application/json"), VertexEmbeddings.requestBody(request).toString(), answer,
        VertexEmbeddings.decoder(deployment.name(), request, upstreamModel, answer));
  }

  private static MultiMap accepting(String mediaType) {
    return MultiMap.caseInsensitiveMultiMap().add("accept", mediaType);
  }

  /** Gets the call's credentials (a token may have to be fetched first), then POSTs with them. */
  private void postAuthenticated(String path, MultiMap callHeaders, String body, AnswerStream<?> answer,
      UpstreamHttpCall.Decoder decoder) {
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
      post(path, authentication.result().addAll(callHeaders), body, answer, decoder);
    });
  }

  // Vertex AI names the model in the URL and the API version in the body.
  private String anthropicBody(ChatRequest request, String upstreamModel, boolean stream) {
    ObjectNode body = AnthropicFormat.requestBody(request, upstreamModel, stream, reasoningSigner(upstreamModel));
    body.remove("model");
    if (!body.has("anthropic_version")) {
      body.put("anthropic_version", ANTHROPIC_VERSION);
    }
    return body.toString();
  }
}
