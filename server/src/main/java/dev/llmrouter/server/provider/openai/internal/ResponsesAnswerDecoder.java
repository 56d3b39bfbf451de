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
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.AnswerDecoder;
import dev.llmrouter.server.provider.UpstreamErrors;
import dev.llmrouter.server.provider.sse.SseEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads an OpenAI Responses answer, whole (a `response` object) or streamed (typed events from `response.created` to
 * `response.completed`, `.incomplete` or `.failed`, with no `[DONE]`), into events. Output items map to reasoning
 * (summaries and reasoning text as its text, a blank line between parts; encrypted content as its signature), text,
 * refusals and tool calls, numbered by their position among the answer's function calls. A text's `url_citation`
 * annotations are citations, their offsets moved from the text part to the answer's text; web search calls are
 * counted in the usage. Other built-in tool calls carry nothing for the caller. The Responses API has no finish reason: it is read from
 * the status, the incomplete reason and whether the answer calls functions.
 *
 * <p>An answer may hold several reasoning items; its signature is their encrypted contents, one per line (the
 * encrypted content is base64, without line breaks), as {@link #encryptedItems} reads it back. They are read from
 * the final Response object, as OpenAI's SDKs keep them (each event of a stream that repeats an item encrypts it
 * anew), or from the items a stream said were done when that object lists none.
 */
public final class ResponsesAnswerDecoder extends AnswerDecoder {

  /** Between the encrypted contents of an answer's reasoning items in its signature. */
  private static final String ITEM_SEPARATOR = "\n";
  /** Between two parts of the reasoning text (summary parts, reasoning items). */
  private static final String PART_SEPARATOR = "\n\n";

  /** Tool-call index by output index, for the answer's function calls. */
  private final Map<Integer, Integer> toolCallOfOutput = new HashMap<>();
  /** The streamed function calls whose arguments were relayed. */
  private final Set<Integer> toolCallsWithArguments = new HashSet<>();
  /** Which reasoning part the last reasoning text came from; null before any. */
  private String reasoningPart;
  /** The encrypted contents of the reasoning items a stream said were done. */
  private final List<String> streamedEncrypted = new ArrayList<>();
  /** Where each text part (`<output index> <content index>`) starts in the answer's text, in code points. */
  private final Map<String, Integer> textPartStart = new HashMap<>();
  /** The web search calls a stream said were done. */
  private int streamedSearches;

  public ResponsesAnswerDecoder(String provider, ChatEventStream answer) {
    super(provider, answer);
  }

  /** The encrypted contents of the reasoning items a signature of this decoder holds, in their order. */
  static List<String> encryptedItems(String signature) {
    return Arrays.stream(signature.split(ITEM_SEPARATOR)).filter(item -> !item.isEmpty()).toList();
  }

  @Override
  public void onJson(JsonNode body) {
    if (body.path("error").isObject()) {
      throw errorInAnswer(body.get("error"));
    }
    start(body);
    JsonNode output = body.path("output");
    for (int i = 0; i < output.size(); i++) {
      JsonNode item = output.get(i);
      switch (item.path("type").asText()) {
        case "reasoning" -> {
          for (String field : List.of("summary", "content")) {
            for (int part = 0; part < item.path(field).size(); part++) {
              reasoningText(field + " " + i + " " + part, item.path(field).get(part).path("text"));
            }
          }
        }
        case "message" -> item.path("content").forEach(part -> {
          int start = textLength();
          text(part.path("text"));
          part.path("annotations").forEach(annotation -> citation(annotation, start));
          refusal(part.path("refusal"));
        });
        case "function_call" -> {
          int toolCall = toolCallOfOutput.size();
          toolCallOfOutput.put(i, toolCall);
          emitToolCall(toolCall, item, item.path("arguments").asText(""));
        }
        default -> {
          // built-in tool calls (web search, file search...) are the provider's own business
        }
      }
    }
    end(body);
  }

