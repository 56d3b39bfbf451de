package dev.llmrouter.server.config;

import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * OpenTelemetry tracing, configured the standard way: by the `OTEL_*` environment variables of the router's process
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`...), read by the SDK's autoconfigure.
 * Tracing is off when none is set, or when `OTEL_SDK_DISABLED=true`.
 *
 * @param environment the `OTEL_*` variables, by name
 */
public record TracingConfig(Map<String, String> environment) {

  /** Tracing off: no `OTEL_*` variable. */
  public static final TracingConfig OFF = new TracingConfig(Map.of());

  /** The variable that puts prompts and answers on spans, as OpenTelemetry's GenAI instrumentations name it. */
  public static final String CAPTURE_MESSAGE_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

  private static final String PREFIX = "OTEL_";
  private static final String SDK_DISABLED = "OTEL_SDK_DISABLED";

  public TracingConfig {
    environment = Map.copyOf(environment);
  }

  /** The `OTEL_*` variables of {@code environment} (the process's, or a test's). */
  public static TracingConfig of(Map<String, String> environment) {
    return new TracingConfig(environment.entrySet().stream().filter(variable -> variable.getKey().startsWith(PREFIX))
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
  }

  /** Whether any `OTEL_*` variable is set, and `OTEL_SDK_DISABLED` is not `true`. */
  public boolean enabled() {
    return !environment.isEmpty() && !Boolean.parseBoolean(environment.getOrDefault(SDK_DISABLED, "false").trim());
  }

  /** Whether spans carry the (redacted) prompts and answers: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`. */
  public boolean captureMessageContent() {
    return Boolean.parseBoolean(environment.getOrDefault(CAPTURE_MESSAGE_CONTENT, "false").trim());
  }

  /** The variables' names only: their values may hold secrets (`OTEL_EXPORTER_OTLP_HEADERS` often has an API key). */
  @Override
  public String toString() {
    return "TracingConfig" + new TreeMap<>(environment).keySet();
  }
}
