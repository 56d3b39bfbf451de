package dev.llmrouter.server.config;

import java.util.List;

/** A configuration problem, with a message that names the field (and line) to fix. */
public final class ConfigException extends RuntimeException {

  private final List<String> problems;

  public ConfigException(String message) {
    super(message);
    this.problems = List.of(message);
  }

  /** Every problem of a config file, one per line of the message. */
  public ConfigException(List<String> problems) {
    super("invalid config:\n  " + String.join("\n  ", problems));
    this.problems = List.copyOf(problems);
  }

  /** Each problem on its own, as `field (line N): what to fix`. */
  public List<String> problems() {
    return problems;
  }
}
