package dev.llmrouter.server.provider.anthropic.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.Citation;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.AnswerDecoder;
import dev.llmrouter.server.provider.sse.SseEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads an Anthropic Messages answer, whole (a `message` object) or streamed (`message_start`, `content_block_start`
 * / `_delta` / `_stop`, `message_delta`, `message_stop`, with `ping` and `error` in between), into events. Content
 * blocks map to text, reasoning (thinking text and signature; redacted thinking as its data) and tool calls, which
 * are numbered by their position among the answer's tool calls.
 */
public final class AnthropicAnswerDecoder extends AnswerDecoder {

  /** The usage reported by `message_start`; `message_delta` adds the output count (and may update the rest). */
  private JsonNode startUsage;
  /** Tool-call index by content-block index, for the streamed blocks that are tool calls. */
  private final Map<Integer, Integer> toolCallOfBlock = new HashMap<>();
  /** The streamed tool-call blocks that received argument fragments. */
  private final Set<Integer> blocksWithArguments = new HashSet<>();
  /** Where each streamed text block starts in the answer's text, in code points, by content-block index. */
  private final Map<Integer, Integer> textBlockStart = new HashMap<>();
  /** The web search citations of each streamed text block, emitted when the block (so its span) ends. */
  private final Map<Integer, List<JsonNode>> blockCitations = new HashMap<>();

  public AnthropicAnswerDecoder(String provider, ChatEventStream answer) {
    super(provider, answer);
  }

  @Override
  public void onJson(JsonNode body) {
    failOnError(body);
    start(body);
    int toolCalls = 0;
    for (JsonNode block : body.path("content")) {
      if (block.path("type").asText().equals("tool_use")) {
        // A whole answer holds the parsed input: it is relayed as compact JSON text.
        emitToolCall(toolCalls++, block.path("id").asText(), block.path("name").asText(),
            block.path("input").isObject() ? block.get("input").toString() : "{}");
      } else {
        contentBlock(block);
      }
    }
    usage(body.path("usage"), null);
    if (body.hasNonNull("stop_reason")) {
      finishReason = finishReason(body.get("stop_reason"));
    }
    finish();
  }

  @Override
  public void onEvent(SseEvent event) {
    if (event.type().equals("error")) {
      throw errorInAnswer(errorData(event));
    }
    JsonNode data = json(event);
    // The `event:` line repeats the data's `type`; the data is what Anthropic documents as authoritative.
    switch (data.path("type").asText(event.type())) {
      case "message_start" -> {
        start(data.path("message"));
        startUsage = data.path("message").path("usage");
      }
      case "content_block_start" -> blockStart(data.path("index").asInt(), data.path("content_block"));
      case "content_block_delta" -> blockDelta(data.path("index").asInt(), data.path("delta"));
      case "content_block_stop" -> blockStop(data.path("index").asInt());
      case "message_delta" -> {
        if (data.path("delta").hasNonNull("stop_reason")) {
          finishReason = finishReason(data.path("delta").get("stop_reason"));
        }
        usage(data.path("usage"), startUsage);
      }
      case "message_stop" ->
          finish();
      case "error" -> throw errorInAnswer(data);
      default -> {
        // `ping` and event types added later carry nothing the caller needs.
      }
    }
  }

  /** A whole answer that is an error object. */
  private void failOnError(JsonNode body) {
    if (body.path("type").asText().equals("error")) {
      throw errorInAnswer(body);
    }
  }

  /** An error inside a 200 answer or stream: Anthropic names its type, which stands for a documented status. */
  private CallError errorInAnswer(JsonNode data) {
    return errorInAnswer(0, codeOf(data.path("error")), messageOf(data));
  }

  private void start(JsonNode message) {
    // Anthropic answers carry no creation time: the router stamps the moment the answer began.
    start(message.path("id").asText(""), message.path("model").asText(""),
        Timestamp.newBuilder().setSeconds(Instant.now().getEpochSecond()).build());
  }

  /**
   * A whole text, thinking or redacted thinking block; a text block's citations cite the whole block. Other block
   * types (the web search tool's calls and results among them) carry nothing for the caller.
   */
  private void contentBlock(JsonNode block) {
    switch (block.path("type").asText()) {
      case "text" -> {
        int start = textLength();
        text(block.path("text").asText(""));
        block.path("citations").forEach(citation -> cite(citation, start));
      }
      case "thinking" -> reasoning(block.path("thinking").asText(""), block.path("signature").asText(""), false);
      case "redacted_thinking" -> reasoning("", block.path("data").asText(""), true);
      default -> {
      }
    }
  }

