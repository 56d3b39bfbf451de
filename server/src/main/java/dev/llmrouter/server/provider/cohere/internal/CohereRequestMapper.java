package dev.llmrouter.server.provider.cohere.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolChoice;
import dev.llmrouter.server.answer.ProtoJson;
import java.util.Base64;
import java.util.List;

/** Maps a {@link ChatRequest} to a Cohere Chat v2 request body (`POST /v2/chat`). */
public final class CohereRequestMapper {

  private CohereRequestMapper() {
  }

  public static ObjectNode toRequestBody(ChatRequest request, String upstreamModel, boolean stream) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    body.put("model", upstreamModel);
    ArrayNode messages = body.putArray("messages");
    request.getMessagesList().forEach(m -> messages.add(message(m)));
    body.put("stream", stream);
    settings(request.getSettings(), body);
    // Cohere cannot be told to call one named tool: offering only that tool, and requiring a call, does the same.
    boolean oneNamedTool = request.getToolChoice().getChoiceCase() == ToolChoice.ChoiceCase.TOOL_NAME;
    List<Tool> tools = oneNamedTool ? request.getToolsList().stream()
        .filter(t -> t.getName().equals(request.getToolChoice().getToolName())).toList() : request.getToolsList();
    if (!tools.isEmpty()) {
      ArrayNode array = body.putArray("tools");
      tools.forEach(t -> array.add(tool(t)));
      if (tools.stream().anyMatch(t -> t.hasStrict() && t.getStrict())) {
        body.put("strict_tools", true);
      }
    }
    if (oneNamedTool) {
      body.put("tool_choice", "REQUIRED");
    } else if (request.hasToolChoice() && request.getToolChoice().hasMode()) {
      switch (request.getToolChoice().getMode()) {
        case TOOL_CHOICE_MODE_REQUIRED -> body.put("tool_choice", "REQUIRED");
        case TOOL_CHOICE_MODE_NONE -> body.put("tool_choice", "NONE");
        default -> {
          // auto is Cohere's default, which it has no name for
        }
      }
    }
    if (request.hasResponseFormat()) {
      responseFormat(request.getResponseFormat(), body);
    }
    // The escape hatch goes last so that its keys win.
    body.setAll(ProtoJson.toJson(request.getSettings().getProviderOptions()));
    return body;
  }

  private static ObjectNode message(Message message) {
    ObjectNode node = ProtoJson.MAPPER.createObjectNode();
    String text = message.getPartsList().stream().filter(Part::hasText).map(Part::getText).reduce("", String::concat);
    String reasoning = message.getPartsList().stream().filter(Part::hasReasoning).map(p -> p.getReasoning().getText())
        .reduce("", String::concat);
    switch (message.getRole()) {
      case ROLE_SYSTEM -> node.put("role", "system").put("content", text);
      case ROLE_TOOL -> node.put("role", "tool").put("tool_call_id", message.getToolCallId()).put("content", text);
      case ROLE_ASSISTANT -> {
        node.put("role", "assistant");
        if (message.getToolCallsCount() > 0) {
          // What the model said before its calls is Cohere's tool plan (its reasoning, else its text), expected back
          // with the calls; text beside a reasoning plan stays content.
          String plan = reasoning.isEmpty() ? text : reasoning;
          if (!plan.isEmpty()) {
            node.put("tool_plan", plan);
          }
          ArrayNode calls = node.putArray("tool_calls");
          for (ToolCall call : message.getToolCallsList()) {
            calls.addObject().put("id", call.getId()).put("type", "function").putObject("function")
                .put("name", call.getName()).put("arguments", call.getArgumentsJson());
          }
          if (!reasoning.isEmpty() && !text.isEmpty()) {
            node.put("content", text);
          }
        } else if (!reasoning.isEmpty()) {
          ArrayNode content = node.putArray("content");
          content.addObject().put("type", "thinking").put("thinking", reasoning);
          if (!text.isEmpty()) {
            content.addObject().put("type", "text").put("text", text);
          }
        } else {
          node.put("content", text);
        }
      }
      default -> {
        node.put("role", "user");
        if (message.getPartsList().stream().allMatch(Part::hasText)) {
          node.put("content", text);
        } else {
          ArrayNode content = node.putArray("content");
          message.getPartsList().forEach(part -> userPart(part, content));
        }
      }
    }
    return node;
  }

  // Documents are refused before mapping (no PDF capability); reasoning and refusals have no place in a user turn.
  static void userPart(Part part, ArrayNode content) {
    if (part.hasText()) {
      content.addObject().put("type", "text").put("text", part.getText());
    } else if (part.hasImage()) {
      Image image = part.getImage();
      String url = image.hasUrl() ? image.getUrl() : "data:" + image.getMimeType() + ";base64,"
          + Base64.getEncoder().encodeToString(image.getData().toByteArray());
      content.addObject().put("type", "image_url").putObject("image_url").put("url", url);
    }
  }

  private static void settings(GenerationSettings s, ObjectNode body) {
    if (s.hasTemperature()) {
      body.put("temperature", s.getTemperature());
    }
    if (s.hasTopP()) {
      body.put("p", s.getTopP());
    }
    if (s.hasMaxOutputTokens()) {
      body.put("max_tokens", s.getMaxOutputTokens());
    }
    if (s.getStopSequencesCount() > 0) {
      ArrayNode stop = body.putArray("stop_sequences");
      s.getStopSequencesList().forEach(stop::add);
    }
    if (s.hasSeed()) {
      body.put("seed", s.getSeed());
    }
    if (s.hasPresencePenalty()) {
      body.put("presence_penalty", s.getPresencePenalty());
    }
    if (s.hasFrequencyPenalty()) {
      body.put("frequency_penalty", s.getFrequencyPenalty());
    }
  }

  private static ObjectNode tool(Tool tool) {
    ObjectNode node = ProtoJson.MAPPER.createObjectNode().put("type", "function");
    ObjectNode function = node.putObject("function").put("name", tool.getName());
    if (!tool.getDescription().isEmpty()) {
      function.put("description", tool.getDescription());
    }
    function.set("parameters", tool.hasParameters() ? ProtoJson.toJson(tool.getParameters())
        : ProtoJson.MAPPER.createObjectNode().put("type", "object"));
    return node;
  }

  private static void responseFormat(ResponseFormat format, ObjectNode body) {
    switch (format.getType()) {
      case RESPONSE_FORMAT_TYPE_TEXT -> body.putObject("response_format").put("type", "text");
      case RESPONSE_FORMAT_TYPE_JSON_OBJECT -> body.putObject("response_format").put("type", "json_object");
      case RESPONSE_FORMAT_TYPE_JSON_SCHEMA -> body.putObject("response_format").put("type", "json_object")
          .set("json_schema", ProtoJson.toJson(format.getSchema()));
      default -> {
      }
    }
  }
}
