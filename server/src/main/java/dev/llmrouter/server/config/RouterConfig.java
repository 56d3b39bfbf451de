package dev.llmrouter.server.config;

import dev.llmrouter.server.provider.ProviderConfig;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The router's whole configuration, validated.
 *
 * @param host the address to listen on
 * @param port the port to listen on; 0 picks a free one
 * @param maxMessageBytes the largest gRPC message accepted or sent
 * @param cassettes the record/replay settings
 * @param providers the upstream deployments, by name
 * @param aliases model names that stand for several targets
 * @param resilience retries and circuit breaking
 * @param converse live sessions
 * @param adminListen where the admin HTTP listener (the live chat page, metrics) listens; none when absent
 * @param observability the call log and the price table
 * @param streamKeepAlive the longest silence on an HTTP ingress stream before a keep-alive comment is sent
 * @param auth caller keys: whether they are required, the admin key, where keys and counters live
 */
public record RouterConfig(
    String host,
    int port,
    long maxMessageBytes,
    CassetteConfig cassettes,
    List<ProviderConfig> providers,
    List<AliasConfig> aliases,
    ResilienceConfig resilience,
    ConverseConfig converse,
    Optional<Address> adminListen,
    ObservabilityConfig observability,
    Duration streamKeepAlive,
    AuthConfig auth) {

  public static final long DEFAULT_MAX_MESSAGE_BYTES = 16L * 1024 * 1024;
  public static final Duration DEFAULT_STREAM_KEEP_ALIVE = Duration.ofSeconds(15);

  /** A {@code host:port} to listen on; port 0 picks a free one. */
  public record Address(String host, int port) {
  }

  public Optional<ProviderConfig> provider(String name) {
    return providers.stream().filter(p -> p.name().equals(name)).findFirst();
  }

  public RouterConfig withPort(int newPort) {
    return new RouterConfig(host, newPort, maxMessageBytes, cassettes, providers, aliases, resilience, converse,
        adminListen, observability, streamKeepAlive, auth);
  }

  public RouterConfig withObservability(ObservabilityConfig newObservability) {
    return new RouterConfig(host, port, maxMessageBytes, cassettes, providers, aliases, resilience, converse,
        adminListen, newObservability, streamKeepAlive, auth);
  }

  public RouterConfig withCassettes(CassetteConfig newCassettes) {
    return new RouterConfig(host, port, maxMessageBytes, newCassettes, providers, aliases, resilience, converse,
        adminListen, observability, streamKeepAlive, auth);
  }
}
