package dev.llmrouter.server.route;

import dev.llmrouter.api.v1.Model;
import dev.llmrouter.server.config.AliasConfig;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.config.ResilienceConfig;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.provider.ProviderTypes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/**
 * Maps a model name to the targets that may serve it. A model is `<provider name>/<upstream model>` (the upstream
 * model may itself contain slashes: `groq/openai/gpt-oss-120b`), or an alias from config whose targets are tried in
 * order (`fallback`) or drawn by weight (`weighted`). Each deployment has one pooled HTTP client. A planner never
 * changes: a config reload makes the next one ({@link #next}).
 */
public final class RoutePlanner {

  /** One place a call may go: a deployment and the model name to send it. */
  public record Target(Deployment deployment, String upstreamModel) {
  }

  private final Map<String, Deployment> deployments = new LinkedHashMap<>();
  private final Map<String, AliasConfig> aliases = new LinkedHashMap<>();
  private final Vertx vertx;
  private final ResilienceConfig resilience;
  private final LongSupplier nanoClock;

  /** @param nanoClock the time source of the circuit breakers' cool-downs and rate-limit windows, in nanoseconds */
  public RoutePlanner(Vertx vertx, RouterConfig config, LongSupplier nanoClock) {
    this(vertx, config, nanoClock, Map.of());
  }

  private RoutePlanner(Vertx vertx, RouterConfig config, LongSupplier nanoClock, Map<String, Deployment> previous) {
    this.vertx = vertx;
    this.resilience = config.resilience();
    this.nanoClock = nanoClock;
    for (ProviderConfig provider : config.providers()) {
      Deployment kept = previous.get(provider.name());
      if (kept != null && kept.config().equals(provider)) {
        kept.heldByAnotherPlanner();
        deployments.put(provider.name(), kept);
      } else {
        deployments.put(provider.name(), new Deployment(provider, ProviderTypes.connect(vertx, provider),
            new CircuitBreaker(resilience.breakerFailureThreshold(), resilience.breakerCoolDown(), nanoClock),
            nanoClock));
      }
    }
    config.aliases().forEach(alias -> aliases.put(alias.alias(), alias));
  }

  /**
   * The planner of a reloaded config. A deployment whose settings are unchanged is handed on as it is (its
   * connections, circuit breaker and rate-limit window with it), unless the circuit breakers' settings changed;
   * the others are opened anew. This planner keeps serving the calls it planned until it is closed.
   */
  public RoutePlanner next(RouterConfig config) {
    boolean sameBreakers = config.resilience().breakerFailureThreshold() == resilience.breakerFailureThreshold()
        && config.resilience().breakerCoolDown().equals(resilience.breakerCoolDown());
    return new RoutePlanner(vertx, config, nanoClock, sameBreakers ? deployments : Map.of());
  }

  /** The names a caller may use as a model prefix or alias, for error messages. */
  public List<String> names() {
    List<String> names = new ArrayList<>(deployments.keySet());
    names.addAll(aliases.keySet());
    return names;
  }

  /** The targets for a model name, in the order to try them; empty when the name is neither alias nor known. */
  public Optional<List<Target>> plan(String model) {
    AliasConfig alias = aliases.get(model);
    if (alias == null) {
      return target(model).map(List::of);
    }
    List<AliasConfig.Target> order = new ArrayList<>(alias.targets());
    if (alias.strategy() == AliasConfig.Strategy.WEIGHTED) {
      order = weightedOrder(order);
    }
    return Optional.of(order.stream().map(t -> target(t.model()).orElseThrow()).toList());
  }

  private Optional<Target> target(String model) {
    int slash = model.indexOf('/');
    if (slash <= 0 || slash == model.length() - 1) {
      return Optional.empty();
    }
    return Optional.ofNullable(deployments.get(model.substring(0, slash)))
        .map(deployment -> new Target(deployment, model.substring(slash + 1)));
  }

  // Draws without replacement, each pick weighted: the first target gets its share of calls, the rest follow as
  // fallbacks in the same weighted order.
  private static List<AliasConfig.Target> weightedOrder(List<AliasConfig.Target> targets) {
    List<AliasConfig.Target> left = new ArrayList<>(targets);
    List<AliasConfig.Target> order = new ArrayList<>();
    while (!left.isEmpty()) {
      double total = left.stream().mapToDouble(AliasConfig.Target::weight).sum();
      double pick = ThreadLocalRandom.current().nextDouble() * total;
      int chosen = left.size() - 1;
      for (int i = 0; i < left.size(); i++) {
        pick -= left.get(i).weight();
        if (pick < 0) {
          chosen = i;
          break;
        }
      }
      order.add(left.remove(chosen));
    }
    return order;
  }

  /** The configured models and aliases, optionally of one provider, sorted by name. */
  public List<Model> models(String providerFilter) {
    List<Model> models = new ArrayList<>();
    for (Deployment deployment : deployments.values()) {
      ProviderConfig config = deployment.config();
      if (!providerFilter.isEmpty() && !providerFilter.equals(config.name())) {
        continue;
      }
      for (String upstreamModel : config.models()) {
        models.add(Model.newBuilder().setName(config.name() + "/" + upstreamModel).setProvider(config.name())
            .setProviderType(config.type()).setUpstreamModel(upstreamModel).setCapabilities(deployment.capabilities(upstreamModel))
            .setAvailable(!deployment.breaker().isOpen()).build());
      }
    }
    if (providerFilter.isEmpty()) {
      for (AliasConfig alias : aliases.values()) {
        List<Target> targets = alias.targets().stream().map(t -> target(t.model()).orElseThrow()).toList();
        Target first = targets.get(0);
        models.add(Model.newBuilder().setName(alias.alias())
            .setCapabilities(first.deployment().capabilities(first.upstreamModel()))
            .addAllTargets(alias.targets().stream().map(AliasConfig.Target::model).toList())
            .setStrategy(alias.strategy().name().toLowerCase(java.util.Locale.ROOT))
            .setAvailable(targets.stream().anyMatch(t -> !t.deployment().breaker().isOpen())).build());
      }
    }
    models.sort(Comparator.comparing(Model::getName));
    return models;
  }

  /** Every deployment, for health reporting. */
  public List<Deployment> deployments() {
    return List.copyOf(deployments.values());
  }

  /** Closes the clients of the deployments that no later planner holds. */
  public Future<Void> close() {
    return Future.all(deployments.values().stream().map(Deployment::plannerClosed).toList()).mapEmpty();
  }
}