  @Override
  public void onEvent(SseEvent event) {
    JsonNode data = json(event);
    // The `event:` line repeats the data's `type`, which is authoritative.
    switch (data.path("type").asText(event.type())) {
      case "response.created", "response.in_progress" -> start(data.path("response"));
      case "response.output_item.added" -> itemAdded(data.path("output_index").asInt(), data.path("item"));
      case "response.output_item.done" -> itemDone(data.path("output_index").asInt(), data.path("item"));
      case "response.reasoning_summary_text.delta" -> reasoningText("summary " + data.path("output_index").asInt()
          + " " + data.path("summary_index").asInt(), data.path("delta"));
      case "response.reasoning_text.delta" -> reasoningText("content " + data.path("output_index").asInt()
          + " " + data.path("content_index").asInt(), data.path("delta"));
      case "response.output_text.delta" -> {
        textPartStart.putIfAbsent(textPart(data), textLength());
        text(data.path("delta"));
      }
      case "response.output_text.annotation.added" ->
          citation(data.path("annotation"), textPartStart.getOrDefault(textPart(data), textLength()));
      case "response.refusal.delta" -> refusal(data.path("delta"));
      case "response.function_call_arguments.delta" -> {
        Integer toolCall = toolCallOfOutput.get(data.path("output_index").asInt());
        String fragment = data.path("delta").asText("");
        if (toolCall != null && !fragment.isEmpty()) {
          toolCallsWithArguments.add(toolCall);
          emit(toolCallDelta(toolCall, "", "", fragment));
        }
      }
      case "response.completed", "response.incomplete", "response.failed" -> end(data.path("response"));
      // The error object is the event itself, or (as some streams send it) its `error`.
      case "error" -> throw errorInAnswer(data.path("error").isObject() ? data.get("error") : data);
      default -> {
        // part boundaries, `.done` events repeating what the deltas said, built-in tool progress
      }
    }
  }

  private void itemAdded(int outputIndex, JsonNode item) {
    if (item.path("type").asText().equals("function_call")) {
      int toolCall = toolCallOfOutput.size();
      toolCallOfOutput.put(outputIndex, toolCall);
      String arguments = item.path("arguments").asText("");
      if (!arguments.isEmpty()) {
        toolCallsWithArguments.add(toolCall);
      }
      emitToolCall(toolCall, item, arguments);
    }
  }

  /** A reasoning item's encrypted content is known when the item is done; a call's arguments without deltas too. */
  private void itemDone(int outputIndex, JsonNode item) {
    switch (item.path("type").asText()) {
      case "reasoning" -> streamedEncrypted.add(item.path("encrypted_content").asText(""));
      case "web_search_call" -> streamedSearches++;
      case "function_call" -> {
        Integer toolCall = toolCallOfOutput.get(outputIndex);
        if (toolCall == null) {
          itemAdded(outputIndex, item);
        } else if (toolCallsWithArguments.add(toolCall)) {
          emit(toolCallDelta(toolCall, "", "", item.path("arguments").asText("")));
        }
      }
      default -> {
      }
    }
  }

  /** The end of the answer: the encrypted reasoning, the usage and why it stopped; or why it failed. */
  private void end(JsonNode response) {
    if (response.path("status").asText().equals("failed")) {
      throw errorInAnswer(response.path("error"));
    }
    start(response);
    JsonNode output = response.path("output");
    List<String> encrypted = output.isEmpty() ? streamedEncrypted : new ArrayList<>();
    output.forEach(item -> {
      if (item.path("type").asText().equals("reasoning")) {
        encrypted.add(item.path("encrypted_content").asText(""));
      }
    });
    String signature = encrypted.stream().filter(e -> !e.isEmpty()).collect(Collectors.joining(ITEM_SEPARATOR));
    if (!signature.isEmpty()) {
      emit(ChatEvent.newBuilder().setReasoningDelta(ReasoningDelta.newBuilder().setSignature(signature)).build());
    }
    int searches = output.isEmpty() ? streamedSearches : 0;
    for (JsonNode item : output) {
      searches += item.path("type").asText().equals("web_search_call") ? 1 : 0;
    }
    usage(response.path("usage"), searches);
    finishReason = switch (response.path("status").asText()) {
      case "completed" -> toolCallOfOutput.isEmpty() ? FinishReason.FINISH_REASON_STOP
          : FinishReason.FINISH_REASON_TOOL_CALLS;
      case "incomplete" -> switch (response.path("incomplete_details").path("reason").asText()) {
        case "max_output_tokens" -> FinishReason.FINISH_REASON_LENGTH;
        case "content_filter" -> FinishReason.FINISH_REASON_CONTENT_FILTER;
        default -> FinishReason.FINISH_REASON_UNSPECIFIED;
      };
      default -> null; // still in progress (a background response): not an answer
    };
    finish();
  }

  private void start(JsonNode response) {
    start(response.path("id").asText(""), response.path("model").asText(""),
        Timestamp.newBuilder().setSeconds(response.path("created_at").asLong(0)).build());
  }

