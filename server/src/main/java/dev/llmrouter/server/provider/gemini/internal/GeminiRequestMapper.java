package dev.llmrouter.server.provider.gemini.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Document;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Reasoning;
import dev.llmrouter.api.v1.ReasoningEffort;
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolChoice;
import dev.llmrouter.server.answer.ProtoJson;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Maps a {@link ChatRequest} to a Gemini generateContent request body: system messages become `systemInstruction`,
 * the rest `contents` of role `user` or `model`, tool calls `functionCall` parts and tool results `functionResponse`
 * parts (Gemini matches those by name, so a result's name is looked up through its tool call id).
 */
public final class GeminiRequestMapper {

  // Gemini 2.5 takes a token budget: these sit inside every 2.5 model's allowed range (Flash-Lite's starts at 512).
  private static final Map<ReasoningEffort, Integer> THINKING_BUDGETS = Map.of(
      ReasoningEffort.REASONING_EFFORT_MINIMAL, 512, ReasoningEffort.REASONING_EFFORT_LOW, 1024,
      ReasoningEffort.REASONING_EFFORT_MEDIUM, 8192, ReasoningEffort.REASONING_EFFORT_HIGH, 24576);

  private GeminiRequestMapper() {
  }

  /**
   * @param signedBy the provider type whose reasoning signatures this host accepts back (the host's own: `gemini`,
   *     or `vertex`); other providers' are dropped
   */
  public static ObjectNode toRequestBody(ChatRequest request, String signedBy) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    ArrayNode contents = body.putArray("contents");
    List<Message> messages = request.getMessagesList();
    for (int i = 0; i < messages.size(); i++) {
      Message message = messages.get(i);
      switch (message.getRole()) {
        case ROLE_SYSTEM -> {
          ArrayNode parts = body.has("systemInstruction") ? (ArrayNode) body.path("systemInstruction").path("parts")
              : body.putObject("systemInstruction").putArray("parts");
          message.getPartsList().forEach(part -> contentPart(part, parts));
        }
        case ROLE_ASSISTANT -> contents.add(modelContent(message, signedBy));
        case ROLE_TOOL -> {
          // Consecutive tool results answer one model turn: they go back together in one content.
          boolean follows = i > 0 && messages.get(i - 1).getRole() == Role.ROLE_TOOL;
          ArrayNode parts = follows ? (ArrayNode) contents.get(contents.size() - 1).path("parts")
              : contents.addObject().put("role", "user").putArray("parts");
          parts.addObject().set("functionResponse", functionResponse(message, messages.subList(0, i)));
        }
        default -> {
          ArrayNode parts = contents.addObject().put("role", "user").putArray("parts");
          message.getPartsList().forEach(part -> contentPart(part, parts));
        }
      }
    }
    if (request.getToolsCount() > 0) {
      ArrayNode declarations = body.withArray("tools").addObject().putArray("functionDeclarations");
      request.getToolsList().forEach(t -> declarations.add(functionDeclaration(t)));
    }
    // Grounding with Google Search, which has no options: location and context size do not apply, and a domain
    // filter is refused before mapping (WebSearchOptions.refuseDomainFilter).
    if (request.hasWebSearch()) {
      body.withArray("tools").addObject().putObject("googleSearch");
    }
    // Gemini has no switch for parallel calls: `parallel_tool_calls` is left to the model.
    if (request.hasToolChoice()) {
      toolChoice(request.getToolChoice(), body);
    }
    ObjectNode generationConfig = generationConfig(request.getSettings(), request.getResponseFormat());
    if (!generationConfig.isEmpty()) {
      body.set("generationConfig", generationConfig);
    }
    // The escape hatch goes last so that its keys win; objects merge, so `generationConfig.topK` keeps the rest.
    merge(body, ProtoJson.toJson(request.getSettings().getProviderOptions()));
    return body;
  }

  /**
   * An assistant message as a `model` content. Its reasoning signature, when Gemini produced it, goes back on the part
   * Gemini attaches signatures to: the first `functionCall`, or else the last part. The thought text is not sent:
   * summaries are for reading, and the signature is what carries the reasoning to the next turn.
   */
  private static ObjectNode modelContent(Message message, String signedBy) {
    ObjectNode content = ProtoJson.MAPPER.createObjectNode().put("role", "model");
    ArrayNode parts = content.putArray("parts");
    for (Part part : message.getPartsList()) {
      if (part.hasRefusal()) {
        parts.addObject().put("text", part.getRefusal());
      } else {
        contentPart(part, parts);
      }
    }
    int firstCall = parts.size();
    for (ToolCall call : message.getToolCallsList()) {
      ObjectNode functionCall = parts.addObject().putObject("functionCall").put("name", call.getName());
      functionCall.set("args", call.getArgumentsJson().isEmpty() ? ProtoJson.MAPPER.createObjectNode()
          : parseJson(call.getArgumentsJson()));
    }
    String signature = message.getPartsList().stream().filter(Part::hasReasoning).map(Part::getReasoning)
        .filter(r -> r.getProvider().equals(signedBy)).map(Reasoning::getSignature)
        .filter(s -> !s.isEmpty()).findFirst().orElse("");
    if (!signature.isEmpty() && !parts.isEmpty()) {
      int carrier = message.getToolCallsCount() > 0 ? firstCall : parts.size() - 1;
      ((ObjectNode) parts.get(carrier)).put("thoughtSignature", signature);
    }
    return content;
  }

  // Reasoning parts are not content (see modelContent); refusals only occur in assistant messages.
  private static void contentPart(Part part, ArrayNode parts) {
    switch (part.getKindCase()) {
      case TEXT -> parts.addObject().put("text", part.getText());
      case IMAGE -> {
        Image image = part.getImage();
        if (image.hasUrl()) {
          ObjectNode fileData = parts.addObject().putObject("fileData");
          if (!image.getMimeType().isEmpty()) {
            fileData.put("mimeType", image.getMimeType());
          }
          fileData.put("fileUri", image.getUrl());
        } else {
          inlineData(image.getMimeType(), image.getData().toByteArray(), parts);
        }
      }
      // Gemini's inline data has no title, so a document's title is not sent.
      case DOCUMENT -> {
        Document document = part.getDocument();
        inlineData(document.getMimeType(), document.getData().toByteArray(), parts);
      }
      default -> {
      }
    }
  }

  private static void inlineData(String mimeType, byte[] data, ArrayNode parts) {
    parts.addObject().putObject("inlineData").put("mimeType", mimeType)
        .put("data", Base64.getEncoder().encodeToString(data));
  }

  /**
   * A tool result as a `functionResponse`, named after the call it answers: the nearest earlier assistant tool call
   * with the message's tool call id (ids repeat across turns when they were derived from positions).
   */
  private static ObjectNode functionResponse(Message result, List<Message> history) {
    String name = "";
    for (int i = history.size() - 1; i >= 0 && name.isEmpty(); i--) {
      name = history.get(i).getToolCallsList().stream().filter(c -> c.getId().equals(result.getToolCallId()))
          .map(ToolCall::getName).findFirst().orElse("");
    }
    String text = result.getPartsList().stream().filter(Part::hasText).map(Part::getText).reduce("", String::concat);
    ObjectNode functionResponse = ProtoJson.MAPPER.createObjectNode().put("name", name);
    functionResponse.putObject("response").set("result", resultValue(text));
    return functionResponse;
  }

  // A result that is a JSON object or array goes as structured data, anything else as the text it is.
  private static JsonNode resultValue(String text) {
    String trimmed = text.strip();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
      try {
        return ProtoJson.MAPPER.readTree(trimmed);
      } catch (JsonProcessingException notJson) {
        // falls through to text
      }
    }
    return ProtoJson.MAPPER.getNodeFactory().textNode(text);
  }

  // A tool's parameters are JSON Schema: `parametersJsonSchema` takes it whole (`parameters` is an OpenAPI subset).
  private static ObjectNode functionDeclaration(Tool tool) {
    ObjectNode declaration = ProtoJson.MAPPER.createObjectNode().put("name", tool.getName());
    if (!tool.getDescription().isEmpty()) {
      declaration.put("description", tool.getDescription());
    }
    if (tool.hasParameters()) {
      declaration.set("parametersJsonSchema", ProtoJson.toJson(tool.getParameters()));
    }
    return declaration;
  }

  private static void toolChoice(ToolChoice choice, ObjectNode body) {
    String mode = switch (choice.getChoiceCase()) {
      case TOOL_NAME -> "ANY";
      case MODE -> switch (choice.getMode()) {
        case TOOL_CHOICE_MODE_AUTO -> "AUTO";
        case TOOL_CHOICE_MODE_NONE -> "NONE";
        case TOOL_CHOICE_MODE_REQUIRED -> "ANY";
        default -> "";
      };
      default -> "";
    };
    if (mode.isEmpty()) {
      return;
    }
    ObjectNode config = body.putObject("toolConfig").putObject("functionCallingConfig").put("mode", mode);
    if (choice.hasToolName()) {
      config.putArray("allowedFunctionNames").add(choice.getToolName());
    }
  }

  private static ObjectNode generationConfig(GenerationSettings s, ResponseFormat format) {
    ObjectNode config = ProtoJson.MAPPER.createObjectNode();
    if (s.hasTemperature()) {
      config.put("temperature", s.getTemperature());
    }
    if (s.hasTopP()) {
      config.put("topP", s.getTopP());
    }
    if (s.hasMaxOutputTokens()) {
      config.put("maxOutputTokens", s.getMaxOutputTokens());
    }
    if (s.getStopSequencesCount() > 0) {
      ArrayNode stop = config.putArray("stopSequences");
      s.getStopSequencesList().forEach(stop::add);
    }
    if (s.hasSeed()) {
      config.put("seed", s.getSeed());
    }
    if (s.hasPresencePenalty()) {
      config.put("presencePenalty", s.getPresencePenalty());
    }
    if (s.hasFrequencyPenalty()) {
      config.put("frequencyPenalty", s.getFrequencyPenalty());
    }
    switch (format.getType()) {
      case RESPONSE_FORMAT_TYPE_JSON_OBJECT -> config.put("responseMimeType", "application/json");
      case RESPONSE_FORMAT_TYPE_JSON_SCHEMA -> {
        config.put("responseMimeType", "application/json");
        config.set("responseJsonSchema", ProtoJson.toJson(format.getSchema()));
      }
      default -> {
      }
    }
    Integer budget = THINKING_BUDGETS.get(s.getReasoningEffort());
    if (budget != null) {
      config.putObject("thinkingConfig").put("thinkingBudget", budget).put("includeThoughts", true);
    }
    return config;
  }

  private static void merge(ObjectNode target, ObjectNode overrides) {
    overrides.fields().forEachRemaining(field -> {
      if (field.getValue().isObject() && target.path(field.getKey()).isObject()) {
        merge((ObjectNode) target.get(field.getKey()), (ObjectNode) field.getValue());
      } else {
        target.set(field.getKey(), field.getValue());
      }
    });
  }

  // The validator has checked that arguments are a JSON object.
  private static JsonNode parseJson(String json) {
    try {
      return ProtoJson.MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("tool call arguments are not JSON: " + e.getOriginalMessage(), e);
    }
  }
}
