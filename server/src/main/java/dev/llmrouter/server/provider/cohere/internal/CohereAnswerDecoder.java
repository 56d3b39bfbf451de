package dev.llmrouter.server.provider.cohere.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.ReasoningDelta;
import dev.llmrouter.api.v1.TextDelta;
import dev.llmrouter.api.v1.ToolCallDelta;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.AnswerDecoder;
import dev.llmrouter.server.provider.UpstreamErrors;
import dev.llmrouter.server.provider.sse.SseEvent;

/**
 * Reads a Cohere Chat v2 answer, whole or streamed (`message-start`, `content-delta`, `tool-plan-delta`,
 * `tool-call-start` / `-delta` / `-end`, `message-end`, then a bare `[DONE]`), into events. The tool plan (what the
 * model means to do with its tools) and a reasoning model's `thinking` content are reasoning; the usage is what the
 * model counted (`tokens`), or what was billed (`billed_units`) when that is all there is. Cohere's answers do not
 * name their model: the start names the one asked for.
 */
public final class CohereAnswerDecoder extends AnswerDecoder {

  private final String upstreamModel;

  public CohereAnswerDecoder(String provider, String upstreamModel, ChatEventStream answer) {
    super(provider, answer);
    this.upstreamModel = upstreamModel;
  }

  @Override
  public void onJson(JsonNode body) {
    start(body.path("id").asText(""));
    JsonNode message = body.path("message");
    reasoning(message.path("tool_plan"));
    for (JsonNode content : message.path("content")) {
      content(content);
    }
    JsonNode calls = message.path("tool_calls");
    for (int i = 0; i < calls.size(); i++) {
      toolCall(i, calls.get(i));
    }
    usage(body.path("usage"));
    finishReason(body.path("finish_reason"), body);
    finish();
  }

  @Override
  public void onEvent(SseEvent event) {
    if (event.data().trim().equals("[DONE]")) {
      finish();
      return;
    }
    JsonNode json = json(event);
    JsonNode message = json.path("delta").path("message");
    switch (json.path("type").asText(event.type())) {
      case "message-start" -> start(json.path("id").asText(""));
      case "content-start", "content-delta" -> content(message.path("content"));
      case "tool-plan-delta" -> reasoning(message.path("tool_plan"));
      case "tool-call-start", "tool-call-delta" -> toolCall(json.path("index").asInt(0), message.path("tool_calls"));
      case "message-end" -> {
        usage(json.path("delta").path("usage"));
        finishReason(json.path("delta").path("finish_reason"), json.path("delta"));
      }
      default -> {
        // content-end, tool-call-end, citations: nothing the caller needs
      }
    }
  }

  /** Cohere's errors are `{"id": ..., "message": ...}`. */
  @Override
  protected String messageOf(JsonNode json) {
    String message = json.path("message").asText("");
    return message.isEmpty() ? super.messageOf(json) : message;
  }

  private void start(String id) {
    start(id, upstreamModel, Timestamp.getDefaultInstance());
  }

  /** A text or thinking content item (whole, or one delta of it). */
  private void content(JsonNode content) {
    reasoning(content.path("thinking"));
    String text = content.path("text").asText("");
    if (!text.isEmpty()) {
      emit(ChatEvent.newBuilder().setTextDelta(TextDelta.newBuilder().setText(text)).build());
    }
  }

  private void reasoning(JsonNode text) {
    if (text.isTextual() && !text.asText().isEmpty()) {
      emit(ChatEvent.newBuilder().setReasoningDelta(ReasoningDelta.newBuilder().setText(text.asText())).build());
    }
  }

  private void toolCall(int index, JsonNode call) {
    JsonNode function = call.path("function");
    emit(ChatEvent.newBuilder().setToolCallDelta(ToolCallDelta.newBuilder().setIndex(index)
        .setId(call.path("id").asText("")).setName(function.path("name").asText(""))
        .setArgumentsDelta(function.path("arguments").asText(""))).build());
  }

  private void usage(JsonNode usage) {
    JsonNode counted = usage.path("tokens").isObject() ? usage.path("tokens") : usage.path("billed_units");
    if (!counted.isObject()) {
      return;
    }
    Usage.Builder u = Usage.newBuilder();
    if (counted.path("input_tokens").isNumber()) {
      u.setInputTokens(counted.path("input_tokens").asLong());
    }
    if (counted.path("output_tokens").isNumber()) {
      u.setOutputTokens(counted.path("output_tokens").asLong());
    }
    if (usage.path("cached_tokens").isNumber()) {
      u.setCachedInputTokens(usage.path("cached_tokens").asLong());
    }
    emit(ChatEvent.newBuilder().setUsage(u).build());
  }

  /** Reads Cohere's finish reason; `ERROR` and `TIMEOUT` fail the answer (with the `error` Cohere gives, if any). */
  private void finishReason(JsonNode reason, JsonNode holder) {
    if (reason.isMissingNode() || reason.isNull()) {
      return;
    }
    finishReason = switch (reason.asText()) {
      case "COMPLETE", "STOP_SEQUENCE" -> FinishReason.FINISH_REASON_STOP;
      case "MAX_TOKENS" -> FinishReason.FINISH_REASON_LENGTH;
      case "TOOL_CALL" -> FinishReason.FINISH_REASON_TOOL_CALLS;
      case "ERROR", "TIMEOUT" -> {
        String error = holder.path("error").asText("");
        throw errorInAnswer(reason.asText().equals("TIMEOUT") ? 504 : 500, reason.asText(),
            error.isEmpty() ? "Cohere ended the answer with finish_reason " + reason.asText()
                : UpstreamErrors.abbreviate(error));
      }
      default -> FinishReason.FINISH_REASON_UNSPECIFIED;
    };
  }
}
