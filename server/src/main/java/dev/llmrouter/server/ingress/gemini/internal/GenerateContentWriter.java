package dev.llmrouter.server.ingress.gemini.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Reasoning;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolCallDelta;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.ingress.DialectCall;
import dev.llmrouter.server.ingress.DialectCall.Frame;
import dev.llmrouter.server.ingress.DialectValues;
import java.util.function.Consumer;

/**
 * Writes an answer as Gemini's generateContent does: one `GenerateContentResponse`, or one per event of a stream
 * (text, thought and functionCall parts), the last with the finish reason and the usage. Gemini sends a function
 * call whole, so a streamed call's argument fragments are gathered and its part is sent once the call is complete:
 * when the next call starts, or at the end.
 *
 * <p>Gemini wants its thought signature back on the part it came with: it goes on the first functionCall, or else on
 * the last part (an empty text part in a stream, where the other parts have gone already), which is where the
 * request reader looks for it. Signatures of other providers are not sent: Gemini could not check them.
 */
public final class GenerateContentWriter implements DialectCall.Writer {

  private static final String PROVIDER_TYPE = "gemini";

  private String id = "";
  private String model = "";
  private Usage usage;
  private ToolCall.Builder pendingCall;
  private int pendingIndex = -1;

  @Override
  public ObjectNode answer(ChatResponse response) {
    Message message = response.getMessage();
    ArrayNode parts = ProtoJson.MAPPER.createArrayNode();
    for (Part part : message.getPartsList()) {
      switch (part.getKindCase()) {
        case REASONING -> thought(part.getReasoning().getText(), parts);
        case TEXT -> parts.addObject().put("text", part.getText());
        // Gemini has no refusal part: the refusal is the answer's text.
        case REFUSAL -> parts.addObject().put("text", part.getRefusal());
        default -> {
        }
      }
    }
    ObjectNode firstCall = null;
    for (ToolCall call : message.getToolCallsList()) {
      ObjectNode part = functionCall(call);
      parts.add(part);
      firstCall = firstCall == null ? part : firstCall;
    }
    String signature = geminiSignature(message);
    if (!signature.isEmpty()) {
      signatureCarrier(firstCall, parts).put("thoughtSignature", signature);
    }
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    body.putArray("candidates").add(candidate(parts, response.getFinishReason()));
    if (response.hasUsage()) {
      body.set("usageMetadata", usageMetadata(response.getUsage()));
    }
    return body.put("modelVersion", response.getModel())
        .put("responseId", DialectValues.responseId(response.getId(), ""));
  }

  /** The chunks of one streamed event. */
  @Override
  public void event(ChatEvent event, Consumer<Frame> out) {
    switch (event.getEventCase()) {
      case START -> {
        id = DialectValues.responseId(event.getStart().getId(), "");
        model = event.getStart().getModel();
      }
      case TEXT_DELTA -> text(event.getTextDelta().getText(), out);
      case REFUSAL_DELTA -> text(event.getRefusalDelta().getText(), out);
      case REASONING_DELTA -> {
        // A signature alone is not content: it goes out with the last chunk, once its provider is known.
        if (!event.getReasoningDelta().getText().isEmpty()) {
          flushPendingCall(out);
          ArrayNode parts = ProtoJson.MAPPER.createArrayNode();
          thought(event.getReasoningDelta().getText(), parts);
          out.accept(chunk(parts));
        }
      }
      case TOOL_CALL_DELTA -> {
        ToolCallDelta delta = event.getToolCallDelta();
        if (pendingCall != null && pendingIndex != delta.getIndex()) {
          flushPendingCall(out);
        }
        if (pendingCall == null) {
          pendingCall = ToolCall.newBuilder();
          pendingIndex = delta.getIndex();
        }
        if (!delta.getId().isEmpty()) {
          pendingCall.setId(delta.getId());
        }
        pendingCall.setName(pendingCall.getName() + delta.getName())
            .setArgumentsJson(pendingCall.getArgumentsJson() + delta.getArgumentsDelta());
      }
      case USAGE -> usage = event.getUsage();
      case DONE -> out.accept(last(event.getDone().getResponse()));
      default -> {
      }
    }
  }

  /** An error after the stream started: the error object as the next chunk, which the SDKs raise. */
  @Override
  public void failure(ObjectNode errorBody, Consumer<Frame> out) {
    out.accept(Frame.data(errorBody.toString()));
  }

  private void text(String text, Consumer<Frame> out) {
    if (text.isEmpty()) {
      return;
    }
    flushPendingCall(out);
    ArrayNode parts = ProtoJson.MAPPER.createArrayNode();
    parts.addObject().put("text", text);
    out.accept(chunk(parts));
  }

  private void flushPendingCall(Consumer<Frame> out) {
    if (pendingCall != null) {
      ArrayNode parts = ProtoJson.MAPPER.createArrayNode();
      parts.add(functionCall(pendingCall.build()));
      pendingCall = null;
      out.accept(chunk(parts));
    }
  }

