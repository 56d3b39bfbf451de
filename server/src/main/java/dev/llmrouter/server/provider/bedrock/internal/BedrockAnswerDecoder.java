package dev.llmrouter.server.provider.bedrock.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.AnswerDecoder;
import dev.llmrouter.server.provider.UpstreamErrors;
import dev.llmrouter.server.provider.sse.SseEvent;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Reads a Bedrock Converse answer, whole (JSON) or streamed (ConverseStream, in Bedrock's binary event-stream
 * framing: {@link BedrockFrames}), into events. Stream events are `messageStart`, `contentBlockStart` (tool calls),
 * `contentBlockDelta` (text, tool input fragments, reasoning text and signature, citations), `contentBlockStop`,
 * `messageStop` (the stop reason) and `metadata` (usage), always last; an `exception` frame is an error inside the
 * answer. A document citation keeps its cited text, which is part of the answer's text; where it points (document,
 * character range) has no place in the neutral message and is dropped. Bedrock's answers carry no id and do not name
 * their model: the start names the model asked for.
 */
public final class BedrockAnswerDecoder extends AnswerDecoder {

  private final String upstreamModel;
  private final BedrockFrames frames;
  /** Tool-call index by content-block index, for the streamed blocks that are tool calls. */
  private final Map<Integer, Integer> toolCallOfBlock = new HashMap<>();
  /** The streamed tool-call blocks that received input fragments. */
  private final Set<Integer> blocksWithInput = new HashSet<>();
  private boolean finished;

  public BedrockAnswerDecoder(String provider, String upstreamModel, ChatEventStream answer) {
    super(provider, answer);
    this.upstreamModel = upstreamModel;
    this.frames = new BedrockFrames(provider, this::onFrame);
  }

  @Override
  public void onJson(JsonNode body) {
    start();
    int toolCalls = 0;
    for (JsonNode block : body.path("output").path("message").path("content")) {
      JsonNode toolUse = block.path("toolUse");
      if (toolUse.isObject()) {
        // A whole answer holds the parsed input: it is relayed as compact JSON text.
        emitToolCall(toolCalls++, toolUse.path("toolUseId").asText(""), toolUse.path("name").asText(""),
            toolUse.path("input").isObject() ? toolUse.get("input").toString() : "{}");
      } else {
        contentBlock(block);
      }
    }
    usage(body.path("usage"));
    stopReason(body.path("stopReason"));
    complete();
  }

  @Override
  public boolean readsChunks(String contentType) {
    return contentType.startsWith(BedrockFrames.MEDIA_TYPE);
  }

  /** Frames the chunk's bytes ({@link BedrockFrames}). */
  @Override
  public void onChunk(Buffer chunk) {
    frames.feed(chunk);
  }

  /** Bedrock speaks no server-sent events. */
  @Override
  public void onEvent(SseEvent event) {
    throw UpstreamErrors.malformed(provider, "Bedrock sent server-sent events, which Converse never does");
  }

  /** The answer is whole only once `metadata`, always the last event, has come. */
  @Override
  public void onStreamEnd(boolean cutMidEvent) {
    if (!finished) {
      throw UpstreamErrors.unreachable(provider, "the stream ended before the answer finished");
    }
  }

  /** One event of the stream (exceptions inside the answer were thrown by {@link BedrockFrames}). */
  private void onFrame(String eventType, JsonNode event) {
    if (finished) {
      return; // nothing follows `metadata`
    }
    switch (eventType) {
      case "messageStart" -> start();
      case "contentBlockStart" -> blockStart(event.path("contentBlockIndex").asInt(), event.path("start"));
      case "contentBlockDelta" -> blockDelta(event.path("contentBlockIndex").asInt(), event.path("delta"));
      case "contentBlockStop" -> blockStop(event.path("contentBlockIndex").asInt());
      case "messageStop" -> stopReason(event.path("stopReason"));
      case "metadata" -> {
        usage(event.path("usage"));
        complete();
      }
      default -> {
        // event types added later carry nothing the caller needs
      }
    }
  }

