package dev.llmrouter.server.provider.openai.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Reasoning;
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolChoice;
import dev.llmrouter.api.v1.WebSearch;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.WebSearchOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps a {@link ChatRequest} to an OpenAI Responses request body (`POST /responses`), stateless: `store: false`, the
 * whole conversation in `input` on every call and, from reasoning models, their reasoning as encrypted items
 * (`include: ["reasoning.encrypted_content"]`) that the next turn sends back.
 *
 * <p>Leading system messages become `instructions`, later ones system messages in place. An assistant turn becomes
 * its reasoning items, its message and its function calls, in that order; a tool message a `function_call_output`.
 * Reasoning goes back only to the deployment and credential that produced it (OpenAI refuses reasoning encrypted for
 * another organisation with `invalid_encrypted_content`): any other is dropped and the visible history kept. Items
 * are sent without their ids, which a stateless conversation cannot resolve.
 */
public final class ResponsesRequestMapper {

  /** The provider type that tags the reasoning this adapter may send back. */
  private static final String PROVIDER_TYPE = "openai-responses";

  private ResponsesRequestMapper() {
  }

  /**
   * @param deployment the deployment the request goes to, with the one key it is sent with
   * @param encryptedReasoning whether to ask for the reasoning's encrypted items (only reasoning models have them;
   *     the others refuse the request with "Encrypted content is not supported with this model")
   */
  public static ObjectNode toRequestBody(ChatRequest request, String upstreamModel, boolean stream,
      ProviderConfig deployment, boolean encryptedReasoning) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    body.put("model", upstreamModel);
    instructions(request.getMessagesList(), body);
    body.set("input", input(request.getMessagesList(), deployment));
    body.put("stream", stream);
    body.put("store", false);
    if (encryptedReasoning) {
      body.putArray("include").add("reasoning.encrypted_content");
    }
    settings(request.getSettings(), body);
    if (request.getToolsCount() > 0 || request.hasWebSearch()) {
      ArrayNode tools = body.putArray("tools");
      request.getToolsList().forEach(t -> tools.add(tool(t)));
      if (request.hasWebSearch()) {
        tools.add(webSearchTool(request.getWebSearch()));
      }
    }
    toolChoice(request.getToolChoice(), body);
    if (request.hasParallelToolCalls()) {
      body.put("parallel_tool_calls", request.getParallelToolCalls());
    }
    if (request.hasResponseFormat()) {
      body.putObject("text").set("format", format(request.getResponseFormat()));
    }
    // The escape hatch goes last so that its keys win.
    body.setAll(ProtoJson.toJson(request.getSettings().getProviderOptions()));
    return body;
  }

  /** The built-in `web_search` tool, its domain filter under `filters`. */
  private static ObjectNode webSearchTool(WebSearch search) {
    ObjectNode tool = ProtoJson.MAPPER.createObjectNode().put("type", "web_search");
    WebSearchOptions.contextSize(search).ifPresent(size -> tool.put("search_context_size", size));
    if (search.hasUserLocation()) {
      tool.set("user_location", WebSearchOptions.approximateLocation(search.getUserLocation()));
    }
    if (search.getAllowedDomainsCount() > 0) {
      ArrayNode domains = tool.putObject("filters").putArray("allowed_domains");
      search.getAllowedDomainsList().forEach(domains::add);
    }
    return tool;
  }

  /** The system messages before the first other message, as `instructions` (their texts, a blank line between). */
  private static void instructions(List<Message> messages, ObjectNode body) {
    List<String> texts = new ArrayList<>();
    for (Message message : messages) {
      if (message.getRole() != Role.ROLE_SYSTEM) {
        break;
      }
      texts.add(text(message));
    }
    if (!texts.isEmpty()) {
      body.put("instructions", String.join("\n\n", texts));
    }
  }

  private static ArrayNode input(List<Message> messages, ProviderConfig deployment) {
    ArrayNode input = ProtoJson.MAPPER.createArrayNode();
    boolean leadingSystem = true;
    for (Message message : messages) {
      leadingSystem &= message.getRole() == Role.ROLE_SYSTEM;
      switch (message.getRole()) {
        case ROLE_SYSTEM -> {
          if (!leadingSystem) {
            input.addObject().put("role", "system").set("content", content(message));
          }
        }
        case ROLE_ASSISTANT -> assistantTurn(message, deployment, input);
        case ROLE_TOOL -> input.addObject().put("type", "function_call_output")
            .put("call_id", message.getToolCallId()).set("output", content(message));
        default -> input.addObject().put("role", "user").set("content", content(message));
      }
    }
    return input;
  }

  /**
   * An assistant turn: its reasoning items (when some item follows them: OpenAI refuses a reasoning item "provided
   * without its required following item"), its text (a refusal is what the assistant said: it stays as text), its
   * function calls.
   */
  private static void assistantTurn(Message message, ProviderConfig deployment, ArrayNode input) {
    String text = message.getPartsList().stream().map(p -> p.hasRefusal() ? p.getRefusal() : p.getText())
        .reduce("", String::concat);
    if (!text.isEmpty() || message.getToolCallsCount() > 0) {
      message.getPartsList().stream().filter(Part::hasReasoning).map(Part::getReasoning)
          .filter(reasoning -> producedBy(reasoning, deployment))
          .flatMap(reasoning -> ResponsesAnswerDecoder.encryptedItems(reasoning.getSignature()).stream())
          .forEach(encrypted -> input.addObject().put("type", "reasoning").put("encrypted_content", encrypted)
              .putArray("summary"));
    }
    if (!text.isEmpty()) {
      input.addObject().put("role", "assistant").put("content", text);
    }
    for (ToolCall call : message.getToolCallsList()) {
      input.addObject().put("type", "function_call").put("call_id", call.getId()).put("name", call.getName())
          .put("arguments", call.getArgumentsJson());
    }
  }

  /** Whether this deployment, with the key it is called with, produced {@code reasoning}'s encrypted items. */
  private static boolean producedBy(Reasoning reasoning, ProviderConfig deployment) {
    return reasoning.getProvider().equals(PROVIDER_TYPE) && reasoning.getDeployment().equals(deployment.name())
        && reasoning.getCredential().equals(deployment.credential()) && !reasoning.getSignature().isEmpty();
  }

  /** A message's content: its text when it holds only text, else its parts (text, images, documents). */
  private static JsonNode content(Message message) {
    if (message.getPartsList().stream().allMatch(p -> p.hasText() || p.hasReasoning() || p.hasRefusal())) {
      return ProtoJson.MAPPER.getNodeFactory().textNode(text(message));
    }
    ArrayNode content = ProtoJson.MAPPER.createArrayNode();
    for (Part part : message.getPartsList()) {
      switch (part.getKindCase()) {
        case TEXT -> content.addObject().put("type", "input_text").put("text", part.getText());
        case IMAGE -> {
          Image image = part.getImage();
          content.addObject().put("type", "input_image").put("image_url", image.hasUrl() ? image.getUrl()
              : OpenAiRequestMapper.dataUrl(image.getMimeType(), image.getData().toByteArray())).put("detail", "auto");
        }
        case DOCUMENT -> content.addObject().put("type", "input_file")
            .put("filename", part.getDocument().getTitle().isEmpty() ? "document.pdf" : part.getDocument().getTitle())
            .put("file_data", OpenAiRequestMapper.dataUrl(part.getDocument().getMimeType(),
                part.getDocument().getData().toByteArray()));
        default -> {
          // reasoning is sent as reasoning items, from assistant turns only
        }
      }
    }
    return content;
  }

  private static String text(Message message) {
    return message.getPartsList().stream().filter(Part::hasText).map(Part::getText).reduce("", String::concat);
  }

  private static void settings(GenerationSettings s, ObjectNode body) {
    if (s.hasTemperature()) {
      body.put("temperature", s.getTemperature());
    }
    if (s.hasTopP()) {
      body.put("top_p", s.getTopP());
    }
    if (s.hasMaxOutputTokens()) {
      body.put("max_output_tokens", s.getMaxOutputTokens());
    }
    String effort = OpenAiRequestMapper.effort(s.getReasoningEffort());
    if (effort != null) {
      body.putObject("reasoning").put("effort", effort);
    }
  }

  // The Responses API puts the function's fields beside its type, not in a `function` object.
  private static ObjectNode tool(Tool tool) {
    return OpenAiRequestMapper.function(tool, ProtoJson.MAPPER.createObjectNode().put("type", "function"));
  }

  private static void toolChoice(ToolChoice choice, ObjectNode body) {
    switch (choice.getChoiceCase()) {
      case TOOL_NAME -> body.putObject("tool_choice").put("type", "function").put("name", choice.getToolName());
      case MODE -> OpenAiRequestMapper.putMode(choice, body);
      default -> {
      }
    }
  }

  /** `text.format`: plain text, a JSON object, or an answer following a JSON schema. */
  private static ObjectNode format(ResponseFormat format) {
    ObjectNode node = ProtoJson.MAPPER.createObjectNode();
    switch (format.getType()) {
      case RESPONSE_FORMAT_TYPE_JSON_OBJECT -> node.put("type", "json_object");
      case RESPONSE_FORMAT_TYPE_JSON_SCHEMA -> OpenAiRequestMapper.jsonSchema(format, node.put("type", "json_schema"));
      default -> node.put("type", "text");
    }
    return node;
  }
}
