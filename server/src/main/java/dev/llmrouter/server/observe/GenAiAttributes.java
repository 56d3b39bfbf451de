package dev.llmrouter.server.observe;

import static io.opentelemetry.api.common.AttributeKey.booleanKey;
import static io.opentelemetry.api.common.AttributeKey.doubleKey;
import static io.opentelemetry.api.common.AttributeKey.longKey;
import static io.opentelemetry.api.common.AttributeKey.stringArrayKey;
import static io.opentelemetry.api.common.AttributeKey.stringKey;

import com.google.rpc.ErrorInfo;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.ReasoningEffort;
import dev.llmrouter.server.answer.CallError;
import io.opentelemetry.api.common.AttributeKey;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The span attributes of the OpenTelemetry GenAI semantic conventions that the router sets (those of their inference
 * span, `gen_ai.client.inference`, in development status: names may still change), and the router's own
 * (`llmrouter.*`), with the mappings from the router's vocabulary to their values.
 */
final class GenAiAttributes {

  static final String CHAT = "chat";
  static final String EMBEDDINGS = "embeddings";

  static final AttributeKey<String> OPERATION_NAME = stringKey("gen_ai.operation.name");
  static final AttributeKey<String> PROVIDER_NAME = stringKey("gen_ai.provider.name");
  static final AttributeKey<String> CONVERSATION_ID = stringKey("gen_ai.conversation.id");
  static final AttributeKey<String> OUTPUT_TYPE = stringKey("gen_ai.output.type");
  static final AttributeKey<String> REQUEST_MODEL = stringKey("gen_ai.request.model");
  static final AttributeKey<Boolean> REQUEST_STREAM = booleanKey("gen_ai.request.stream");
  static final AttributeKey<Double> REQUEST_TEMPERATURE = doubleKey("gen_ai.request.temperature");
  static final AttributeKey<Double> REQUEST_TOP_P = doubleKey("gen_ai.request.top_p");
  static final AttributeKey<Long> REQUEST_MAX_TOKENS = longKey("gen_ai.request.max_tokens");
  static final AttributeKey<List<String>> REQUEST_STOP_SEQUENCES = stringArrayKey("gen_ai.request.stop_sequences");
  static final AttributeKey<Long> REQUEST_SEED = longKey("gen_ai.request.seed");
  static final AttributeKey<Double> REQUEST_PRESENCE_PENALTY = doubleKey("gen_ai.request.presence_penalty");
  static final AttributeKey<Double> REQUEST_FREQUENCY_PENALTY = doubleKey("gen_ai.request.frequency_penalty");
  static final AttributeKey<String> REQUEST_REASONING_LEVEL = stringKey("gen_ai.request.reasoning.level");
  static final AttributeKey<String> RESPONSE_ID = stringKey("gen_ai.response.id");
  static final AttributeKey<String> RESPONSE_MODEL = stringKey("gen_ai.response.model");
  static final AttributeKey<List<String>> RESPONSE_FINISH_REASONS = stringArrayKey("gen_ai.response.finish_reasons");
  static final AttributeKey<Double> RESPONSE_TIME_TO_FIRST_CHUNK = doubleKey("gen_ai.response.time_to_first_chunk");
  static final AttributeKey<Long> USAGE_INPUT_TOKENS = longKey("gen_ai.usage.input_tokens");
  static final AttributeKey<Long> USAGE_OUTPUT_TOKENS = longKey("gen_ai.usage.output_tokens");
  static final AttributeKey<Long> USAGE_CACHE_READ_INPUT_TOKENS = longKey("gen_ai.usage.cache_read.input_tokens");
  static final AttributeKey<Long> USAGE_REASONING_OUTPUT_TOKENS = longKey("gen_ai.usage.reasoning.output_tokens");
  // Opt-in content (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT): JSON text in the conventions' schemas.
  static final AttributeKey<String> SYSTEM_INSTRUCTIONS = stringKey("gen_ai.system_instructions");
  static final AttributeKey<String> INPUT_MESSAGES = stringKey("gen_ai.input.messages");
  static final AttributeKey<String> OUTPUT_MESSAGES = stringKey("gen_ai.output.messages");
  static final AttributeKey<String> TOOL_DEFINITIONS = stringKey("gen_ai.tool.definitions");

