package dev.llmrouter.server.route;

import dev.llmrouter.api.v1.Model;
import dev.llmrouter.server.config.ProviderConfig;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.provider.ProviderAdapter;
import dev.llmrouter.server.provider.anthropic.AnthropicAdapter;
import dev.llmrouter.server.provider.openai.OpenAiAdapter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Maps a model name to the deployment that serves it. A model is `<provider name>/<upstream model>`; the upstream
 * model may itself contain slashes (`groq/openai/gpt-oss-120b`). Each deployment has one pooled HTTP client.
 */
public final class Router {

  /** Where a call goes: a deployment, its adapter, and the model name to send upstream. */
  public record Target(ProviderConfig deployment, ProviderAdapter adapter, String upstreamModel) {
  }

  private final Map<String, ProviderConfig> deployments = new LinkedHashMap<>();
  private final Map<String, ProviderAdapter> adapters = new LinkedHashMap<>();
  private final List<HttpClient> clients = new ArrayList<>();

  public Router(Vertx vertx, RouterConfig config) {
    for (ProviderConfig deployment : config.providers()) {
      HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true)
          .setConnectTimeout(10_000).setDecompressionSupported(true), new PoolOptions().setHttp1MaxSize(64));
      clients.add(client);
      deployments.put(deployment.name(), deployment);
      adapters.put(deployment.name(), adapter(client, deployment));
    }
  }

  private static ProviderAdapter adapter(HttpClient client, ProviderConfig deployment) {
    return switch (deployment.type()) {
      case "openai" -> new OpenAiAdapter(client, deployment);
      case "anthropic" -> new AnthropicAdapter(client, deployment);
      default -> throw new IllegalArgumentException("no adapter for provider type " + deployment.type());
    };
  }

  /** The deployment names, in config order. */
  public List<String> providerNames() {
    return List.copyOf(deployments.keySet());
  }

  /** The target for a model name, or empty when the name has no known provider prefix. */
  public Optional<Target> resolve(String model) {
    int slash = model.indexOf('/');
    if (slash <= 0 || slash == model.length() - 1) {
      return Optional.empty();
    }
    String provider = model.substring(0, slash);
    ProviderConfig deployment = deployments.get(provider);
    if (deployment == null) {
      return Optional.empty();
    }
    return Optional.of(new Target(deployment, adapters.get(provider), model.substring(slash + 1)));
  }

  /** The configured models, optionally of one provider, sorted by name. */
  public List<Model> models(String providerFilter) {
    List<Model> models = new ArrayList<>();
    for (ProviderConfig deployment : deployments.values()) {
      if (!providerFilter.isEmpty() && !providerFilter.equals(deployment.name())) {
        continue;
      }
      for (String upstreamModel : deployment.models()) {
        models.add(Model.newBuilder().setName(deployment.name() + "/" + upstreamModel)
            .setProvider(deployment.name()).setProviderType(deployment.type()).setUpstreamModel(upstreamModel)
            .setCapabilities(adapters.get(deployment.name()).capabilities()).build());
      }
    }
    models.sort(Comparator.comparing(Model::getName));
    return models;
  }

  public Future<Void> close() {
    return Future.all(clients.stream().map(HttpClient::close).toList()).mapEmpty();
  }
}
