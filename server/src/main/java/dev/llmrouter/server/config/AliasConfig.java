package dev.llmrouter.server.config;

import java.util.List;

/**
 * A model name that stands for several targets (`models:` in config).
 *
 * @param alias the name callers use as the model
 * @param strategy how the targets are tried
 * @param targets the `<provider>/<model>` names behind the alias, in config order
 */
public record AliasConfig(String alias, Strategy strategy, List<Target> targets) {

  /** How an alias spreads calls over its targets. */
  public enum Strategy {
    /** The first target, then the next ones in order when it fails. */
    FALLBACK,
    /** A target drawn by weight, then the others (drawn by weight) when it fails. */
    WEIGHTED
  }

  /**
   * @param model `<provider>/<upstream model>`
   * @param weight the share of calls it gets first under the weighted strategy
   */
  public record Target(String model, double weight) {
  }
}
