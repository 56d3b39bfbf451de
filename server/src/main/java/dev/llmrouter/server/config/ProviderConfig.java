package dev.llmrouter.server.config;

import java.time.Duration;
import java.util.List;

/**
 * One upstream deployment: a provider type reached at a base URL with an API key.
 *
 * @param name the name callers use as the model prefix (`openai` in `openai/gpt-4o-mini`)
 * @param type the wire format: `openai`, `anthropic` or `gemini`
 * @param baseUrl where the provider's API lives, for example `https://api.openai.com/v1`
 * @param apiKey the key, read from the environment; empty when the variable is not set
 * @param apiKeyVariable the environment variable the key comes from, to name it in errors (never the key)
 * @param models the upstream models listed by ListModels (any model name may still be called)
 * @param timeout the longest an upstream call may take when the caller sets no deadline
 */
public record ProviderConfig(
    String name,
    String type,
    String baseUrl,
    String apiKey,
    String apiKeyVariable,
    List<String> models,
    Duration timeout) {

  @Override
  public String toString() {
    // Never print the key itself.
    return "ProviderConfig[name=" + name + ", type=" + type + ", baseUrl=" + baseUrl + ", apiKey="
        + (apiKey.isEmpty() ? "(unset)" : "${" + apiKeyVariable + "}") + ", models=" + models + "]";
  }
}
