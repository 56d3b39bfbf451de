package dev.llmrouter.server.provider.openai.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.Citation;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.ReasoningDelta;
import dev.llmrouter.api.v1.RefusalDelta;
import dev.llmrouter.api.v1.TextDelta;
import dev.llmrouter.api.v1.ToolCallDelta;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.AnswerDecoder;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.UpstreamErrors;
import dev.llmrouter.server.provider.sse.SseEvent;
import java.util.stream.Stream;

/**
 * Reads an OpenAI Chat Completions answer, whole (`chat.completion`) or streamed (`chat.completion.chunk` events
 * ending with `[DONE]`), into events. Tool-call fragments pass through by index; the stream's assembler joins them.
 */
public final class OpenAiAnswerDecoder extends AnswerDecoder {

  public OpenAiAnswerDecoder(String provider, ChatEventStream answer) {
    super(provider, answer);
  }

  @Override
  public void onJson(JsonNode body) {
    failOnError(body);
    start(body);
    JsonNode choice = body.path("choices").path(0);
    JsonNode message = choice.path("message");
    reasoning(message);
    text(message.path("content"));
    citations(message.path("annotations"));
    refusal(message.path("refusal"));
    JsonNode calls = message.path("tool_calls");
    for (int i = 0; i < calls.size(); i++) {
      JsonNode call = calls.get(i);
      emit(ChatEvent.newBuilder().setToolCallDelta(ToolCallDelta.newBuilder().setIndex(i)
          .setId(call.path("id").asText()).setName(call.path("function").path("name").asText())
          .setArgumentsDelta(call.path("function").path("arguments").asText())).build());
    }
    usage(body.path("usage"));
    if (choice.hasNonNull("finish_reason")) {
      finishReason = finishReason(choice.get("finish_reason"));
    }
    finish();
  }

  @Override
  public void onEvent(SseEvent event) {
    if (event.type().equals("error")) {
      throw errorInAnswer(errorData(event));
    }
    if (event.data().trim().equals("[DONE]")) {
      finish();
      return;
    }
    JsonNode chunk = json(event);
    failOnError(chunk);
    start(chunk);
    for (JsonNode choice : chunk.path("choices")) {
      if (choice.path("index").asInt(0) != 0) {
        continue; // only the first choice is relayed
      }
      JsonNode delta = choice.path("delta");
      reasoning(delta);
      text(delta.path("content"));
      citations(delta.path("annotations"));
      refusal(delta.path("refusal"));
      for (JsonNode call : delta.path("tool_calls")) {
        JsonNode function = call.path("function");
        emit(ChatEvent.newBuilder().setToolCallDelta(ToolCallDelta.newBuilder()
            .setIndex(call.path("index").asInt(0)).setId(call.path("id").asText(""))
            .setName(function.path("name").asText("")).setArgumentsDelta(function.path("arguments").asText("")))
            .build());
      }
      if (choice.hasNonNull("finish_reason")) {
        finishReason = finishReason(choice.get("finish_reason"));
      }
    }
    // Groq's streams put the usage in `x_groq` (newer ones also at the top).
    usage(chunk.path("usage").isObject() ? chunk.path("usage") : chunk.path("x_groq").path("usage"));
  }

  @Override
  protected String messageOf(JsonNode json) {
    return errorMessage(json);
  }

  @Override
  protected String codeOf(JsonNode error) {
    return errorCode(error);
  }

  /** The message of any of OpenAI's and the compatible hosts' error shapes (both OpenAI APIs share them). */
  static String errorMessage(JsonNode json) {
    JsonNode error = json.path("error");
    String message = error.isTextual() ? error.asText()
        : error.path("message").asText(json.path("message").asText(json.path("detail").asText("")));
    return message.isEmpty() ? UpstreamErrors.abbreviate(json.toString()) : message;
  }

  /** The error's `code` when it is a name (OpenRouter and Azure put the HTTP status there), else its `type`. */
  static String errorCode(JsonNode error) {
    JsonNode code = error.path("code");
    return code.isTextual() && code.asInt(0) == 0 ? code.asText() : error.path("type").asText("");
  }

  // An error inside a 200 answer or stream: the upstream failed after it started.
  private void failOnError(JsonNode node) {
    if (node.hasNonNull("error")) {
      throw errorInAnswer(node);
    }
  }

