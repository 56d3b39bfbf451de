package dev.llmrouter.server.answer;

import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Citation;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Reasoning;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolCallDelta;
import dev.llmrouter.api.v1.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Folds the events of a stream into the complete {@link ChatResponse}: the text deltas concatenate to the text,
 * tool-call fragments join by index, citations keep their order, the last usage wins. The `done` event of every stream is built here, so a
 * streamed answer and a unary one are the same message by construction.
 */
final class ResponseAssembler {

  private final ChatResponse.Builder response = ChatResponse.newBuilder();
  private final StringBuilder reasoningText = new StringBuilder();
  private final StringBuilder reasoningSignature = new StringBuilder();
  private boolean reasoningRedacted;
  private final StringBuilder text = new StringBuilder();
  private final StringBuilder refusal = new StringBuilder();
  private final TreeMap<Integer, ToolCall.Builder> toolCalls = new TreeMap<>();
  private final List<Citation> citations = new ArrayList<>();
  private Usage usage;

  void accept(ChatEvent event) {
    switch (event.getEventCase()) {
      case START -> response.setId(event.getStart().getId()).setModel(event.getStart().getModel())
          .setProvider(event.getStart().getProvider()).setCreated(event.getStart().getCreated());
      case TEXT_DELTA -> text.append(event.getTextDelta().getText());
      case REFUSAL_DELTA -> refusal.append(event.getRefusalDelta().getText());
      case REASONING_DELTA -> {
        reasoningText.append(event.getReasoningDelta().getText());
        reasoningSignature.append(event.getReasoningDelta().getSignature());
        reasoningRedacted |= event.getReasoningDelta().getRedacted();
      }
      case TOOL_CALL_DELTA -> {
        ToolCallDelta delta = event.getToolCallDelta();
        ToolCall.Builder call = toolCalls.computeIfAbsent(delta.getIndex(), i -> ToolCall.newBuilder());
        if (!delta.getId().isEmpty()) {
          call.setId(delta.getId());
        }
        if (!delta.getName().isEmpty()) {
          call.setName(call.getName() + delta.getName());
        }
        call.setArgumentsJson(call.getArgumentsJson() + delta.getArgumentsDelta());
      }
      case CITATION -> citations.add(event.getCitation());
      case USAGE -> usage = event.getUsage();
      default -> {
        // start of stream bookkeeping only; `done` is built, not folded
      }
    }
  }

  ChatResponse build(FinishReason finishReason) {
    Message.Builder message = Message.newBuilder().setRole(Role.ROLE_ASSISTANT);
    if (reasoningText.length() > 0 || reasoningSignature.length() > 0) {
      message.addParts(Part.newBuilder().setReasoning(Reasoning.newBuilder()
          .setText(reasoningText.toString()).setSignature(reasoningSignature.toString())
          .setRedacted(reasoningRedacted)));
    }
    if (text.length() > 0) {
      message.addParts(Part.newBuilder().setText(text.toString()));
    }
    if (refusal.length() > 0) {
      message.addParts(Part.newBuilder().setRefusal(refusal.toString()));
    }
    toolCalls.values().forEach(message::addToolCalls);
    message.addAllCitations(citations);
    response.setMessage(message).setFinishReason(finishReason);
    if (usage != null) {
      response.setUsage(usage);
    }
    return response.build();
  }
}