  private void start() {
    start("", upstreamModel, Timestamp.getDefaultInstance());
  }

  private void complete() {
    finished = true;
    finish();
  }

  /** A whole content block of a JSON answer (tool calls aside). */
  private void contentBlock(JsonNode block) {
    text(block.path("text").asText(""));
    JsonNode reasoning = block.path("reasoningContent");
    reasoning(reasoning.path("reasoningText").path("text").asText(""),
        reasoning.path("reasoningText").path("signature").asText(""), false);
    reasoning("", reasoning.path("redactedContent").asText(""), true);
    // A cited passage: its text is part of the answer; where it points is dropped (see the class comment).
    for (JsonNode cited : block.path("citationsContent").path("content")) {
      text(cited.path("text").asText(""));
    }
  }

  private void blockStart(int index, JsonNode start) {
    JsonNode toolUse = start.path("toolUse");
    if (toolUse.isObject()) {
      int toolCall = toolCallOfBlock.size();
      toolCallOfBlock.put(index, toolCall);
      emitToolCall(toolCall, toolUse.path("toolUseId").asText(""), toolUse.path("name").asText(""), "");
    }
  }

  private void blockDelta(int index, JsonNode delta) {
    text(delta.path("text").asText(""));
    JsonNode reasoning = delta.path("reasoningContent");
    reasoning(reasoning.path("text").asText(""), reasoning.path("signature").asText(""), false);
    reasoning("", reasoning.path("redactedContent").asText(""), true);
    String input = delta.path("toolUse").path("input").asText("");
    Integer toolCall = toolCallOfBlock.get(index);
    if (toolCall != null && !input.isEmpty()) {
      blocksWithInput.add(index);
      emitToolCall(toolCall, "", "", input);
    }
    // `citation` deltas say where the text deltas that follow them come from: dropped (see the class comment).
  }

  // A tool call without input streams no fragment: its arguments are the empty object.
  private void blockStop(int index) {
    Integer toolCall = toolCallOfBlock.get(index);
    if (toolCall != null && !blocksWithInput.contains(index)) {
      emitToolCall(toolCall, "", "", "{}");
    }
  }

  /**
   * Usage the same way for every provider: input counts every prompt token, including those read from and written
   * to the cache (Bedrock reports the three apart, as Anthropic does); cached input is the part read from the cache.
   */
  private void usage(JsonNode usage) {
    if (!usage.isObject()) {
      return;
    }
    JsonNode cacheRead = usage.path("cacheReadInputTokens");
    Usage.Builder u = Usage.newBuilder();
    if (usage.path("inputTokens").isNumber()) {
      u.setInputTokens(usage.get("inputTokens").asLong() + cacheRead.asLong(0)
          + usage.path("cacheWriteInputTokens").asLong(0));
    }
    if (cacheRead.isNumber()) {
      u.setCachedInputTokens(cacheRead.asLong());
    }
    if (usage.path("outputTokens").isNumber()) {
      u.setOutputTokens(usage.get("outputTokens").asLong());
    }
    emit(ChatEvent.newBuilder().setUsage(u).build());
  }

  private void stopReason(JsonNode stopReason) {
    if (!stopReason.isTextual()) {
      return;
    }
    finishReason = switch (stopReason.asText()) {
      case "end_turn", "stop_sequence" -> FinishReason.FINISH_REASON_STOP;
      case "max_tokens", "model_context_window_exceeded" -> FinishReason.FINISH_REASON_LENGTH;
      case "tool_use" -> FinishReason.FINISH_REASON_TOOL_CALLS;
      case "guardrail_intervened", "content_filtered" -> FinishReason.FINISH_REASON_CONTENT_FILTER;
      default -> FinishReason.FINISH_REASON_UNSPECIFIED;
    };
  }

  /** Bedrock's HTTP errors ({@link BedrockFrames#httpError}). */
  @Override
  public CallError error(int httpStatus, MultiMap headers, Buffer body) {
    return BedrockFrames.httpError(provider, httpStatus, headers, body);
  }
}