  /**
   * An error reported inside a 200 answer, with the status it names: Groq's `error` event carries `status_code`,
   * OpenRouter puts the status in the error's `code` (in a chunk beside `choices`, then `[DONE]`).
   */
  private CallError errorInAnswer(JsonNode json) {
    JsonNode error = json.path("error");
    int status = Stream.of(error.path("status_code"), json.path("status_code"), error.path("status"),
        error.path("code")).mapToInt(n -> n.asInt(0)).filter(s -> s >= 100 && s <= 599).findFirst().orElse(0);
    return errorInAnswer(status, codeOf(error), messageOf(json));
  }

  private void start(JsonNode node) {
    start(node.path("id").asText(""), node.path("model").asText(""),
        Timestamp.newBuilder().setSeconds(node.path("created").asLong(0)).build());
  }

  // Compatible hosts that expose reasoning name the field `reasoning_content` (DeepSeek, vLLM) or `reasoning` (Groq).
  private void reasoning(JsonNode message) {
    String text = message.path("reasoning_content").asText(message.path("reasoning").asText(""));
    if (message.path("reasoning").isTextual() || message.path("reasoning_content").isTextual()) {
      if (!text.isEmpty()) {
        emit(ChatEvent.newBuilder().setReasoningDelta(ReasoningDelta.newBuilder().setText(text)).build());
      }
    }
  }

  private void text(JsonNode content) {
    if (content.isTextual() && !content.asText().isEmpty()) {
      emit(ChatEvent.newBuilder().setTextDelta(TextDelta.newBuilder().setText(content.asText())).build());
    }
  }

  /**
   * The `url_citation` annotations of a search model's answer, whose offsets count code points of the message's
   * text, as the router's do (a stream sends them in a delta of their own).
   */
  private void citations(JsonNode annotations) {
    for (JsonNode annotation : annotations) {
      JsonNode url = annotation.path("url_citation");
      if (annotation.path("type").asText().equals("url_citation") && url.isObject()) {
        cite(Citation.newBuilder().setUrl(url.path("url").asText("")).setTitle(url.path("title").asText(""))
            .setStartIndex(url.path("start_index").asInt()).setEndIndex(url.path("end_index").asInt()).build());
      }
    }
  }

  private void refusal(JsonNode refusal) {
    if (refusal.isTextual() && !refusal.asText().isEmpty()) {
      emit(ChatEvent.newBuilder().setRefusalDelta(RefusalDelta.newBuilder().setText(refusal.asText())).build());
    }
  }

  private void usage(JsonNode usage) {
    if (!usage.isObject()) {
      return;
    }
    Usage.Builder u = Usage.newBuilder();
    if (usage.has("prompt_tokens")) {
      u.setInputTokens(usage.get("prompt_tokens").asLong());
    }
    if (usage.has("completion_tokens")) {
      u.setOutputTokens(usage.get("completion_tokens").asLong());
    }
    // OpenAI's place for cached tokens, then DeepSeek's (`prompt_cache_hit_tokens`), then Together's (top level).
    Stream.of(usage.path("prompt_tokens_details").path("cached_tokens"), usage.path("prompt_cache_hit_tokens"),
            usage.path("cached_tokens")).filter(JsonNode::isNumber).findFirst()
        .ifPresent(cached -> u.setCachedInputTokens(cached.asLong()));
    if (usage.path("completion_tokens_details").has("reasoning_tokens")) {
      u.setReasoningTokens(usage.path("completion_tokens_details").get("reasoning_tokens").asLong());
    }
    emit(ChatEvent.newBuilder().setUsage(u).build());
  }

  private static FinishReason finishReason(JsonNode reason) {
    return switch (reason.asText("")) {
      case "stop", "eos" -> FinishReason.FINISH_REASON_STOP; // `eos` (end of sequence): Together's older models
      case "length" -> FinishReason.FINISH_REASON_LENGTH;
      case "tool_calls", "function_call" -> FinishReason.FINISH_REASON_TOOL_CALLS;
      case "content_filter" -> FinishReason.FINISH_REASON_CONTENT_FILTER;
      default -> FinishReason.FINISH_REASON_UNSPECIFIED;
    };
  }
}
