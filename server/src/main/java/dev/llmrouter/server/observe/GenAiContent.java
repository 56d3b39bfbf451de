package dev.llmrouter.server.observe;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.server.answer.ProtoJson;
import java.util.List;
import java.util.Locale;

/**
 * Prompts and answers as the GenAI semantic conventions write them on a span (`gen_ai.input.messages`,
 * `gen_ai.output.messages`, `gen_ai.system_instructions`, `gen_ai.tool.definitions`): JSON text in their schemas.
 * Images and documents are named by their type, never copied onto a span.
 */
final class GenAiContent {

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private GenAiContent() {
  }

  /** The system messages' parts, in order. */
  static String systemInstructions(List<Message> messages) {
    ArrayNode parts = JSON.arrayNode();
    messages.stream().filter(message -> message.getRole() == Role.ROLE_SYSTEM)
        .forEach(message -> message.getPartsList().forEach(part -> parts.add(part(part))));
    return text(parts);
  }

  /** The chat history without the system messages. */
  static String inputMessages(List<Message> messages) {
    ArrayNode out = JSON.arrayNode();
    messages.stream().filter(message -> message.getRole() != Role.ROLE_SYSTEM)
        .forEach(message -> out.add(message(message)));
    return text(out);
  }

  /** The answer: one message, with why it ended. */
  static String outputMessages(Message answer, FinishReason finishReason) {
    ObjectNode message = message(answer);
    message.put("finish_reason", GenAiAttributes.finishReason(finishReason));
    return text(JSON.arrayNode().add(message));
  }

  static String toolDefinitions(List<Tool> tools) {
    ArrayNode out = JSON.arrayNode();
    for (Tool tool : tools) {
      ObjectNode definition = out.addObject().put("type", "function").put("name", tool.getName());
      if (!tool.getDescription().isEmpty()) {
        definition.put("description", tool.getDescription());
      }
      if (tool.hasParameters()) {
        definition.set("parameters", ProtoJson.toJson(tool.getParameters()));
      }
    }
    return text(out);
  }

  private static ObjectNode message(Message message) {
    ObjectNode out = JSON.objectNode().put("role", role(message.getRole()));
    ArrayNode parts = out.putArray("parts");
    if (message.getRole() == Role.ROLE_TOOL) {
      StringBuilder response = new StringBuilder();
      message.getPartsList().stream().filter(Part::hasText).forEach(part -> response.append(part.getText()));
      parts.addObject().put("type", "tool_call_response").put("id", message.getToolCallId())
          .put("response", response.toString());
      return out;
    }
    message.getPartsList().forEach(part -> parts.add(part(part)));
    for (ToolCall call : message.getToolCallsList()) {
      parts.addObject().put("type", "tool_call").put("id", call.getId()).put("name", call.getName())
          .set("arguments", arguments(call.getArgumentsJson()));
    }
    return out;
  }

  private static ObjectNode part(Part part) {
    ObjectNode out = JSON.objectNode();
    switch (part.getKindCase()) {
      case TEXT -> out.put("type", "text").put("content", part.getText());
      case REASONING -> out.put("type", "reasoning").put("content", part.getReasoning().getText());
      case REFUSAL -> out.put("type", "refusal").put("content", part.getRefusal());
      case IMAGE -> {
        if (part.getImage().hasUrl()) {
          out.put("type", "uri").put("modality", "image").put("uri", part.getImage().getUrl());
        } else {
          out.put("type", "blob").put("modality", "image").put("size", part.getImage().getData().size());
        }
        if (!part.getImage().getMimeType().isEmpty()) {
          out.put("mime_type", part.getImage().getMimeType());
        }
      }
      case DOCUMENT -> out.put("type", "blob").put("modality", "document")
          .put("mime_type", part.getDocument().getMimeType()).put("size", part.getDocument().getData().size());
      default -> out.put("type", "unknown");
    }
    return out;
  }

  /** A tool call's arguments: the JSON object they hold, or their text when it is not JSON. */
  private static JsonNode arguments(String json) {
    try {
      JsonNode arguments = ProtoJson.MAPPER.readTree(json);
      return arguments == null || arguments.isMissingNode() ? JSON.textNode(json) : arguments;
    } catch (JsonProcessingException notJson) {
      return JSON.textNode(json);
    }
  }

  private static String role(Role role) {
    return role.name().substring("ROLE_".length()).toLowerCase(Locale.ROOT);
  }

  private static String text(JsonNode json) {
    try {
      return ProtoJson.MAPPER.writeValueAsString(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree that cannot be written: " + e.getMessage(), e);
    }
  }
}