  private void blockStart(int index, JsonNode block) {
    if (block.path("type").asText().equals("tool_use")) {
      int toolCall = toolCallOfBlock.size();
      toolCallOfBlock.put(index, toolCall);
      emitToolCall(toolCall, block.path("id").asText(), block.path("name").asText(), "");
    } else if (block.path("type").asText().equals("text")) {
      // Its citations wait for the block's end, when the span they cite is whole.
      textBlockStart.put(index, textLength());
      text(block.path("text").asText(""));
      block.path("citations").forEach(blockCitations.computeIfAbsent(index, i -> new ArrayList<>())::add);
    } else {
      contentBlock(block); // blocks usually start empty and fill through deltas
    }
  }

  private void blockDelta(int index, JsonNode delta) {
    switch (delta.path("type").asText()) {
      case "text_delta" -> text(delta.path("text").asText(""));
      case "thinking_delta" -> reasoning(delta.path("thinking").asText(""), "", false);
      case "signature_delta" -> reasoning("", delta.path("signature").asText(""), false);
      case "input_json_delta" -> {
        String fragment = delta.path("partial_json").asText("");
        Integer toolCall = toolCallOfBlock.get(index);
        if (toolCall != null && !fragment.isEmpty()) {
          blocksWithArguments.add(index);
          emitToolCall(toolCall, "", "", fragment);
        }
      }
      case "citations_delta" -> blockCitations.computeIfAbsent(index, i -> new ArrayList<>())
          .add(delta.path("citation"));
      default -> {
        // later delta types have no event of their own
      }
    }
  }

  // A tool call without input streams no fragment: its arguments are the empty object.
  private void blockStop(int index) {
    int start = textBlockStart.getOrDefault(index, textLength());
    blockCitations.getOrDefault(index, List.of()).forEach(citation -> cite(citation, start));
    Integer toolCall = toolCallOfBlock.get(index);
    if (toolCall != null && !blocksWithArguments.contains(index)) {
      emitToolCall(toolCall, "", "", "{}");
    }
  }

  /**
   * A web search citation of the text from {@code start} to the end of the text so far (its block's text); other
   * citation kinds (of documents in the request) are not relayed.
   */
  private void cite(JsonNode citation, int start) {
    if (citation.path("type").asText().equals("web_search_result_location")) {
      cite(Citation.newBuilder().setUrl(citation.path("url").asText("")).setTitle(citation.path("title").asText(""))
          .setCitedText(citation.path("cited_text").asText("")).setStartIndex(start).setEndIndex(textLength())
          .build());
    }
  }

  /**
   * Usage the same way for every provider: input counts every prompt token, including those read from and written
   * to the cache (Anthropic reports the three apart); cached input is the part read from the cache.
   *
   * @param usage the usage object of the answer, or of `message_delta`
   * @param earlier the usage of `message_start` for the counts `message_delta` leaves out, or {@code null}
   */
  private void usage(JsonNode usage, JsonNode earlier) {
    if (!usage.isObject()) {
      return;
    }
    JsonNode input = latest("input_tokens", usage, earlier);
    JsonNode cacheWrite = latest("cache_creation_input_tokens", usage, earlier);
    JsonNode cacheRead = latest("cache_read_input_tokens", usage, earlier);
    Usage.Builder u = Usage.newBuilder();
    if (input.isNumber()) {
      u.setInputTokens(input.asLong() + cacheWrite.asLong(0) + cacheRead.asLong(0));
    }
    if (cacheRead.isNumber()) {
      u.setCachedInputTokens(cacheRead.asLong());
    }
    if (usage.path("output_tokens").isNumber()) {
      u.setOutputTokens(usage.get("output_tokens").asLong());
    }
    JsonNode serverTools = usage.path("server_tool_use").isObject() || earlier == null
        ? usage.path("server_tool_use") : earlier.path("server_tool_use");
    JsonNode searches = serverTools.path("web_search_requests");
    if (searches.isNumber() && searches.asLong() > 0) {
      u.setWebSearches(searches.asLong());
    }
    emit(ChatEvent.newBuilder().setUsage(u).build());
  }

  // `message_delta` counts are cumulative: when it reports one, it replaces the `message_start` value.
  private static JsonNode latest(String field, JsonNode usage, JsonNode earlier) {
    return usage.path(field).isNumber() || earlier == null ? usage.path(field) : earlier.path(field);
  }

  private static FinishReason finishReason(JsonNode stopReason) {
    return switch (stopReason.asText("")) {
      case "end_turn", "stop_sequence" -> FinishReason.FINISH_REASON_STOP;
      case "max_tokens" -> FinishReason.FINISH_REASON_LENGTH;
      case "tool_use" -> FinishReason.FINISH_REASON_TOOL_CALLS;
      case "refusal" -> FinishReason.FINISH_REASON_CONTENT_FILTER;
      default -> FinishReason.FINISH_REASON_UNSPECIFIED;
    };
  }
}
