package dev.llmrouter.server.provider.bedrock.internal;

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
import dev.llmrouter.api.v1.ToolChoiceMode;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.provider.anthropic.ThinkingBudgets;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.TreeSet;

/**
 * Maps a {@link ChatRequest} to a Bedrock Converse request body (`POST /model/{modelId}/converse`, and the same body
 * for `/converse-stream`). System messages are lifted to `system`; tool calls and tool messages become `toolUse` and
 * `toolResult` blocks matched by id; consecutive messages of one role share one Converse message (Converse wants the
 * roles to alternate); `Part.cache_breakpoint` becomes a `cachePoint` block after the part; reasoning effort becomes
 * an extended thinking budget for the Claude models, passed in `additionalModelRequestFields`; a JSON schema becomes
 * `outputConfig.textFormat`. A last message of the assistant's goes as it is: Claude continues it (a prefill).
 */
public final class BedrockRequestMapper {

  /** The provider type that tags the reasoning signatures this adapter may send back. */
  private static final String PROVIDER_TYPE = "bedrock";

  /** What a caller who sets no limit gets for the answer when thinking needs `maxTokens` (as on Anthropic). */
  private static final int ANSWER_TOKENS_WITH_THINKING = 4096;

  /** Converse's image formats, by MIME type. */
  private static final Map<String, String> IMAGE_FORMATS = Map.of("image/png", "png", "image/jpeg", "jpeg",
      "image/jpg", "jpeg", "image/gif", "gif", "image/webp", "webp");

  /** Converse's document formats, by MIME type. */
  private static final Map<String, String> DOCUMENT_FORMATS = Map.of("application/pdf", "pdf", "text/plain", "txt",
      "text/csv", "csv", "text/html", "html", "text/markdown", "md", "application/msword", "doc",
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx",
      "application/vnd.ms-excel", "xls",
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx");

  private BedrockRequestMapper() {
  }

  /**
   * The Converse body; {@code thinks} when the model takes an extended thinking budget (the Claude models that
   * reason), which reasoning effort then sets.
   *
   * @throws CallError INVALID_ARGUMENT for what Converse cannot carry (an image by http URL, tool arguments that are
   *     not JSON)
   */
  public static ObjectNode toRequestBody(ChatRequest request, boolean thinks) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    ArrayNode system = ProtoJson.MAPPER.createArrayNode();
    ArrayNode messages = body.putArray("messages");
    ObjectNode last = null;
    int documents = 0;
    for (Message message : request.getMessagesList()) {
      if (message.getRole() == Role.ROLE_SYSTEM) {
        message.getPartsList().stream().filter(Part::hasText).forEach(p -> addBlock(system, textBlock(p.getText()), p));
        continue;
      }
      String role = message.getRole() == Role.ROLE_ASSISTANT ? "assistant" : "user";
      if (last == null || !last.path("role").asText().equals(role)) {
        last = messages.addObject().put("role", role);
        last.putArray("content");
      }
      ArrayNode content = (ArrayNode) last.get("content");
      if (message.getRole() == Role.ROLE_TOOL) {
        ObjectNode result = content.addObject().putObject("toolResult").put("toolUseId", message.getToolCallId());
        ArrayNode resultContent = result.putArray("content");
        message.getPartsList().stream().filter(Part::hasText).forEach(p -> resultContent.add(textBlock(p.getText())));
        continue;
      }
      for (Part part : message.getPartsList()) {
        ObjectNode block = switch (part.getKindCase()) {
          // Converse rejects blank text blocks.
          case TEXT -> part.getText().isBlank() ? null : textBlock(part.getText());
          case REFUSAL -> part.getRefusal().isBlank() ? null : textBlock(part.getRefusal());
          case IMAGE -> image(part.getImage());
          case DOCUMENT -> document(part.getDocument(), ++documents);
          case REASONING -> reasoning(part.getReasoning());
          default -> null;
        };
        if (block != null) {
          addBlock(content, block, part);
        }
      }
      message.getToolCallsList().forEach(call -> content.addObject().set("toolUse", toolUse(call)));
    }
    // A turn that held only dropped parts (another provider's reasoning) has no content: Converse rejects it.
    for (int i = messages.size() - 1; i >= 0; i--) {
      if (messages.get(i).path("content").isEmpty()) {
        messages.remove(i);
      }
    }
    if (!system.isEmpty()) {
      body.set("system", system);
    }
    GenerationSettings settings = request.getSettings();
    int budget = thinks ? ThinkingBudgets.of(settings.getReasoningEffort()) : 0;
    inferenceConfig(settings, budget, body);
    toolConfig(request, body);
    outputConfig(request.getResponseFormat(), body);
    if (budget > 0) {
      body.putObject("additionalModelRequestFields").putObject("thinking").put("type", "enabled")
          .put("budget_tokens", budget);
    }
    // The escape hatch goes last so that its keys win.
    body.setAll(ProtoJson.toJson(settings.getProviderOptions()));
    return body;
  }

