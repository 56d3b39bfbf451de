package dev.llmrouter.server.provider;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
 * @param googleCloud where a Vertex AI deployment lives and how it gets its access tokens; empty for other types
 * @param region the AWS region of a Bedrock deployment (its endpoint's and its signature's); empty for other types
 * @param awsKeys the AWS access keys a Bedrock deployment found in the environment, tried before the rest of the AWS
 *     default credentials chain; empty when they are not set, and for other types
 * @param bedrockApi the API a Bedrock deployment calls its models through: {@code converse} (every model family), or
 *     {@code invoke} (InvokeModel with Anthropic's Messages body, for Claude models); empty for other types
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
    Optional<ApiKey> azureAdToken,
    Optional<GoogleCloud> googleCloud,
    String region,
    Optional<AwsKeys> awsKeys,
    String bedrockApi) {

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

  /**
   * A Vertex AI deployment's place in Google Cloud and its credentials (an API key, when it has one, is in
   * {@link #apiKeys}).
   *
   * @param project the Google Cloud project id; empty for Vertex AI express mode (an API key and no project)
   * @param location the region the calls go to (`us-central1`), or `global`; empty in express mode
   * @param accessToken an OAuth2 access token from the environment, sent as it is (never refreshed)
   * @param credentialsFile a Google credentials JSON file (a service-account key, usually) whose tokens the router
   *     fetches and refreshes; with neither this nor a token nor a key, Application Default Credentials
   */
  public record GoogleCloud(String project, String location, Optional<ApiKey> accessToken,
      Optional<Path> credentialsFile) {

    /** Vertex AI's host for the location: regional (`us-central1-aiplatform...`), or the global one. */
    public String defaultBaseUrl() {
      return location.isEmpty() || location.equals("global") ? "https://aiplatform.googleapis.com"
          : "https://" + location + "-aiplatform.googleapis.com";
    }

    /**
     * The path of a publisher's model, `/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/
     * {model}` (`/v1/publishers/...` in express mode), to which a call adds its method (`:generateContent`).
     */
    public String modelPath(String publisher, String model) {
      // The model name comes from the caller: encoded, but for the `@` of a version (claude-sonnet-4@20250514).
      String encoded = URLEncoder.encode(model, StandardCharsets.UTF_8).replace("+", "%20").replace("%40", "@");
      String place = project.isEmpty() ? "" : "/projects/" + project + "/locations/" + location;
      return "/v1" + place + "/publishers/" + publisher + "/models/" + encoded;
    }
  }

  /**
   * AWS access keys from the environment (never from the config file).
   *
   * @param accessKeyId from `AWS_ACCESS_KEY_ID`
   * @param secretAccessKey from `AWS_SECRET_ACCESS_KEY`
   * @param sessionToken from `AWS_SESSION_TOKEN`, for temporary credentials
   */
  public record AwsKeys(ApiKey accessKeyId, ApiKey secretAccessKey, Optional<ApiKey> sessionToken) {
  }

  /** The key adapters send: the first (a deployment with several keys is split into one copy per key). */
  public String apiKey() {
    return apiKeys.isEmpty() ? "" : apiKeys.get(0).value();
  }

  /** The same deployment with only one of its keys. */
  public ProviderConfig withOnlyKey(ApiKey key) {
    return new ProviderConfig(name, type, baseUrl, List.of(key), models, timeout, connectionWaitTimeout,
        maxConcurrency, maxConnections, dropUnsupportedSettings, apiVersion, azureAdToken, googleCloud, region,
        awsKeys, bedrockApi);
  }

  /**
   * The credential calls send, named by its environment variable (the first key's, or the Entra ID token's); empty
   * when the deployment has none. Reasoning a provider signed is tagged with it.
   */
  public String credential() {
    List<ApiKey> credentials = credentials();
    return credentials.isEmpty() ? "" : credentials.get(0).variable();
  }

  /** The secrets calls authenticate with: the API keys, then the Entra ID token or the Vertex AI access token. */
  public List<ApiKey> credentials() {
    return Stream.of(apiKeys.stream(), azureAdToken.stream(), googleCloud.flatMap(GoogleCloud::accessToken).stream())
        .flatMap(s -> s).toList();
  }

  @Override
  public String toString() {
    // Never print the key itself.
    return "ProviderConfig[name=" + name + ", type=" + type + ", baseUrl=" + baseUrl + ", apiKeys=" + apiKeys
        + ", models=" + models + (apiVersion.isEmpty() ? "" : ", apiVersion=" + apiVersion)
        + azureAdToken.map(token -> ", azureAdToken=" + token).orElse("")
        + googleCloud.map(cloud -> ", googleCloud=" + cloud).orElse("")
        + (region.isEmpty() ? "" : ", region=" + region) + awsKeys.map(keys -> ", awsKeys=" + keys).orElse("")
        + (bedrockApi.isEmpty() ? "" : ", bedrockApi=" + bedrockApi) + "]";
  }
}
