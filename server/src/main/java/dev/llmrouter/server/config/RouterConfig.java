package dev.llmrouter.server.config;

import java.util.List;
import java.util.Optional;

/**
 * The router's whole configuration, validated.
 *
 * @param host the address to listen on
 * @param port the port to listen on; 0 picks a free one
 * @param maxMessageBytes the largest gRPC message accepted or sent
 * @param cassetteDir where cassettes live
 * @param cassetteMode the default cassette mode: replay, record, auto or off
 * @param allowModeOverride whether callers may pick the cassette mode per call (`x-cassette-mode` metadata)
 * @param recordTiming whether recordings keep each event's time offset, for paced replay
 * @param cassetteUsageFile where the cassettes that answered are listed (`--track-usage`), or empty for nowhere
 * @param providers the upstream deployments, by name
 * @param aliases model names that stand for several targets
 * @param resilience retries and circuit breaking
 */
public record RouterConfig(
    String host,
    int port,
    long maxMessageBytes,
    String cassetteDir,
    String cassetteMode,
    boolean allowModeOverride,
    boolean recordTiming,
    Optional<String> cassetteUsageFile,
    List<ProviderConfig> providers,
    List<AliasConfig> aliases,
    ResilienceConfig resilience) {

  public static final long DEFAULT_MAX_MESSAGE_BYTES = 16L * 1024 * 1024;
  public static final String DEFAULT_CASSETTE_DIR = "cassettes/recorded";

  public Optional<ProviderConfig> provider(String name) {
    return providers.stream().filter(p -> p.name().equals(name)).findFirst();
  }

  public RouterConfig withPort(int newPort) {
    return new RouterConfig(host, newPort, maxMessageBytes, cassetteDir, cassetteMode, allowModeOverride,
        recordTiming, cassetteUsageFile, providers, aliases, resilience);
  }

  public RouterConfig withCassetteDir(String dir) {
    return new RouterConfig(host, port, maxMessageBytes, dir, cassetteMode, allowModeOverride, recordTiming,
        cassetteUsageFile, providers, aliases, resilience);
  }

  public RouterConfig withCassetteMode(String mode) {
    return new RouterConfig(host, port, maxMessageBytes, cassetteDir, mode, allowModeOverride, recordTiming,
        cassetteUsageFile, providers, aliases, resilience);
  }

  public RouterConfig withCassetteUsageFile(String file) {
    return new RouterConfig(host, port, maxMessageBytes, cassetteDir, cassetteMode, allowModeOverride,
        recordTiming, Optional.of(file), providers, aliases, resilience);
  }
}
