package dev.llmrouter.server.config;

/** A configuration problem, with a message that names the field (and line) to fix. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
