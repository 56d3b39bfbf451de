package dev.llmrouter.server.ingress.anthropic.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatStart;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ReasoningDelta;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolCallDelta;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.ingress.DialectCall;
import dev.llmrouter.server.ingress.DialectCall.Frame;
import dev.llmrouter.server.ingress.DialectValues;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Writes an answer as Anthropic Messages does: one `message` object, or the typed events `message_start`, then per
 * content block `content_block_start` / `content_block_delta` / `content_block_stop`, then `message_delta` (stop
 * reason and usage) and `message_stop`. A block ends when the kind of content changes or another tool call begins;
 * a refusal is text (the stop reason says `refusal`), as Anthropic sends it.
 *
 * <p>Usage is Anthropic's: `input_tokens` leaves out the tokens read from the cache (`cache_read_input_tokens`), which
 * the router's count includes. The router does not keep cache writes apart, so they stay in `input_tokens`.
 */
public final class MessagesWriter implements DialectCall.Writer {

  private static final String ID_PREFIX = "msg_";

  /** The kind of the content block open in the stream; NONE between blocks. */
  private enum Block { NONE, TEXT, THINKING, REDACTED_THINKING, TOOL_USE }

  private Block open = Block.NONE;
  /** The index of the open block, or of the last one closed. */
  private int openIndex = -1;
  /** The tool call the open tool_use block holds, and its arguments so far. */
  private int openToolCall = -1;
  private final StringBuilder openArguments = new StringBuilder();
  /** The tool calls whose blocks ended, which no fragment reopens. */
  private final Set<Integer> closedToolCalls = new HashSet<>();
  /** The tool calls waiting for the open block to end, by index. */
  private final TreeMap<Integer, HeldToolCall> heldToolCalls = new TreeMap<>();
  /** The open thinking block's signature, sent whole before it stops: the SDKs keep the last `signature_delta`. */
  private final StringBuilder signature = new StringBuilder();
  private Usage usage;

  @Override
  public ObjectNode answer(ChatResponse response) {
    ObjectNode message = header(response.getId(), response.getModel());
    ArrayNode content = message.putArray("content");
    for (Part part : response.getMessage().getPartsList()) {
      switch (part.getKindCase()) {
        case REASONING -> content.add(part.getReasoning().getRedacted()
            ? redactedThinking(part.getReasoning().getSignature())
            : ProtoJson.MAPPER.createObjectNode().put("type", "thinking").put("thinking", part.getReasoning().getText())
                .put("signature", part.getReasoning().getSignature()));
        case TEXT -> content.addObject().put("type", "text").put("text", part.getText());
        case REFUSAL -> content.addObject().put("type", "text").put("text", part.getRefusal());
        default -> {
          // images and documents are never part of an answer
        }
      }
    }
    for (ToolCall call : response.getMessage().getToolCallsList()) {
      content.addObject().put("type", "tool_use").put("id", call.getId()).put("name", call.getName())
          .set("input", input(call.getArgumentsJson()));
    }
    message.put("stop_reason", stopReason(response.getFinishReason())).putNull("stop_sequence");
    message.set("usage", usage(response.getUsage()));
    return message;
  }

  /** The events one neutral event becomes. */
  @Override
  public void event(ChatEvent event, Consumer<Frame> out) {
    switch (event.getEventCase()) {
      case START -> {
        ChatStart start = event.getStart();
        ObjectNode message = header(start.getId(), start.getModel());
        message.putArray("content");
        message.putNull("stop_reason").putNull("stop_sequence");
        // The counts come with the answer's end: message_delta carries them all.
        message.putObject("usage").put("input_tokens", 0).put("output_tokens", 0);
        ObjectNode data = ProtoJson.MAPPER.createObjectNode().put("type", "message_start");
        data.set("message", message);
        out.accept(frame(data));
      }
      case TEXT_DELTA -> text(event.getTextDelta().getText(), out);
      case REFUSAL_DELTA -> text(event.getRefusalDelta().getText(), out);
      case REASONING_DELTA -> reasoning(event.getReasoningDelta(), out);
      case TOOL_CALL_DELTA -> toolCall(event.getToolCallDelta(), out);
      case USAGE -> usage = event.getUsage();
      case DONE -> {
        endToolCalls(out);
        ChatResponse response = event.getDone().getResponse();
        ObjectNode data = ProtoJson.MAPPER.createObjectNode().put("type", "message_delta");
        data.putObject("delta").put("stop_reason", stopReason(response.getFinishReason())).putNull("stop_sequence");
        data.set("usage", usage(response.hasUsage() ? response.getUsage() : usage == null ? Usage.getDefaultInstance()
            : usage));
        out.accept(frame(data));
        out.accept(frame(ProtoJson.MAPPER.createObjectNode().put("type", "message_stop")));
      }
      default -> {
      }
    }
  }

