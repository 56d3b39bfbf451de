package dev.llmrouter.server.provider.anthropic.internal;

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
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.ResponseFormatType;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolChoice;
import dev.llmrouter.api.v1.WebSearch;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.provider.WebSearchOptions;
import dev.llmrouter.server.provider.anthropic.ThinkingBudgets;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * Maps a {@link ChatRequest} to an Anthropic Messages request body. System messages are lifted to `system`, tool
 * calls and tool messages become `tool_use` / `tool_result` blocks matched by id, reasoning effort becomes an extended
 * thinking budget, and `Part.cache_breakpoint` becomes `cache_control` on that part's block.
 */
public final class AnthropicRequestMapper {

  /** Anthropic requires `max_tokens`; this is what a caller who sets no limit gets for the answer. */
  private static final int DEFAULT_MAX_TOKENS = 4096;

  private AnthropicRequestMapper() {
  }

  /**
   * @param signedBy the provider type whose reasoning signatures this host accepts back (the host's own:
   *     `anthropic`, or `vertex`); other providers' are dropped
   */
  public static ObjectNode toRequestBody(ChatRequest request, String upstreamModel, boolean stream, String signedBy) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    body.put("model", upstreamModel);
    GenerationSettings settings = request.getSettings();
    int budget = ThinkingBudgets.of(settings.getReasoningEffort());
    int answerTokens = settings.hasMaxOutputTokens() ? settings.getMaxOutputTokens() : DEFAULT_MAX_TOKENS;
    // `max_tokens` covers thinking and answer alike and must exceed the budget: the budget comes on top.
    body.put("max_tokens", answerTokens + budget);
    system(request.getMessagesList(), body);
    body.set("messages", messages(request.getMessagesList(), signedBy));
    body.put("stream", stream);
    if (budget > 0) {
      body.putObject("thinking").put("type", "enabled").put("budget_tokens", budget);
    }
    settings(settings, body);
    if (request.getToolsCount() > 0 || request.hasWebSearch()) {
      ArrayNode tools = body.putArray("tools");
      request.getToolsList().forEach(t -> tools.add(tool(t)));
      if (request.hasWebSearch()) {
        tools.add(webSearchTool(request.getWebSearch()));
      }
    }
    toolChoice(request, body);
    responseFormat(request.getResponseFormat(), body);
    // The escape hatch goes last so that its keys win.
    body.setAll(ProtoJson.toJson(settings.getProviderOptions()));
    return body;
  }

  /**
   * The `web_search` server tool, which Anthropic runs itself: the answer holds its calls and results as blocks of
   * their own, and the cited text blocks. Anthropic has no context size: that option is left out.
   */
  private static ObjectNode webSearchTool(WebSearch search) {
    ObjectNode tool = ProtoJson.MAPPER.createObjectNode().put("type", "web_search_20250305").put("name", "web_search");
    if (search.getAllowedDomainsCount() > 0) {
      ArrayNode domains = tool.putArray("allowed_domains");
      search.getAllowedDomainsList().forEach(domains::add);
    }
    if (search.hasUserLocation()) {
      tool.set("user_location", WebSearchOptions.approximateLocation(search.getUserLocation()));
    }
    return tool;
  }

  // System text only (Anthropic's system prompt holds no media). A single plain text goes as a string, the common
  // form; several parts or a cache mark need blocks.
  private static void system(List<Message> messages, ObjectNode body) {
    List<Part> parts = messages.stream().filter(m -> m.getRole() == Role.ROLE_SYSTEM)
        .flatMap(m -> m.getPartsList().stream()).filter(Part::hasText).toList();
    if (parts.size() == 1 && !parts.get(0).getCacheBreakpoint()) {
      body.put("system", parts.get(0).getText());
    } else if (!parts.isEmpty()) {
      ArrayNode blocks = body.putArray("system");
      parts.forEach(p -> addBlock(p, blocks, "")); // text only: no signature to send back
    }
  }

  private static ArrayNode messages(List<Message> messages, String signedBy) {
    ArrayNode out = ProtoJson.MAPPER.createArrayNode();
    ArrayNode pendingToolResults = null;
    for (Message message : messages) {
      if (message.getRole() == Role.ROLE_SYSTEM) {
        continue; // lifted to `system`
      }
      if (message.getRole() == Role.ROLE_TOOL) {
        // Consecutive tool messages answer one assistant turn: their results share one user message. A user
        // message after them stays a message of its own; Anthropic joins consecutive user turns into one.
        if (pendingToolResults == null) {
          pendingToolResults = out.addObject().put("role", "user").putArray("content");
        }
        ObjectNode result = pendingToolResults.addObject().put("type", "tool_result")
            .put("tool_use_id", message.getToolCallId());
        ArrayNode content = result.putArray("content");
        message.getPartsList().forEach(p -> addBlock(p, content, signedBy));
        continue;
      }
      pendingToolResults = null;
      ArrayNode content = ProtoJson.MAPPER.createArrayNode();
      message.getPartsList().forEach(p -> addBlock(p, content, signedBy));
      message.getToolCallsList().forEach(call -> content.add(toolUse(call)));
      // Anthropic rejects empty content: a turn that held only dropped parts (foreign reasoning) is left out.
      if (!content.isEmpty()) {
        out.addObject().put("role", message.getRole() == Role.ROLE_ASSISTANT ? "assistant" : "user")
            .set("content", content);
      }
    }
    return out;
  }

  /** Adds the content block of one part, if Anthropic has one for it, with its cache mark. */
  private static void addBlock(Part part, ArrayNode content, String signedBy) {
    ObjectNode block = switch (part.getKindCase()) {
      // Anthropic rejects empty text blocks.
      case TEXT -> part.getText().isEmpty() ? null : textBlock(part.getText());
      // A refusal is what the assistant said: it stays in the conversation as text.
      case REFUSAL -> part.getRefusal().isEmpty() ? null : textBlock(part.getRefusal());
      case IMAGE -> image(part.getImage());
      case DOCUMENT -> document(part.getDocument());
      case REASONING -> thinking(part.getReasoning(), signedBy);
      default -> null;
    };
    if (block == null) {
      return;
    }
    // Anthropic does not accept cache marks on thinking blocks; they are cached with the turn they belong to.
    if (part.getCacheBreakpoint() && !part.hasReasoning()) {
      block.putObject("cache_control").put("type", "ephemeral");
    }
    content.add(block);
  }

  private static ObjectNode textBlock(String text) {
    return ProtoJson.MAPPER.createObjectNode().put("type", "text").put("text", text);
  }

  private static ObjectNode image(Image image) {
    ObjectNode block = ProtoJson.MAPPER.createObjectNode().put("type", "image");
    ObjectNode source = block.putObject("source");
    if (image.hasUrl()) {
      source.put("type", "url").put("url", image.getUrl());
    } else {
      source.put("type", "base64").put("media_type", image.getMimeType())
          .put("data", Base64.getEncoder().encodeToString(image.getData().toByteArray()));
    }
    return block;
  }

  // PDFs go as base64; plain text documents as text, the other source type Anthropic reads inline.
  private static ObjectNode document(Document document) {
    ObjectNode block = ProtoJson.MAPPER.createObjectNode().put("type", "document");
    ObjectNode source = block.putObject("source");
    if (document.getMimeType().equals("text/plain")) {
      source.put("type", "text").put("media_type", "text/plain")
          .put("data", document.getData().toString(StandardCharsets.UTF_8));
    } else {
      source.put("type", "base64").put("media_type", document.getMimeType())
          .put("data", Base64.getEncoder().encodeToString(document.getData().toByteArray()));
    }
    if (!document.getTitle().isEmpty()) {
      block.put("title", document.getTitle());
    }
    return block;
  }

  /**
   * Sends back reasoning Anthropic itself signed. A signature tagged with another provider, or with none (the router
   * tags every signature it returns, so an untagged one did not come from this adapter), cannot be verified by
   * Anthropic and would fail the request: it is dropped, and so is reasoning text without a signature.
   */
  private static ObjectNode thinking(Reasoning reasoning, String signedBy) {
    if (!reasoning.getProvider().equals(signedBy) || reasoning.getSignature().isEmpty()) {
      return null;
    }
    if (reasoning.getRedacted()) {
      return ProtoJson.MAPPER.createObjectNode().put("type", "redacted_thinking").put("data", reasoning.getSignature());
    }
    return ProtoJson.MAPPER.createObjectNode().put("type", "thinking").put("thinking", reasoning.getText())
        .put("signature", reasoning.getSignature());
  }

  private static ObjectNode toolUse(ToolCall call) {
    ObjectNode block = ProtoJson.MAPPER.createObjectNode().put("type", "tool_use").put("id", call.getId())
        .put("name", call.getName());
    block.set("input", call.getArgumentsJson().isEmpty() ? ProtoJson.MAPPER.createObjectNode()
        : parseArguments(call));
    return block;
  }

  private static JsonNode parseArguments(ToolCall call) {
    try {
      return ProtoJson.MAPPER.readTree(call.getArgumentsJson());
    } catch (JsonProcessingException e) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, "tool call " + call.getId() + " has arguments that are not"
          + " JSON: " + e.getOriginalMessage());
    }
  }

  // Seed and the penalties, which Anthropic lacks, were refused or dropped before: the adapter declares none.
  private static void settings(GenerationSettings s, ObjectNode body) {
    if (s.hasTemperature()) {
      body.put("temperature", s.getTemperature());
    }
    if (s.hasTopP()) {
      body.put("top_p", s.getTopP());
    }
    if (s.getStopSequencesCount() > 0) {
      ArrayNode stop = body.putArray("stop_sequences");
      s.getStopSequencesList().forEach(stop::add);
    }
  }

  private static ObjectNode tool(Tool tool) {
    ObjectNode node = ProtoJson.MAPPER.createObjectNode().put("name", tool.getName());
    if (!tool.getDescription().isEmpty()) {
      node.put("description", tool.getDescription());
    }
    node.set("input_schema", tool.hasParameters() ? ProtoJson.toJson(tool.getParameters())
        : ProtoJson.MAPPER.createObjectNode().put("type", "object"));
    if (tool.hasStrict()) {
      node.put("strict", tool.getStrict());
    }
    return node;
  }

  /** `tool_choice`, which also carries `disable_parallel_tool_use` (implying `auto` when no choice was made). */
  private static void toolChoice(ChatRequest request, ObjectNode body) {
    ToolChoice choice = request.getToolChoice();
    String type = switch (choice.getChoiceCase()) {
      case TOOL_NAME -> "tool";
      case MODE -> switch (choice.getMode()) {
        case TOOL_CHOICE_MODE_AUTO -> "auto";
        case TOOL_CHOICE_MODE_NONE -> "none";
        case TOOL_CHOICE_MODE_REQUIRED -> "any";
        default -> null;
      };
      default -> null;
    };
    boolean serialOnly = request.hasParallelToolCalls() && !request.getParallelToolCalls();
    if (type == null && serialOnly && request.getToolsCount() > 0) {
      type = "auto";
    }
    if (type == null) {
      return;
    }
    ObjectNode node = body.putObject("tool_choice").put("type", type);
    if (choice.hasToolName()) {
      node.put("name", choice.getToolName());
    }
    // `none` takes no other field: no tool call, nothing to serialise.
    if (serialOnly && !type.equals("none")) {
      node.put("disable_parallel_tool_use", true);
    }
  }

  /**
   * A JSON schema goes to `output_config.format` (structured outputs). Anthropic has no schema-less JSON mode: the
   * adapter declares none, so such a request is refused before it gets here.
   */
  private static void responseFormat(ResponseFormat format, ObjectNode body) {
    if (format.getType() == ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA) {
      body.putObject("output_config").putObject("format").put("type", "json_schema")
          .set("schema", ProtoJson.toJson(format.getSchema()));
    }
  }
}
