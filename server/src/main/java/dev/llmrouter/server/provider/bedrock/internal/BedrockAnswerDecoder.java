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
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.sse.SseEvent;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.eventstream.HeaderValue;
import software.amazon.awssdk.eventstream.Message;
import software.amazon.awssdk.eventstream.MessageDecoder;

/**
 * Reads a Bedrock Converse answer, whole (JSON) or streamed (ConverseStream: the binary
 * `application/vnd.amazon.eventstream` framing, decoded by the AWS SDK's own {@link MessageDecoder}, which checks each
 * frame's checksums), into events. Stream events are `messageStart`, `contentBlockStart` (tool calls),
 * `contentBlockDelta` (text, tool input fragments, reasoning text and signature, citations), `contentBlockStop`,
 * `messageStop` (the stop reason) and `metadata` (usage), always last; an `exception` frame is an error inside the
 * answer. A document citation keeps its cited text, which is part of the answer's text; where it points (document,
 * character range) has no place in the neutral message and is dropped. Bedrock's answers carry no id and do not name
 * their model: the start names the model asked for.
 */
public final class BedrockAnswerDecoder extends AnswerDecoder {

  /**
   * The HTTP status each Bedrock exception stands for, by its name lower-cased (stream frames name them in lower
   * camel case, the `x-amzn-ErrorType` header in upper): for an exception inside a streamed answer, and for the two
   * that come with a status that does not say what they mean (a quota is a 400, a model's failure a 424).
   */
  private static final Map<String, Integer> STATUS_OF_EXCEPTION = Map.ofEntries(
      Map.entry("validationexception", 400), Map.entry("accessdeniedexception", 403),
      Map.entry("expiredtokenexception", 403), Map.entry("unrecognizedclientexception", 403),
      Map.entry("resourcenotfoundexception", 404), Map.entry("modeltimeoutexception", 408),
      Map.entry("throttlingexception", 429), Map.entry("servicequotaexceededexception", 429),
      Map.entry("modelnotreadyexception", 429), Map.entry("internalserverexception", 500),
      Map.entry("modelerrorexception", 502), Map.entry("modelstreamerrorexception", 502),
      Map.entry("serviceunavailableexception", 503));

  private final String upstreamModel;
  private final MessageDecoder frames = new MessageDecoder(this::onFrame);
  /** Tool-call index by content-block index, for the streamed blocks that are tool calls. */
  private final Map<Integer, Integer> toolCallOfBlock = new HashMap<>();
  /** The streamed tool-call blocks that received input fragments. */
  private final Set<Integer> blocksWithInput = new HashSet<>();
  private boolean finished;

  public BedrockAnswerDecoder(String provider, String upstreamModel, ChatEventStream answer) {
    super(provider, answer);
    this.upstreamModel = upstreamModel;
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
    return contentType.startsWith("application/vnd.amazon.eventstream");
  }

  /** Frames the chunk's bytes; a frame whose checksum or lengths do not hold fails the answer as malformed. */
  @Override
  public void onChunk(Buffer chunk) {
    try {
      frames.feed(chunk.getBytes());
    } catch (CallError decoded) {
      throw decoded;
    } catch (RuntimeException corrupt) {
      throw UpstreamErrors.malformed(provider, "the event stream is corrupt (" + corrupt.getMessage() + ")");
    }
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

  /** One frame of the event stream: an event, or an exception (or error) Bedrock reports inside the answer. */
  private void onFrame(Message frame) {
    String messageType = header(frame, ":message-type");
    if (messageType.equals("exception")) {
      throw exception(header(frame, ":exception-type"), payload(frame).path("message").asText(""));
    }
    if (messageType.equals("error")) {
      throw exception(header(frame, ":error-code"), header(frame, ":error-message"));
    }
    if (finished) {
      return; // nothing follows `metadata`
    }
    JsonNode event = payload(frame);
    switch (header(frame, ":event-type")) {
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

  private static String header(Message frame, String name) {
    HeaderValue value = frame.getHeaders().get(name);
    return value == null ? "" : value.getString();
  }

  private JsonNode payload(Message frame) {
    try {
      return UpstreamHttpCall.parseJson(Buffer.buffer(frame.getPayload()));
    } catch (IOException e) {
      throw UpstreamErrors.malformed(provider, "an event's payload is not JSON: " + e.getMessage());
    }
  }

  /** An exception inside the answer, mapped as the status it stands for (an unknown one is Bedrock's failure). */
  private CallError exception(String type, String message) {
    return errorInAnswer(STATUS_OF_EXCEPTION.getOrDefault(type.toLowerCase(Locale.ROOT), 500), type, message);
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

  /**
   * Bedrock's errors are `{"message": ...}`, their type only in the `x-amzn-ErrorType` header
   * (`ThrottlingException:http://internal.amazon.com/...`): mapped by the HTTP status, save the types whose status
   * says less than their name ({@link #STATUS_OF_EXCEPTION}).
   */
  @Override
  public CallError error(int httpStatus, MultiMap headers, Buffer body) {
    String type = headers == null ? "" : headers.get("x-amzn-errortype");
    type = type == null ? "" : type.replaceFirst(":.*", "");
    String message;
    try {
      JsonNode json = UpstreamHttpCall.parseJson(body);
      message = json.path("message").asText(json.path("Message").asText(UpstreamErrors.abbreviate(json.toString())));
      if (type.isEmpty()) {
        type = json.path("__type").asText("").replaceFirst(".*#", "");
      }
    } catch (IOException | RuntimeException notJson) {
      message = UpstreamErrors.abbreviate(body.toString());
    }
    int status = httpStatus;
    Integer standsFor = STATUS_OF_EXCEPTION.get(type.toLowerCase(Locale.ROOT));
    if (standsFor != null && (httpStatus == 400 || httpStatus == 424) && standsFor != 400) {
      status = standsFor;
      message = message + " (" + type + ", sent as HTTP " + httpStatus + ")";
    }
    return UpstreamErrors.fromHttp(provider, status, headers, message, type);
  }
}
