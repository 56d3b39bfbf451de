package dev.llmrouter.server.provider;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One upstream deployment: a provider type reached at a base URL with an API key.
 *
 * @param name the name callers use as the model prefix (`openai` in `openai/gpt-4o-mini`)
 * @param type the wire format, one of {@link ProviderTypes#names()}
 * @param baseUrl where the provider's API lives, for example `https://api.openai.com/v1`
 * @param apiKeys the keys, read from the environment, that calls are spread across; empty for hosts that need none
 * @param models the upstream models listed by ListModels (any model name may still be called)
 * @param timeout the longest one upstream attempt may take, counted from when it has a connection
 * @param connectionWaitTimeout the longest a request waits in line for a free connection, apart from {@code timeout}
 * @param maxConcurrency the most calls in flight to this deployment at once, 0 for no limit
 * @param maxConnections the most connections the deployment's pool opens to its host (one request at a time each
 *     over HTTP/1.1, many over HTTP/2); requests beyond what they carry wait in line for one
 * @param dropUnsupportedSettings whether a setting the model cannot honour is left out of every call to this
 *     deployment instead of refusing the call (as a request's own `drop_unsupported_settings` does)
 */
public record ProviderConfig(
    String name,
    String type,
    String baseUrl,
    List<ApiKey> apiKeys,
    List<String> models,
    Duration timeout,
    Duration connectionWaitTimeout,
    int maxConcurrency,
    int maxConnections,
    boolean dropUnsupportedSettings,
    String apiVersion,
    Optional<ApiKey> azureAdToken) {

  /** Connections a deployment's pool may open when the config says nothing. */
  public static final int DEFAULT_MAX_CONNECTIONS = 100;

  /**
   * One API key (or another secret the config names by its environment variable, such as an Entra ID token).
   *
   * @param variable the environment variable it comes from, to name it in errors (never the key)
   * @param value the key; empty when the variable is not set
   */
  public record ApiKey(String variable, String value) {
    @Override
    public String toString() {
      return "${" + variable + "}";
    }
  }

  /** The key adapters send: the first (a deployment with several keys is split into one copy per key). */
  public String apiKey() {
    return apiKeys.isEmpty() ? "" : apiKeys.get(0).value();
  }

  /** The same deployment with only one of its keys. */
  public ProviderConfig withOnlyKey(ApiKey key) {
    return new ProviderConfig(name, type, baseUrl, List.of(key), models, timeout, connectionWaitTimeout,
        maxConcurrency, maxConnections, dropUnsupportedSettings, apiVersion, azureAdToken);
  }

  /**
   * The credential calls send, named by its environment variable (the first key's, or the Entra ID token's); empty
   * when the deployment has none. Reasoning a provider signed is tagged with it.
   */
  public String credential() {
    List<ApiKey> credentials = credentials();
    return credentials.isEmpty() ? "" : credentials.get(0).variable();
  }

  /** The secrets calls authenticate with: the API keys, then the Entra ID token. */
  public List<ApiKey> credentials() {
    return azureAdToken.map(token -> Stream.concat(apiKeys.stream(), Stream.of(token)).toList()).orElse(apiKeys);
  }

  @Override
  public String toString() {
    // Never print the key itself.
    return "ProviderConfig[name=" + name + ", type=" + type + ", baseUrl=" + baseUrl + ", apiKeys=" + apiKeys
        + ", models=" + models + (apiVersion.isEmpty() ? "" : ", apiVersion=" + apiVersion)
        + azureAdToken.map(token -> ", azureAdToken=" + token).orElse("") + "]";
  }
}
