package dev.llmrouter.server.provider.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.CapabilityCheck;
import dev.llmrouter.server.provider.EmbeddingAdapter;
import dev.llmrouter.server.provider.EmbeddingCheck;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.UpstreamClient;
import dev.llmrouter.server.provider.WebSearchOptions;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.HttpProviderAdapter;
import dev.llmrouter.server.provider.openai.internal.OpenAiAnswerDecoder;
import dev.llmrouter.server.provider.openai.internal.OpenAiEmbeddings;
import dev.llmrouter.server.provider.openai.internal.OpenAiRequestMapper;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * OpenAI Chat Completions (`POST {base_url}/chat/completions`) and embeddings (`POST {base_url}/embeddings`). Every
 * OpenAI-compatible host (Groq, OpenRouter, Together, Mistral, DeepSeek, vLLM, Ollama...) is served by this adapter
 * with its own `base_url`; Mistral's own and DeepSeek's models get the request in their hosts' spelling of the
 * settings.
 */
public final class OpenAiAdapter extends HttpProviderAdapter implements EmbeddingAdapter {

  /** OpenAI's reasoning models (o1, o3, o4-mini, gpt-5 but not gpt-5-chat), also behind a host prefix (`openai/o3`). */
  private static final Pattern REASONING_MODEL = Pattern.compile("(.*/)?(o\\d.*|gpt-5(?!-chat).*)");
  /** The models of Mistral's own API, as it names them (other hosts prefix Mistral's models: `mistralai/...`). */
  private static final Pattern MISTRAL_MODEL =
      Pattern.compile("(mistral|open-mistral|open-mixtral|codestral|ministral|pixtral|magistral|devstral)(-.*)?");
  /** OpenAI's search models, the only ones Chat Completions lets search the web, also behind a host prefix. */
  private static final Pattern SEARCH_MODEL = Pattern.compile("(.*/)?gpt-[\\w.-]*-search-(preview|api).*");
  /** DeepSeek's API models: V3 (`deepseek-chat`) and R1 (`deepseek-reasoner`). */
  private static final Pattern DEEPSEEK_MODEL = Pattern.compile("deepseek-(chat|reasoner).*");

  public OpenAiAdapter(UpstreamClient client, ProviderConfig deployment) {
    super(client, deployment);
  }

  /**
   * Everything, except that OpenAI's reasoning models refuse sampling settings (temperature, top_p and the
   * penalties: HTTP 400 "Unsupported parameter"). Mistral's and DeepSeek's own models declare what their APIs
   * document: Mistral takes no PDF file parts and no reasoning effort (only Magistral reasons); DeepSeek takes no
   * images, PDFs, JSON schemas, seed or reasoning effort, and its reasoner ignores the sampling settings. Other
   * compatible hosts' models are taken to honour every setting: the host answers what it does not. Only OpenAI's
   * search models (`gpt-4o-search-preview`, `gpt-5-search-api`...) search the web here.
   */
  public static Capabilities capabilities(String upstreamModel) {
    Capabilities.Builder capabilities = CapabilityCheck.everything()
        .setWebSearch(SEARCH_MODEL.matcher(upstreamModel).matches());
    if (isReasoningModel(upstreamModel)) {
      CapabilityCheck.without(capabilities, CapabilityCheck.TEMPERATURE, CapabilityCheck.TOP_P,
          CapabilityCheck.PRESENCE_PENALTY, CapabilityCheck.FREQUENCY_PENALTY);
    } else if (MISTRAL_MODEL.matcher(upstreamModel).matches()) {
      CapabilityCheck.without(capabilities.setPdf(false).setReasoning(upstreamModel.startsWith("magistral")),
          CapabilityCheck.REASONING_EFFORT);
    } else if (DEEPSEEK_MODEL.matcher(upstreamModel).matches()) {
      boolean reasoner = upstreamModel.startsWith("deepseek-reasoner");
      CapabilityCheck.without(capabilities.setVision(false).setPdf(false).setStructuredOutput(false)
          .setReasoning(reasoner), CapabilityCheck.SEED, CapabilityCheck.REASONING_EFFORT);
      if (reasoner) {
        CapabilityCheck.without(capabilities, CapabilityCheck.TEMPERATURE, CapabilityCheck.TOP_P,
            CapabilityCheck.PRESENCE_PENALTY, CapabilityCheck.FREQUENCY_PENALTY);
      }
    }
    return capabilities.build();
  }

  /** Whether {@code upstreamModel} is one of OpenAI's reasoning models (which refuse the sampling settings). */
  public static boolean isReasoningModel(String upstreamModel) {
    return REASONING_MODEL.matcher(upstreamModel).matches();
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    try {
      WebSearchOptions.refuseDomainFilter(request, deployment.name(), upstreamModel);
    } catch (CallError noDomainFilter) {
      answer.fail(noDomainFilter); // web_search_options has no domain filter
      return;
    }
    ObjectNode body = OpenAiRequestMapper.toRequestBody(request, upstreamModel, stream);
    if (MISTRAL_MODEL.matcher(upstreamModel).matches()) {
      OpenAiRequestMapper.inMistralSpelling(body);
    } else if (DEEPSEEK_MODEL.matcher(upstreamModel).matches()) {
      OpenAiRequestMapper.withMaxTokens(body);
    }
    post("/chat/completions", headersWithKey("authorization", "Bearer ")
            .add("accept", stream ? "text/event-stream" : "application/json"),
        body.toString(), answer, new OpenAiAnswerDecoder(deployment.name(), answer));
  }

  /** Text, shortened on request (OpenAI's text-embedding-3 models; a host answers what it does not take). */
  @Override
  public Set<String> embeddingOptions(String upstreamModel) {
    return Set.of(EmbeddingCheck.DIMENSIONS);
  }

  @Override
  public void embed(EmbedRequest request, String upstreamModel, AnswerStream<EmbedResponse> answer) {
    post("/embeddings", headersWithKey("authorization", "Bearer ").add("accept", "application/json"),
        OpenAiEmbeddings.requestBody(request, upstreamModel).toString(), answer,
        OpenAiEmbeddings.decoder(deployment.name(), request, upstreamModel, answer));
  }
}
