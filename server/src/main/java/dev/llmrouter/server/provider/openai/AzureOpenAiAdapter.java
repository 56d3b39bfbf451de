package dev.llmrouter.server.provider.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.EmbeddingAdapter;
import dev.llmrouter.server.provider.EmbeddingCheck;
import dev.llmrouter.server.provider.HttpProviderAdapter;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.UpstreamClient;
import dev.llmrouter.server.provider.openai.internal.OpenAiAnswerDecoder;
import dev.llmrouter.server.provider.openai.internal.OpenAiEmbeddings;
import dev.llmrouter.server.provider.openai.internal.OpenAiRequestMapper;
import io.vertx.core.MultiMap;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Azure OpenAI: the Chat Completions and embeddings wire formats of {@link OpenAiAdapter} at a deployment's URL
 * (`POST {base_url}/openai/deployments/{deployment}/chat/completions?api-version={api_version}`, and `/embeddings`,
 * the model name being the deployment, and no `model` in the body), authenticated with the `api-key` header or an
 * Entra ID bearer token.
 * Azure's additions to the answer (`prompt_filter_results` in a first chunk without choices, `content_filter_results`
 * per choice, a `content_filter` finish without a message) are read by the same decoder.
 */
public final class AzureOpenAiAdapter extends HttpProviderAdapter implements EmbeddingAdapter {

  public AzureOpenAiAdapter(UpstreamClient client, ProviderConfig deployment) {
    super(client, deployment);
  }

  /**
   * Those of the OpenAI model the deployment is named after (name deployments after their model to get them), less
   * PDF input: Azure's stable API versions take no `file` content parts.
   */
  public static Capabilities capabilities(String deploymentName) {
    // Azure OpenAI deploys no search models: web_search_options is OpenAI's own.
    return OpenAiAdapter.capabilities(deploymentName).toBuilder().setPdf(false).setWebSearch(false).build();
  }

  @Override
  public void chat(ChatRequest request, String upstreamModel, boolean stream, ChatEventStream answer) {
    ObjectNode body = OpenAiRequestMapper.toRequestBody(request, upstreamModel, stream);
    body.remove("model"); // the deployment in the URL names it
    post(deploymentUrl(upstreamModel, "chat/completions"),
        authentication().add("accept", stream ? "text/event-stream" : "application/json"), body.toString(), answer,
        new OpenAiAnswerDecoder(deployment.name(), answer));
  }

  /** Text, shortened on request (the text-embedding-3 models). */
  @Override
  public Set<String> embeddingOptions(String deploymentName) {
    return Set.of(EmbeddingCheck.DIMENSIONS);
  }

  @Override
  public void embed(EmbedRequest request, String upstreamModel, AnswerStream<EmbedResponse> answer) {
    ObjectNode body = OpenAiEmbeddings.requestBody(request, upstreamModel);
    body.remove("model"); // the deployment in the URL names it
    post(deploymentUrl(upstreamModel, "embeddings"), authentication().add("accept", "application/json"),
        body.toString(), answer, OpenAiEmbeddings.decoder(deployment.name(), request, upstreamModel, answer));
  }

  /** The path and query of an operation of a deployment. */
  private String deploymentUrl(String deploymentName, String operation) {
    String deploymentPath = URLEncoder.encode(deploymentName, StandardCharsets.UTF_8).replace("+", "%20");
    return "/openai/deployments/" + deploymentPath + "/" + operation + "?api-version=" + deployment.apiVersion();
  }

  /** The Entra ID token when the deployment has one, else its API key. */
  private MultiMap authentication() {
    return deployment.azureAdToken()
        .map(token -> {
          MultiMap headers = MultiMap.caseInsensitiveMultiMap();
          if (!token.value().isEmpty()) {
            headers.add("authorization", "Bearer " + token.value());
          }
          return headers;
        })
        .orElseGet(() -> headersWithKey("api-key", ""));
  }
}
