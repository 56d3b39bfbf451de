package dev.llmrouter.server.provider;

import dev.llmrouter.server.provider.anthropic.AnthropicAdapter;
import dev.llmrouter.server.provider.gemini.GeminiAdapter;
import dev.llmrouter.server.provider.openai.OpenAiAdapter;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;

/**
 * The provider types the router speaks, and the one place that lists them: config validation, ListModels and the
 * conformance suite read it. A type builds the adapters of a deployment: one per API key, all over the deployment's
 * pooled HTTP client.
 */
public final class ProviderTypes {

  private static final Map<String, BiFunction<HttpClient, ProviderConfig, ProviderAdapter>> ADAPTERS = new TreeMap<>(
      Map.of("openai", OpenAiAdapter::new, "anthropic", AnthropicAdapter::new, "gemini", GeminiAdapter::new));

  /** A deployment's adapters (one per key with a value; the keys take turns) and the client they share. */
  public record Connection(List<ProviderAdapter> adaptersByKey, HttpClient client) {
  }

  private ProviderTypes() {
  }

  /** The type names, sorted. */
  public static Set<String> names() {
    return ADAPTERS.keySet();
  }

  /** Opens a deployment of a known type (see {@link #names()}). */
  public static Connection connect(Vertx vertx, ProviderConfig deployment) {
    BiFunction<HttpClient, ProviderConfig, ProviderAdapter> adapter = ADAPTERS.get(deployment.type());
    if (adapter == null) {
      throw new IllegalArgumentException("no adapter for provider type " + deployment.type());
    }
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true)
        .setConnectTimeout(10_000).setDecompressionSupported(true), new PoolOptions().setHttp1MaxSize(64));
    List<ProviderAdapter> byKey = deployment.apiKeys().stream().filter(k -> !k.value().isEmpty())
        .map(key -> adapter.apply(client, deployment.withOnlyKey(key))).toList();
    return new Connection(byKey.isEmpty() ? List.of(adapter.apply(client, deployment)) : byKey, client);
  }
}
