package dev.llmrouter.server.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * Where calls are logged and what they cost: `data_dir`, `call_log:` and `prices:`.
 *
 * @param dataDir the folder of the router's own files; the call log is {@code <dataDir>/calls.db}
 * @param callLog whether model calls are logged
 * @param callLogBodies whether the log keeps system prompts, messages, tools and answers (off for privacy)
 * @param callLogQueueSize how many records may wait for the writer; beyond that new ones are dropped and counted
 * @param callLogRetention how long calls are kept; empty to keep them all
 * @param callLogMaxBodyBytes the most bytes of prompts and answer one record keeps; beyond it text is cut and
 *     images and documents are left out, and the record says so
 * @param prices prices and limits (the model catalog) by model name, added to and overriding the bundled defaults
 * @param callLogPostgres `call_log.postgres_url`: the call log in this PostgreSQL database, shared by every replica,
 *     instead of the SQLite file
 * @param tracing OpenTelemetry traces, from the `OTEL_*` environment variables (not from the file)
 */
public record ObservabilityConfig(String dataDir, boolean callLog, boolean callLogBodies, int callLogQueueSize,
    Optional<Duration> callLogRetention, int callLogMaxBodyBytes, Map<String, ModelPrice> prices,
    Optional<PostgresUrl> callLogPostgres, TracingConfig tracing) {

  public static final ObservabilityConfig DEFAULT = new ObservabilityConfig("data", true, true, 10_000,
      Optional.empty(), 1 << 20, Map.of(), Optional.empty(), TracingConfig.OFF);

  /**
   * What one model costs, in US dollars per million tokens, and what it takes (its entry in the model catalog).
   *
   * @param input per million input tokens that were not read from the prompt cache
   * @param output per million output tokens (reasoning included)
   * @param cachedInput per million input tokens read from the prompt cache; the input price when absent
   * @param webSearch per thousand web searches (`ChatRequest.web_search`); searches are free when absent
   * @param contextWindow the most tokens input and output together may hold; empty when not known
   * @param maxOutputTokens the most tokens one answer may hold; empty when not known
   * @param modalities the kinds of input the model takes (`text`, `image`, `pdf`, `audio`, `video`); empty when not
   *     known
   */
  public record ModelPrice(double input, double output, OptionalDouble cachedInput, OptionalDouble webSearch,
      OptionalInt contextWindow, OptionalInt maxOutputTokens, List<String> modalities) {

    public ModelPrice {
      modalities = List.copyOf(modalities);
    }

    /** Prices alone, with no limits known. */
    public ModelPrice(double input, double output, OptionalDouble cachedInput, OptionalDouble webSearch) {
      this(input, output, cachedInput, webSearch, OptionalInt.empty(), OptionalInt.empty(), List.of());
    }

    /** Token prices alone: no web search price, no limits known. */
    public ModelPrice(double input, double output, OptionalDouble cachedInput) {
      this(input, output, cachedInput, OptionalDouble.empty());
    }
  }

  public ObservabilityConfig withCallLog(boolean enabled) {
    return new ObservabilityConfig(dataDir, enabled, callLogBodies, callLogQueueSize, callLogRetention,
        callLogMaxBodyBytes, prices, callLogPostgres, tracing);
  }

  public ObservabilityConfig withDataDir(String newDataDir) {
    return new ObservabilityConfig(newDataDir, callLog, callLogBodies, callLogQueueSize, callLogRetention,
        callLogMaxBodyBytes, prices, callLogPostgres, tracing);
  }

  public ObservabilityConfig withTracing(TracingConfig newTracing) {
    return new ObservabilityConfig(dataDir, callLog, callLogBodies, callLogQueueSize, callLogRetention,
        callLogMaxBodyBytes, prices, callLogPostgres, newTracing);
  }
}
