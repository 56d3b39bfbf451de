package dev.llmrouter.server.config;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * What a config reload did, settings named as the YAML file names them: refused, with the file's problems (the
 * running config kept whole); or applied, with the settings that changed for new calls and those that changed in the
 * file but need a restart (kept as they run).
 *
 * @param problems why the new file was refused; empty when it was applied
 * @param changed the settings new calls see changed: providers (with their keys and limits), models, prices, retry
 *     and circuit breaking, drain_timeout
 * @param needRestart the other settings the file changes, which the running router keeps
 */
public record ReloadReport(List<String> problems, List<String> changed, List<String> needRestart) {

  /** The settings a reload applies to new calls, by their names in the file. */
  private static final Map<String, Function<RouterConfig, Object>> RELOADED = reloaded();
  /** The same settings, by their place in {@link RouterConfig}: left out when looking for what needs a restart. */
  private static final Set<String> RELOADED_COMPONENTS = Set.of("providers", "aliases", "resilience", "drainTimeout",
      "observability.prices");

  private static Map<String, Function<RouterConfig, Object>> reloaded() {
    Map<String, Function<RouterConfig, Object>> settings = new LinkedHashMap<>();
    settings.put("providers", RouterConfig::providers);
    settings.put("models", RouterConfig::aliases);
    settings.put("prices", config -> config.observability().prices());
    settings.put("retry / circuit_breaker", RouterConfig::resilience);
    settings.put("drain_timeout", RouterConfig::drainTimeout);
    return settings;
  }

  public ReloadReport {
    problems = List.copyOf(problems);
    changed = List.copyOf(changed);
    needRestart = List.copyOf(needRestart);
  }

  /** The file was refused: the running config stays whole. */
  public static ReloadReport refused(List<String> problems) {
    return new ReloadReport(problems, List.of(), List.of());
  }

  /**
   * What loading {@code loaded} changes on a router that started with {@code started} and now plans calls with
   * {@code running} (the settings of its last reload).
   */
  public static ReloadReport between(RouterConfig started, RouterConfig running, RouterConfig loaded) {
    List<String> changed = new ArrayList<>();
    RELOADED.forEach((name, setting) -> {
      if (!Objects.equals(setting.apply(running), setting.apply(loaded))) {
        changed.add(name);
      }
    });
    Set<String> needRestart = new LinkedHashSet<>();
    differences(started, loaded, "", needRestart);
    return new ReloadReport(List.of(), changed, List.copyOf(needRestart));
  }

  public boolean applied() {
    return problems.isEmpty();
  }

  /** One line for the log. */
  public String summary() {
    if (!applied()) {
      return "config reload refused, the running config is kept: " + String.join("; ", problems);
    }
    return "config reloaded: " + (changed.isEmpty() ? "no change for new calls" : String.join(", ", changed)
        + " changed for new calls") + (needRestart.isEmpty() ? ""
        : "; " + String.join(", ", needRestart) + " changed in the file but need a restart (kept as they run)");
  }

  // Every setting that is not reloaded needs a restart, settings added later included: so the records are compared
  // part by part (a section by its fields), rather than through a list of names that a new setting could miss.
  private static void differences(Record before, Record after, String prefix, Set<String> found) {
    for (RecordComponent component : before.getClass().getRecordComponents()) {
      String path = prefix + component.getName();
      if (RELOADED_COMPONENTS.contains(path)) {
        continue;
      }
      Object was = valueOf(component, before);
      Object is = valueOf(component, after);
      if (was instanceof Record section) {
        differences(section, (Record) is, path + ".", found);
      } else if (!Objects.equals(was, is)) {
        found.add(fileName(path));
      }
    }
  }

  private static Object valueOf(RecordComponent component, Record record) {
    try {
      return component.getAccessor().invoke(record);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot read " + component + " of the config", e);
    }
  }

  /** A setting's name in the file, from its place in the records (`observability.callLogRetention`). */
  private static String fileName(String path) {
    return switch (path) {
      case "host", "port" -> "listen";
      case "observability.dataDir" -> "data_dir";
      case "observability.callLog" -> "call_log.enabled";
      case "observability.callLogPostgres" -> "call_log.postgres_url";
      case "auth.metricsPublic" -> "admin.metrics_public";
      case "auth.redisUrl" -> "shared_state.redis_url";
      case "cassettes.match.rules" -> "cassettes.match";
      case "cassettes.match.sets" -> "cassettes.match_sets";
      default -> path.startsWith("observability.callLog")
          ? "call_log." + snakeCase(path.substring("observability.callLog".length()))
          : snakeCase(path.replace("observability.", ""));
    };
  }

  private static String snakeCase(String name) {
    return name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }
}