  /** An error after the stream started: an `error` event holding the error body. */
  @Override
  public void failure(ObjectNode errorBody, Consumer<Frame> out) {
    out.accept(new Frame("error", errorBody.toString()));
  }

  private void text(String text, Consumer<Frame> out) {
    if (text.isEmpty()) {
      return;
    }
    if (open != Block.TEXT) {
      endToolCalls(out);
      startBlock(Block.TEXT, ProtoJson.MAPPER.createObjectNode().put("type", "text").put("text", ""), out);
    }
    delta(ProtoJson.MAPPER.createObjectNode().put("type", "text_delta").put("text", text), out);
  }

  private void reasoning(ReasoningDelta reasoning, Consumer<Frame> out) {
    if (reasoning.getRedacted()) {
      // Redacted thinking is its encrypted data, whole, in a block of its own.
      endToolCalls(out);
      startBlock(Block.REDACTED_THINKING, redactedThinking(reasoning.getSignature()), out);
      closeBlock(out);
      return;
    }
    if (reasoning.getText().isEmpty() && reasoning.getSignature().isEmpty()) {
      return;
    }
    if (open != Block.THINKING) {
      endToolCalls(out);
      startBlock(Block.THINKING, ProtoJson.MAPPER.createObjectNode().put("type", "thinking").put("thinking", "")
          .put("signature", ""), out);
    }
    if (!reasoning.getText().isEmpty()) {
      delta(ProtoJson.MAPPER.createObjectNode().put("type", "thinking_delta").put("thinking", reasoning.getText()),
          out);
    }
    signature.append(reasoning.getSignature());
  }

  /**
   * A tool-call fragment. Anthropic streams one block at a time, while some providers interleave the fragments of
   * parallel calls: the open call streams as it comes, and another call's fragments are held until the open call's
   * arguments are a whole JSON value (no fragment can follow that), or until other content or the end comes.
   */
  private void toolCall(ToolCallDelta call, Consumer<Frame> out) {
    if (closedToolCalls.contains(call.getIndex())) {
      return; // its arguments were whole: what could follow is only whitespace
    }
    if (open == Block.TOOL_USE && openToolCall == call.getIndex()) {
      argumentsDelta(call.getArgumentsDelta(), out);
    } else {
      heldToolCalls.computeIfAbsent(call.getIndex(), index -> new HeldToolCall(call.getId(), call.getName()))
          .arguments.append(call.getArgumentsDelta());
    }
    while (!heldToolCalls.isEmpty() && (open != Block.TOOL_USE || wholeJson(openArguments))) {
      openHeldToolCall(out);
    }
  }

  /** Ends the tool calls: the open one, then each held one, whole. */
  private void endToolCalls(Consumer<Frame> out) {
    while (!heldToolCalls.isEmpty()) {
      openHeldToolCall(out);
    }
    closeBlock(out);
  }

  /** Closes the open block and opens the held tool call of the lowest index, with its arguments so far. */
  private void openHeldToolCall(Consumer<Frame> out) {
    var next = heldToolCalls.pollFirstEntry();
    ObjectNode block = ProtoJson.MAPPER.createObjectNode().put("type", "tool_use").put("id", next.getValue().id)
        .put("name", next.getValue().name);
    block.putObject("input");
    startBlock(Block.TOOL_USE, block, out);
    openToolCall = next.getKey();
    openArguments.setLength(0);
    argumentsDelta(next.getValue().arguments.toString(), out);
  }

