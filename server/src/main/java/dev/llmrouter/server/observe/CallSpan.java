package dev.llmrouter.server.observe;

import dev.llmrouter.api.v1.CallType;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Origin;
import dev.llmrouter.api.v1.ReasoningEffort;
import dev.llmrouter.api.v1.ResponseFormatType;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.CallError;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import java.net.URI;
import java.util.List;
import java.util.function.Function;

/**
 * The span of one model call (`chat {model}`, kind CLIENT) with the GenAI semantic conventions' attributes: the
 * request's settings when it starts, then the answer's model, id, finish reason, tokens and time to first chunk, the
 * cassette outcome and the cost when it ends; and with `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`,
 * the prompt and the answer, redacted by the call log's rules. A span the sampler left out (or the no-op's) is not
 * described at all.
 */
final class CallSpan {

  private final CallTracing tracing;
  private final Span span;
  private final ChatRequest request;
  private final boolean stream;
  private final Function<String, String> providerType;

  CallSpan(CallTracing tracing, Span span, CallContext call, ChatRequest request,
      Function<String, String> providerType) {
    this.tracing = tracing;
    this.span = span;
    this.request = request;
    this.stream = call.type() != CallType.CALL_TYPE_CHAT;
    this.providerType = providerType;
    if (span.isRecording()) {
      describe(call);
    }
  }

  /** What is known when the call starts: who made it, and how the model is asked to answer. */
  private void describe(CallContext call) {
    span.setAttribute(GenAiAttributes.CALL_ID, call.callId());
    if (stream) {
      span.setAttribute(GenAiAttributes.REQUEST_STREAM, true);
    }
    if (!call.sessionId().isEmpty()) {
      span.setAttribute(GenAiAttributes.CONVERSATION_ID, call.sessionId());
    }
    if (!call.tags().isEmpty()) {
      span.setAttribute(GenAiAttributes.TAGS, call.tags());
    }
    GenerationSettings settings = request.getSettings();
    if (settings.hasTemperature()) {
      span.setAttribute(GenAiAttributes.REQUEST_TEMPERATURE, settings.getTemperature());
    }
    if (settings.hasTopP()) {
      span.setAttribute(GenAiAttributes.REQUEST_TOP_P, settings.getTopP());
    }
    if (settings.hasMaxOutputTokens()) {
      span.setAttribute(GenAiAttributes.REQUEST_MAX_TOKENS, (long) settings.getMaxOutputTokens());
    }
    if (settings.getStopSequencesCount() > 0) {
      span.setAttribute(GenAiAttributes.REQUEST_STOP_SEQUENCES, List.copyOf(settings.getStopSequencesList()));
    }
    if (settings.hasSeed()) {
      span.setAttribute(GenAiAttributes.REQUEST_SEED, settings.getSeed());
    }
    if (settings.hasPresencePenalty()) {
      span.setAttribute(GenAiAttributes.REQUEST_PRESENCE_PENALTY, settings.getPresencePenalty());
    }
    if (settings.hasFrequencyPenalty()) {
      span.setAttribute(GenAiAttributes.REQUEST_FREQUENCY_PENALTY, settings.getFrequencyPenalty());
    }
    if (settings.getReasoningEffort() != ReasoningEffort.REASONING_EFFORT_UNSPECIFIED) {
      span.setAttribute(GenAiAttributes.REQUEST_REASONING_LEVEL,
          GenAiAttributes.reasoningLevel(settings.getReasoningEffort()));
    }
    ResponseFormatType format = request.getResponseFormat().getType();
    if (format == ResponseFormatType.RESPONSE_FORMAT_TYPE_TEXT) {
      span.setAttribute(GenAiAttributes.OUTPUT_TYPE, "text");
    } else if (format != ResponseFormatType.RESPONSE_FORMAT_TYPE_UNSPECIFIED) {
      span.setAttribute(GenAiAttributes.OUTPUT_TYPE, "json");
    }
  }

  /**
   * Starts the span of an upstream request (`attempt {deployment}`, kind CLIENT), a child of the call's.
   *
   * @param number the attempt's number in the call, from 1
   * @param baseUrl the deployment's `base_url`, for `server.address` and `server.port`
   */
  AttemptSpan attempt(int number, String deployment, String upstreamModel, String baseUrl) {
    Span attempt = !tracing.exports() ? span // as the no-op's span builder would, without a name and a context
        : tracing.tracer().spanBuilder("attempt " + deployment).setSpanKind(SpanKind.CLIENT)
            .setParent(Context.root().with(span)).startSpan();
    if (attempt.isRecording()) {
      attempt.setAttribute(GenAiAttributes.ATTEMPT, (long) number);
      attempt.setAttribute(GenAiAttributes.DEPLOYMENT, deployment);
      attempt.setAttribute(GenAiAttributes.UPSTREAM_MODEL, upstreamModel);
      URI server = URI.create(baseUrl);
      if (server.getHost() != null) {
        attempt.setAttribute(GenAiAttributes.SERVER_ADDRESS, server.getHost());
        attempt.setAttribute(GenAiAttributes.SERVER_PORT,
            (long) (server.getPort() != -1 ? server.getPort() : "http".equals(server.getScheme()) ? 80 : 443));
      }
    }
    return new AttemptSpan(attempt, tracing.redactor());
  }