  /** Reasoning text of the part named {@code part}; a new part begins after a blank line. */
  private void reasoningText(String part, JsonNode text) {
    if (!text.isTextual() || text.asText().isEmpty()) {
      return;
    }
    String separator = reasoningPart != null && !reasoningPart.equals(part) ? PART_SEPARATOR : "";
    reasoningPart = part;
    emit(ChatEvent.newBuilder().setReasoningDelta(ReasoningDelta.newBuilder().setText(separator + text.asText()))
        .build());
  }

  private void text(JsonNode text) {
    if (text.isTextual() && !text.asText().isEmpty()) {
      emit(ChatEvent.newBuilder().setTextDelta(TextDelta.newBuilder().setText(text.asText())).build());
    }
  }

  private static String textPart(JsonNode event) {
    return event.path("output_index").asInt() + " " + event.path("content_index").asInt();
  }

  /**
   * A `url_citation` annotation, its offsets counted from {@code partStart}, where its text part starts (xAI's
   * have only the URL).
   */
  private void citation(JsonNode annotation, int partStart) {
    if (!annotation.path("type").asText().equals("url_citation")) {
      return;
    }
    Citation.Builder citation = Citation.newBuilder().setUrl(annotation.path("url").asText(""))
        .setTitle(annotation.path("title").asText(""));
    if (annotation.path("start_index").isInt() && annotation.path("end_index").isInt()) {
      citation.setStartIndex(partStart + annotation.get("start_index").asInt())
          .setEndIndex(partStart + annotation.get("end_index").asInt());
    }
    cite(citation.build());
  }

  private void refusal(JsonNode refusal) {
    if (refusal.isTextual() && !refusal.asText().isEmpty()) {
      emit(ChatEvent.newBuilder().setRefusalDelta(RefusalDelta.newBuilder().setText(refusal.asText())).build());
    }
  }

  private void emitToolCall(int index, JsonNode item, String arguments) {
    emit(toolCallDelta(index, item.path("call_id").asText(item.path("id").asText("")), item.path("name").asText(""),
        arguments));
  }

  private static ChatEvent toolCallDelta(int index, String id, String name, String argumentsFragment) {
    return ChatEvent.newBuilder().setToolCallDelta(ToolCallDelta.newBuilder().setIndex(index).setId(id).setName(name)
        .setArgumentsDelta(argumentsFragment)).build();
  }

  /**
   * Usage as the router counts it, which is how the Responses API reports it: input including the cached part,
   * output including the reasoning part.
   */
  private void usage(JsonNode usage, int webSearches) {
    if (!usage.isObject()) {
      return;
    }
    Usage.Builder u = Usage.newBuilder();
    if (webSearches > 0) {
      u.setWebSearches(webSearches); // the Responses API counts no searches: its web_search_call items do
    }
    if (usage.path("input_tokens").isNumber()) {
      u.setInputTokens(usage.get("input_tokens").asLong());
    }
    if (usage.path("input_tokens_details").path("cached_tokens").isNumber()) {
      u.setCachedInputTokens(usage.path("input_tokens_details").get("cached_tokens").asLong());
    }
    if (usage.path("output_tokens").isNumber()) {
      u.setOutputTokens(usage.get("output_tokens").asLong());
    }
    if (usage.path("output_tokens_details").path("reasoning_tokens").isNumber()) {
      u.setReasoningTokens(usage.path("output_tokens_details").get("reasoning_tokens").asLong());
    }
    emit(ChatEvent.newBuilder().setUsage(u).build());
  }

  /**
   * An error inside a 200 answer: the error of a failed response, an `error` event, or an error object. A code that
   * is a name says what it stands for (`rate_limit_exceeded`, `server_error`); so does a type, but the event's own.
   */
  private CallError errorInAnswer(JsonNode error) {
    JsonNode code = error.path("code");
    String type = error.path("type").asText("");
    String message = error.path("message").asText("");
    return errorInAnswer(0, code.isTextual() ? code.asText() : type.equals("error") ? "" : type,
        message.isEmpty() ? UpstreamErrors.abbreviate(error.toString()) : message);
  }

  @Override
  protected String messageOf(JsonNode json) {
    return OpenAiAnswerDecoder.errorMessage(json);
  }

  @Override
  protected String codeOf(JsonNode error) {
    return OpenAiAnswerDecoder.errorCode(error);
  }
}