  /**
   * The last chunk: the pending function call and the signature, then the finish reason and the usage. It always
   * has a part, as the SDKs' chats keep a streamed answer only when every chunk has one.
   */
  private Frame last(ChatResponse response) {
    ArrayNode parts = ProtoJson.MAPPER.createArrayNode();
    ObjectNode call = null;
    if (pendingCall != null) {
      call = functionCall(pendingCall.build());
      parts.add(call);
      pendingCall = null;
    }
    String signature = geminiSignature(response.getMessage());
    if (!signature.isEmpty()) {
      signatureCarrier(call, parts).put("thoughtSignature", signature);
    }
    if (parts.isEmpty()) {
      parts.addObject().put("text", "");
    }
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    body.putArray("candidates").add(candidate(parts, response.getFinishReason()));
    Usage finalUsage = response.hasUsage() ? response.getUsage() : usage;
    if (finalUsage != null) {
      body.set("usageMetadata", usageMetadata(finalUsage));
    }
    body.put("modelVersion", model).put("responseId", id);
    return Frame.data(body.toString());
  }

  private Frame chunk(ArrayNode parts) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    body.putArray("candidates").add(candidate(parts, null));
    body.put("modelVersion", model).put("responseId", id);
    return Frame.data(body.toString());
  }

  private static ObjectNode candidate(ArrayNode parts, FinishReason finishReason) {
    ObjectNode candidate = ProtoJson.MAPPER.createObjectNode();
    // A candidate with nothing to say (blocked, or out of tokens while thinking) has no content, as Gemini sends it.
    if (!parts.isEmpty()) {
      candidate.putObject("content").put("role", "model").set("parts", parts);
    }
    if (finishReason != null) {
      candidate.put("finishReason", finishReason(finishReason));
    }
    return candidate.put("index", 0);
  }

  private static void thought(String text, ArrayNode parts) {
    if (!text.isEmpty()) {
      parts.addObject().put("text", text).put("thought", true);
    }
  }

  private static ObjectNode functionCall(ToolCall call) {
    ObjectNode part = ProtoJson.MAPPER.createObjectNode();
    ObjectNode functionCall = part.putObject("functionCall");
    if (!call.getId().isEmpty()) {
      functionCall.put("id", call.getId());
    }
    functionCall.put("name", call.getName()).set("args", args(call.getArgumentsJson()));
    return part;
  }

  /**
   * Gemini's `args` is an object: arguments that are not a JSON object (a model's broken JSON, from another
   * provider) are passed as the text they are, under `arguments`, rather than dropped.
   */
  private static JsonNode args(String argumentsJson) {
    if (argumentsJson.isBlank()) {
      return ProtoJson.MAPPER.createObjectNode();
    }
    try {
      JsonNode args = ProtoJson.MAPPER.readTree(argumentsJson);
      if (args != null && args.isObject()) {
        return args;
      }
    } catch (JsonProcessingException notJson) {
      // passed as text below
    }
    return ProtoJson.MAPPER.createObjectNode().put("arguments", argumentsJson);
  }

  /** The signature Gemini gave with the answer, if it did. */
  private static String geminiSignature(Message message) {
    return message.getPartsList().stream().filter(Part::hasReasoning).map(Part::getReasoning)
        .filter(reasoning -> reasoning.getProvider().equals(PROVIDER_TYPE)).map(Reasoning::getSignature)
        .filter(signature -> !signature.isEmpty()).findFirst().orElse("");
  }

  /** The part a signature goes on: the first function call, or else the last part, or else a new empty text part. */
  private static ObjectNode signatureCarrier(ObjectNode firstCall, ArrayNode parts) {
    if (firstCall != null) {
      return firstCall;
    }
    return parts.isEmpty() ? parts.addObject().put("text", "") : (ObjectNode) parts.get(parts.size() - 1);
  }

  /**
   * The neutral usage in Gemini's terms: `candidatesTokenCount` leaves the thoughts out, which Gemini counts apart
   * (`thoughtsTokenCount`), while the router's output tokens include them.
   */
  private static ObjectNode usageMetadata(Usage usage) {
    ObjectNode metadata = ProtoJson.MAPPER.createObjectNode();
    if (usage.hasInputTokens()) {
      metadata.put("promptTokenCount", usage.getInputTokens());
    }
    if (usage.hasOutputTokens()) {
      metadata.put("candidatesTokenCount", usage.getOutputTokens() - usage.getReasoningTokens());
    }
    if (usage.hasInputTokens() || usage.hasOutputTokens()) {
      metadata.put("totalTokenCount", usage.getInputTokens() + usage.getOutputTokens());
    }
    if (usage.hasCachedInputTokens()) {
      metadata.put("cachedContentTokenCount", usage.getCachedInputTokens());
    }
    if (usage.hasReasoningTokens()) {
      metadata.put("thoughtsTokenCount", usage.getReasoningTokens());
    }
    return metadata;
  }

  /** Gemini ends a turn of function calls with STOP too. */
  private static String finishReason(FinishReason reason) {
    return switch (reason) {
      case FINISH_REASON_STOP, FINISH_REASON_TOOL_CALLS -> "STOP";
      case FINISH_REASON_LENGTH -> "MAX_TOKENS";
      case FINISH_REASON_CONTENT_FILTER -> "SAFETY";
      case FINISH_REASON_ERROR -> "OTHER";
      default -> "FINISH_REASON_UNSPECIFIED";
    };
  }
}
