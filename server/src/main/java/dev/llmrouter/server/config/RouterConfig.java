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
 * @param eventLoops how many event loops serve the listener's connections
 * @param maxMessageBytes the largest gRPC message accepted or sent
 * @param cassettes the record/replay settings
 * @param providers the upstream deployments, by name
 * @param aliases model names that stand for several targets
 * @param resilience retries and circuit breaking
 * @param converse live sessions
 * @param adminListen where the admin HTTP listener (the live chat page, metrics) listens; none when absent
 * @param observability the call log and the price table
 * @param streamKeepAlive the longest silence on an HTTP ingress stream before a keep-alive comment is sent
 * @param tls the certificate both listeners serve, and the CA of client certificates; plain text when absent
 * @param auth caller keys: whether they are required, the admin key, where keys and counters live
 * @param drainTimeout how long a drain (SIGTERM) lets running calls and streams finish before it cancels them
 * @param prompts where the prompt templates are
 * @param conversations how stored conversations are compacted
 */
public record RouterConfig(
    String host,
    int port,
    int eventLoops,
    long maxMessageBytes,
    CassetteConfig cassettes,
    List<ProviderConfig> providers,
    List<AliasConfig> aliases,
    ResilienceConfig resilience,
    ConverseConfig converse,
    Optional<Address> adminListen,
    ObservabilityConfig observability,
    Duration streamKeepAlive,
    Optional<TlsConfig> tls,
    AuthConfig auth,
    Duration drainTimeout,
    PromptConfig prompts,
    ConversationConfig conversations) {

  public static final long DEFAULT_MAX_MESSAGE_BYTES = 16L * 1024 * 1024;
  public static final Duration DEFAULT_STREAM_KEEP_ALIVE = Duration.ofSeconds(15);
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

  /** One event loop per core: the most a router can use, as each loop is one thread. */
  public static final int DEFAULT_EVENT_LOOPS = Runtime.getRuntime().availableProcessors();

  /** A {@code host:port} to listen on; port 0 picks a free one. */
  public record Address(String host, int port) {
  }

  /** The provider of this name; a loop, not a stream: the call log's writer asks for every call. */
  public Optional<ProviderConfig> provider(String name) {
    for (ProviderConfig provider : providers) {
      if (provider.name().equals(name)) {
        return Optional.of(provider);
      }
    }
    return Optional.empty();
  }

  public RouterConfig withPort(int newPort) {
    return new RouterConfig(host, newPort, eventLoops, maxMessageBytes, cassettes, providers, aliases, resilience, converse,
        adminListen, observability, streamKeepAlive, tls, auth, drainTimeout, prompts, conversations);
  }

  public RouterConfig withObservability(ObservabilityConfig newObservability) {
    return new RouterConfig(host, port, eventLoops, maxMessageBytes, cassettes, providers, aliases, resilience, converse,
        adminListen, newObservability, streamKeepAlive, tls, auth, drainTimeout, prompts, conversations);
  }

  public RouterConfig withCassettes(CassetteConfig newCassettes) {
    return new RouterConfig(host, port, eventLoops, maxMessageBytes, newCassettes, providers, aliases, resilience, converse,
        adminListen, observability, streamKeepAlive, tls, auth, drainTimeout, prompts, conversations);
  }

  public RouterConfig withEventLoops(int newEventLoops) {
    return new RouterConfig(host, port, newEventLoops, maxMessageBytes, cassettes, providers, aliases, resilience,
        converse, adminListen, observability, streamKeepAlive, tls, auth, drainTimeout, prompts, conversations);
  }

  public RouterConfig withDrainTimeout(Duration newDrainTimeout) {
    return new RouterConfig(host, port, eventLoops, maxMessageBytes, cassettes, providers, aliases, resilience,
        converse, adminListen, observability, streamKeepAlive, tls, auth, newDrainTimeout, prompts, conversations);
  }

  public RouterConfig withPrompts(PromptConfig newPrompts) {
    return new RouterConfig(host, port, eventLoops, maxMessageBytes, cassettes, providers, aliases, resilience,
        converse, adminListen, observability, streamKeepAlive, tls, auth, drainTimeout, newPrompts, conversations);
  }
}