  private void argumentsDelta(String fragment, Consumer<Frame> out) {
    if (!fragment.isEmpty()) {
      openArguments.append(fragment);
      delta(ProtoJson.MAPPER.createObjectNode().put("type", "input_json_delta").put("partial_json", fragment), out);
    }
  }

  private static boolean wholeJson(CharSequence text) {
    try {
      return !ProtoJson.MAPPER.readTree(text.toString()).isMissingNode();
    } catch (JsonProcessingException incomplete) {
      return false;
    }
  }

  /** A tool call whose fragments wait for the open block to end. */
  private static final class HeldToolCall {
    private final String id;
    private final String name;
    private final StringBuilder arguments = new StringBuilder();

    HeldToolCall(String id, String name) {
      this.id = id;
      this.name = name;
    }
  }

  /** Closes the open block, if any, and opens one of {@code kind} at the next index. */
  private void startBlock(Block kind, ObjectNode block, Consumer<Frame> out) {
    closeBlock(out);
    open = kind;
    openIndex++;
    ObjectNode data = ProtoJson.MAPPER.createObjectNode().put("type", "content_block_start").put("index", openIndex);
    data.set("content_block", block);
    out.accept(frame(data));
  }

  private void delta(ObjectNode delta, Consumer<Frame> out) {
    ObjectNode data = ProtoJson.MAPPER.createObjectNode().put("type", "content_block_delta").put("index", openIndex);
    data.set("delta", delta);
    out.accept(frame(data));
  }

  private void closeBlock(Consumer<Frame> out) {
    if (open == Block.NONE) {
      return;
    }
    if (open == Block.TOOL_USE) {
      closedToolCalls.add(openToolCall);
    }
    if (open == Block.THINKING && !signature.isEmpty()) {
      delta(ProtoJson.MAPPER.createObjectNode().put("type", "signature_delta").put("signature", signature.toString()),
          out);
      signature.setLength(0);
    }
    out.accept(frame(ProtoJson.MAPPER.createObjectNode().put("type", "content_block_stop").put("index", openIndex)));
    open = Block.NONE;
  }

  private static ObjectNode header(String id, String model) {
    return ProtoJson.MAPPER.createObjectNode().put("id", DialectValues.responseId(id, ID_PREFIX))
        .put("type", "message").put("role", "assistant").put("model", model);
  }

  private static ObjectNode redactedThinking(String data) {
    return ProtoJson.MAPPER.createObjectNode().put("type", "redacted_thinking").put("data", data);
  }

  /** A tool call's input as Anthropic gives it, an object; arguments that are not JSON stay the text they are. */
  private static JsonNode input(String argumentsJson) {
    if (argumentsJson.isEmpty()) {
      return ProtoJson.MAPPER.createObjectNode();
    }
    try {
      return ProtoJson.MAPPER.readTree(argumentsJson);
    } catch (JsonProcessingException e) {
      return ProtoJson.MAPPER.getNodeFactory().textNode(argumentsJson);
    }
  }

  private static ObjectNode usage(Usage usage) {
    ObjectNode node = ProtoJson.MAPPER.createObjectNode()
        .put("input_tokens", usage.getInputTokens() - usage.getCachedInputTokens());
    if (usage.hasCachedInputTokens()) {
      node.put("cache_read_input_tokens", usage.getCachedInputTokens());
    }
    node.put("output_tokens", usage.getOutputTokens());
    if (usage.hasReasoningTokens()) {
      node.putObject("output_tokens_details").put("thinking_tokens", usage.getReasoningTokens());
    }
    return node;
  }

  private static String stopReason(FinishReason reason) {
    return switch (reason) {
      case FINISH_REASON_LENGTH -> "max_tokens";
      case FINISH_REASON_TOOL_CALLS -> "tool_use";
      case FINISH_REASON_CONTENT_FILTER -> "refusal";
      default -> "end_turn";
    };
  }

  private static Frame frame(ObjectNode data) {
    return new Frame(data.get("type").textValue(), data.toString());
  }
}