  static final AttributeKey<String> ERROR_TYPE = stringKey("error.type");
  static final AttributeKey<String> SERVER_ADDRESS = stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = longKey("server.port");
  static final AttributeKey<Long> HTTP_RESPONSE_STATUS_CODE = longKey("http.response.status_code");

  /** The call's id in the call log (also its span's id). */
  static final AttributeKey<String> CALL_ID = stringKey("llmrouter.call.id");
  static final AttributeKey<List<String>> TAGS = stringArrayKey("llmrouter.tags");
  /** `hit`, `recorded` or `live`. */
  static final AttributeKey<String> CASSETTE_OUTCOME = stringKey("llmrouter.cassette.outcome");
  static final AttributeKey<String> CASSETTE_KEY = stringKey("llmrouter.cassette.key");
  static final AttributeKey<String> CASSETTE_SCOPE = stringKey("llmrouter.cassette.scope");
  /** What the call cost, in US dollars, by the router's price table. */
  static final AttributeKey<Double> COST_USD = doubleKey("llmrouter.usage.cost_usd");
  /** The deployment (`providers[].name`) that answered, or that an attempt went to. */
  static final AttributeKey<String> DEPLOYMENT = stringKey("llmrouter.deployment");
  /** How many upstream requests the call sent. */
  static final AttributeKey<Long> ATTEMPTS = longKey("llmrouter.attempts");
  /** An attempt's number in its call, from 1. */
  static final AttributeKey<Long> ATTEMPT = longKey("llmrouter.attempt");
  /** The model an attempt asked its deployment for. */
  static final AttributeKey<String> UPSTREAM_MODEL = stringKey("llmrouter.upstream.model");

  /** The conventions' names of the providers whose wire format a provider type speaks. */
  private static final Map<String, String> PROVIDER_NAMES = Map.of(
      "openai", "openai",
      "openai-responses", "openai",
      "azure-openai", "azure.ai.openai",
      "anthropic", "anthropic",
      "bedrock", "aws.bedrock",
      "cohere", "cohere",
      "gemini", "gcp.gemini",
      "vertex", "gcp.vertex_ai");

  private GenAiAttributes() {
  }

  /** `gen_ai.provider.name` of a provider type: the conventions' name, or the type itself when they have none. */
  static String providerName(String providerType) {
    return PROVIDER_NAMES.getOrDefault(providerType, providerType);
  }

  /** `stop`, `length`, `tool_calls`, `content_filter` or `error`. */
  static String finishReason(FinishReason reason) {
    return switch (reason) {
      case FINISH_REASON_LENGTH -> "length";
      case FINISH_REASON_TOOL_CALLS -> "tool_calls";
      case FINISH_REASON_CONTENT_FILTER -> "content_filter";
      case FINISH_REASON_ERROR -> "error";
      default -> "stop";
    };
  }

  /** `low`, `medium`...: the effort's name as the providers spell it. */
  static String reasoningLevel(ReasoningEffort effort) {
    return effort.name().substring("REASONING_EFFORT_".length()).toLowerCase(Locale.ROOT);
  }

  /** `hit`, `recorded` or `live`. */
  static String cassetteOutcome(CassetteOutcome outcome) {
    return outcome.name().substring("CASSETTE_OUTCOME_".length()).toLowerCase(Locale.ROOT);
  }

  /**
   * `error.type`: the error's reason (`UPSTREAM_UNAVAILABLE`, `CASSETTE_MISS`, `UPSTREAM_RATE_LIMITED`...), else its
   * gRPC status (`INVALID_ARGUMENT`, `CANCELLED`...): a short list, the one the router's errors already use.
   */
  static String errorType(CallError error) {
    return error.errorInfo().map(ErrorInfo::getReason).filter(reason -> !reason.isEmpty())
        .orElse(error.status().name());
  }
}