  /**
   * The call ended: OK ({@code error} null) with its {@code response}, or failed.
   *
   * @param deployment the deployment that answered, or that the last request went to; empty when none
   * @param upstreamModel the model that answered; empty when none did
   * @param response the complete answer; null when the call failed
   * @param attempts how many upstream requests the call sent
   * @param timeToFirstEventNanos from the call's start to its first event; negative when none came
   */
  void end(CallError error, String deployment, String upstreamModel, Origin origin, Usage usage,
      ChatResponse response, int attempts, long timeToFirstEventNanos) {
    if (span.isRecording()) {
      describeAnswer(deployment, upstreamModel, origin, usage, response, attempts, timeToFirstEventNanos);
      if (error != null) {
        span.setStatus(StatusCode.ERROR, tracing.redactor().redactText(error.getMessage()));
        span.setAttribute(GenAiAttributes.ERROR_TYPE, GenAiAttributes.errorType(error));
      }
      if (tracing.capturesContent()) {
        describeContent(response);
      }
    }
    span.end();
  }

  private void describeAnswer(String deployment, String upstreamModel, Origin origin, Usage usage,
      ChatResponse response, int attempts, long timeToFirstEventNanos) {
    if (!deployment.isEmpty()) {
      span.setAttribute(GenAiAttributes.DEPLOYMENT, deployment);
      span.setAttribute(GenAiAttributes.PROVIDER_NAME, GenAiAttributes.providerName(providerType.apply(deployment)));
    }
    if (!upstreamModel.isEmpty()) {
      span.setAttribute(GenAiAttributes.RESPONSE_MODEL, upstreamModel);
    }
    span.setAttribute(GenAiAttributes.ATTEMPTS, (long) attempts);
    if (origin.getCassette() != CassetteOutcome.CASSETTE_OUTCOME_UNSPECIFIED) {
      span.setAttribute(GenAiAttributes.CASSETTE_OUTCOME, GenAiAttributes.cassetteOutcome(origin.getCassette()));
    }
    if (!origin.getCassetteKey().isEmpty()) {
      span.setAttribute(GenAiAttributes.CASSETTE_KEY, origin.getCassetteKey());
      span.setAttribute(GenAiAttributes.CASSETTE_SCOPE, origin.getCassetteScope());
    }
    if (usage.hasInputTokens()) {
      span.setAttribute(GenAiAttributes.USAGE_INPUT_TOKENS, usage.getInputTokens());
    }
    if (usage.hasOutputTokens()) {
      span.setAttribute(GenAiAttributes.USAGE_OUTPUT_TOKENS, usage.getOutputTokens());
    }
    if (usage.hasCachedInputTokens()) {
      span.setAttribute(GenAiAttributes.USAGE_CACHE_READ_INPUT_TOKENS, usage.getCachedInputTokens());
    }
    if (usage.hasReasoningTokens()) {
      span.setAttribute(GenAiAttributes.USAGE_REASONING_OUTPUT_TOKENS, usage.getReasoningTokens());
    }
    if (usage.hasCostUsd()) {
      span.setAttribute(GenAiAttributes.COST_USD, usage.getCostUsd());
    }
    if (timeToFirstEventNanos >= 0 && stream) {
      span.setAttribute(GenAiAttributes.RESPONSE_TIME_TO_FIRST_CHUNK, timeToFirstEventNanos / 1e9);
    }
    if (response != null) {
      span.setAttribute(GenAiAttributes.RESPONSE_ID, response.getId());
      span.setAttribute(GenAiAttributes.RESPONSE_FINISH_REASONS,
          List.of(GenAiAttributes.finishReason(response.getFinishReason())));
    } else if (timeToFirstEventNanos >= 0) {
      // The answer had begun: the conventions say `error` for a generation that did not finish.
      span.setAttribute(GenAiAttributes.RESPONSE_FINISH_REASONS, List.of("error"));
    }
  }

  /** The prompt, tools and answer, with what the call log's redaction rules take out taken out. */
  private void describeContent(ChatResponse response) {
    ChatRequest redacted = tracing.redactor().redact(request);
    if (redacted.getMessagesList().stream().anyMatch(message -> message.getRole() == Role.ROLE_SYSTEM)) {
      span.setAttribute(GenAiAttributes.SYSTEM_INSTRUCTIONS,
          GenAiContent.systemInstructions(redacted.getMessagesList()));
    }
    span.setAttribute(GenAiAttributes.INPUT_MESSAGES, GenAiContent.inputMessages(redacted.getMessagesList()));
    if (redacted.getToolsCount() > 0) {
      span.setAttribute(GenAiAttributes.TOOL_DEFINITIONS, GenAiContent.toolDefinitions(redacted.getToolsList()));
    }
    if (response != null) {
      span.setAttribute(GenAiAttributes.OUTPUT_MESSAGES, GenAiContent.outputMessages(
          tracing.redactor().redact(response.getMessage()), response.getFinishReason()));
    }
  }
}
