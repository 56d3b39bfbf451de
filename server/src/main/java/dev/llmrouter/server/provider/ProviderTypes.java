package dev.llmrouter.server.provider;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.server.provider.anthropic.AnthropicAdapter;
import dev.llmrouter.server.provider.bedrock.BedrockAdapter;
import dev.llmrouter.server.provider.cohere.CohereAdapter;
import dev.llmrouter.server.provider.gemini.GeminiAdapter;
import dev.llmrouter.server.provider.openai.AzureOpenAiAdapter;
import dev.llmrouter.server.provider.openai.OpenAiAdapter;
import dev.llmrouter.server.provider.openai.OpenAiResponsesAdapter;
import dev.llmrouter.server.provider.vertex.VertexAdapter;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The provider types the router speaks, and the one place that lists them: config validation, ListModels, the
 * capability check of each call and the conformance suite read it. A type builds the adapters of a deployment (one
 * per API key, all over the deployment's pooled HTTP client) and says what each model can honour through them.
 */
public final class ProviderTypes {

  /** One type: how its adapter is built, and what its adapter declares each upstream model can honour. */
  private record Type(BiFunction<UpstreamClient, ProviderConfig, ProviderAdapter> adapter,
      Function<String, Capabilities> capabilities) {
  }

  private static final Map<String, Type> TYPES = new TreeMap<>(Map.of(
      "openai", new Type(OpenAiAdapter::new, OpenAiAdapter::capabilities),
      "openai-responses", new Type(OpenAiResponsesAdapter::new, OpenAiResponsesAdapter::capabilities),
      "azure-openai", new Type(AzureOpenAiAdapter::new, AzureOpenAiAdapter::capabilities),
      "anthropic", new Type(AnthropicAdapter::new, AnthropicAdapter::capabilities),
      "bedrock", new Type(BedrockAdapter::new, BedrockAdapter::capabilities),
      "cohere", new Type(CohereAdapter::new, CohereAdapter::capabilities),
      "gemini", new Type(GeminiAdapter::new, GeminiAdapter::capabilities),
      "vertex", new Type(VertexAdapter::new, VertexAdapter::capabilities)));

  /** The types whose reasoning signatures are tagged by model rather than by type (see {@link #reasoningSigner}). */
  private static final Map<String, Function<String, String>> SIGNERS_BY_MODEL = Map.of(
      "vertex", VertexAdapter::reasoningSigner);

  /** A deployment's adapters (one per key with a value; the keys take turns) and the client they share. */
  public record Connection(List<KeyedAdapter> adaptersByKey, UpstreamClient client) {
  }

  /**
   * One adapter of a deployment and the credential it sends, named by its environment variable (empty when the
   * deployment sends none): reasoning it produces is tagged with it.
   */
  public record KeyedAdapter(String credential, ProviderAdapter adapter) {
  }

  private ProviderTypes() {
  }

  /** The type names, sorted. */
  public static Set<String> names() {
    return TYPES.keySet();
  }

  /** What {@code upstreamModel} can honour through the adapter of a known type (see {@link #names()}). */
  public static Capabilities capabilities(String type, String upstreamModel) {
    return typeOf(type).capabilities().apply(upstreamModel);
  }

  /**
   * What {@code upstreamModel} can honour through {@code deployment}'s adapter: its type's, but a Bedrock deployment
   * says by its API ({@link BedrockAdapter#capabilities(ProviderConfig, String)}).
   */
  public static Capabilities capabilities(ProviderConfig deployment, String upstreamModel) {
    return deployment.type().equals("bedrock") ? BedrockAdapter.capabilities(deployment, upstreamModel)
        : capabilities(deployment.type(), upstreamModel);
  }

  /**
   * The tag of the reasoning signatures {@code upstreamModel} of a known type makes ({@code Reasoning.provider}): the
   * type, or on a host that serves several publishers' models, the type and the publisher (`vertex/anthropic`). An
   * adapter sends back only the signatures of its own tag.
   */
  public static String reasoningSigner(String type, String upstreamModel) {
    Function<String, String> byModel = SIGNERS_BY_MODEL.get(type);
    return byModel == null ? type : byModel.apply(upstreamModel);
  }

  /** Opens a deployment of a known type (see {@link #names()}). */
  public static Connection connect(Vertx vertx, ProviderConfig deployment) {
    BiFunction<UpstreamClient, ProviderConfig, ProviderAdapter> adapter = typeOf(deployment.type()).adapter();
    UpstreamClient client = UpstreamClient.open(vertx, deployment);
    List<KeyedAdapter> byKey = deployment.apiKeys().stream().filter(k -> !k.value().isEmpty())
        .map(deployment::withOnlyKey).map(keyed -> new KeyedAdapter(keyed.credential(), adapter.apply(client, keyed)))
        .toList();
    return new Connection(byKey.isEmpty()
        ? List.of(new KeyedAdapter(deployment.credential(), adapter.apply(client, deployment))) : byKey, client);
  }

  private static Type typeOf(String name) {
    Type type = TYPES.get(name);
    if (type == null) {
      throw new IllegalArgumentException("no adapter for provider type " + name);
    }
    return type;
  }
}