  /** Adds a block, then a cache point when the part marks the end of a cacheable prefix. */
  private static void addBlock(ArrayNode content, ObjectNode block, Part part) {
    content.add(block);
    if (part.getCacheBreakpoint() && !part.hasReasoning()) {
      content.addObject().putObject("cachePoint").put("type", "default");
    }
  }

  private static ObjectNode textBlock(String text) {
    return ProtoJson.MAPPER.createObjectNode().put("text", text);
  }

  /** An image as bytes, or from S3; Converse fetches no http URL. */
  private static ObjectNode image(Image image) {
    ObjectNode block = ProtoJson.MAPPER.createObjectNode();
    ObjectNode node = block.putObject("image");
    if (image.hasUrl() && image.getUrl().startsWith("s3://")) {
      node.put("format", format(IMAGE_FORMATS, image.getMimeType(), "image"));
      node.putObject("source").putObject("s3Location").put("uri", image.getUrl());
    } else if (image.hasUrl()) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, "Bedrock takes images as bytes or s3:// URLs, not "
          + image.getUrl() + ": send the image's bytes");
    } else {
      node.put("format", format(IMAGE_FORMATS, image.getMimeType(), "image"));
      node.putObject("source").put("bytes", Base64.getEncoder().encodeToString(image.getData().toByteArray()));
    }
    return block;
  }

  /** A document: plain text inline as text, the other formats as bytes. Converse requires a name. */
  private static ObjectNode document(Document document, int number) {
    ObjectNode block = ProtoJson.MAPPER.createObjectNode();
    ObjectNode node = block.putObject("document");
    node.put("format", format(DOCUMENT_FORMATS, document.getMimeType(), "document"));
    node.put("name", document.getTitle().isEmpty() ? "document-" + number : document.getTitle());
    ObjectNode source = node.putObject("source");
    if (document.getMimeType().equals("text/plain")) {
      source.put("text", document.getData().toString(StandardCharsets.UTF_8));
    } else {
      source.put("bytes", Base64.getEncoder().encodeToString(document.getData().toByteArray()));
    }
    return block;
  }

  private static String format(Map<String, String> formats, String mimeType, String what) {
    String format = formats.get(mimeType);
    if (format == null) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, "Bedrock takes no " + what + " of type '" + mimeType
          + "': it reads " + String.join(", ", new TreeSet<>(formats.keySet())));
    }
    return format;
  }

  /**
   * Sends back reasoning Bedrock itself produced and signed. A signature tagged with another provider (or none)
   * cannot be verified by the model and would fail the request: it is dropped, with its text.
   */
  private static ObjectNode reasoning(Reasoning reasoning) {
    if (!reasoning.getProvider().equals(PROVIDER_TYPE) || reasoning.getSignature().isEmpty()) {
      return null;
    }
    ObjectNode block = ProtoJson.MAPPER.createObjectNode();
    ObjectNode content = block.putObject("reasoningContent");
    if (reasoning.getRedacted()) {
      content.put("redactedContent", reasoning.getSignature());
    } else {
      content.putObject("reasoningText").put("text", reasoning.getText()).put("signature", reasoning.getSignature());
    }
    return block;
  }

  private static ObjectNode toolUse(ToolCall call) {
    ObjectNode node = ProtoJson.MAPPER.createObjectNode().put("toolUseId", call.getId()).put("name", call.getName());
    node.set("input", call.getArgumentsJson().isEmpty() ? ProtoJson.MAPPER.createObjectNode() : arguments(call));
    return node;
  }

  private static JsonNode arguments(ToolCall call) {
    try {
      return ProtoJson.MAPPER.readTree(call.getArgumentsJson());
    } catch (JsonProcessingException e) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, "tool call " + call.getId() + " has arguments that are not"
          + " JSON: " + e.getOriginalMessage());
    }
  }

  /** `inferenceConfig`; with a thinking budget, `maxTokens` covers thinking and answer: the budget comes on top. */
  private static void inferenceConfig(GenerationSettings s, int budget, ObjectNode body) {
    ObjectNode config = ProtoJson.MAPPER.createObjectNode();
    if (s.hasMaxOutputTokens() || budget > 0) {
      config.put("maxTokens", (s.hasMaxOutputTokens() ? s.getMaxOutputTokens() : ANSWER_TOKENS_WITH_THINKING)
          + budget);
    }
    if (s.hasTemperature()) {
      config.put("temperature", s.getTemperature());
    }
    if (s.hasTopP()) {
      config.put("topP", s.getTopP());
    }
    if (s.getStopSequencesCount() > 0) {
      ArrayNode stop = config.putArray("stopSequences");
      s.getStopSequencesList().forEach(stop::add);
    }
    if (!config.isEmpty()) {
      body.set("inferenceConfig", config);
    }
  }

  /** `toolConfig`: the tools and the tool choice. Converse has no `none` choice: no tool call means no tools sent. */
  private static void toolConfig(ChatRequest request, ObjectNode body) {
    ToolChoice choice = request.getToolChoice();
    boolean none = choice.hasMode() && choice.getMode() == ToolChoiceMode.TOOL_CHOICE_MODE_NONE;
    if (request.getToolsCount() == 0 || none && !usesTools(request)) {
      return;
    }
    ObjectNode config = body.putObject("toolConfig");
    ArrayNode tools = config.putArray("tools");
    for (Tool tool : request.getToolsList()) {
      ObjectNode spec = tools.addObject().putObject("toolSpec").put("name", tool.getName());
      if (!tool.getDescription().isEmpty()) {
        spec.put("description", tool.getDescription());
      }
      spec.putObject("inputSchema").set("json", tool.hasParameters() ? ProtoJson.toJson(tool.getParameters())
          : ProtoJson.MAPPER.createObjectNode().put("type", "object"));
    }
    if (choice.hasToolName()) {
      config.putObject("toolChoice").putObject("tool").put("name", choice.getToolName());
    } else if (choice.hasMode()) {
      switch (choice.getMode()) {
        case TOOL_CHOICE_MODE_AUTO -> config.putObject("toolChoice").putObject("auto");
        case TOOL_CHOICE_MODE_REQUIRED -> config.putObject("toolChoice").putObject("any");
        default -> {
          // none with tool calls in the history: Converse needs the tools to read them, and has no way to forbid
          // a new call; unspecified is Converse's default (auto)
        }
      }
    }
  }

  /**
   * A JSON schema goes to `outputConfig.textFormat` (Bedrock's structured outputs), the schema as JSON text. Converse
   * has no schema-less JSON mode: the adapter declares none, so such a request is refused before it gets here.
   */
  private static void outputConfig(ResponseFormat format, ObjectNode body) {
    if (format.getType() != ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA) {
      return;
    }
    body.putObject("outputConfig").putObject("textFormat").put("type", "json_schema").putObject("structure")
        .putObject("jsonSchema").put("schema", ProtoJson.toJson(format.getSchema()).toString())
        .put("name", format.getSchemaName().isEmpty() ? "response" : format.getSchemaName());
  }

  /** Whether the conversation holds tool calls or results, which Converse reads only with `toolConfig`. */
  private static boolean usesTools(ChatRequest request) {
    return request.getMessagesList().stream()
        .anyMatch(m -> m.getToolCallsCount() > 0 || m.getRole() == Role.ROLE_TOOL);
  }
}
