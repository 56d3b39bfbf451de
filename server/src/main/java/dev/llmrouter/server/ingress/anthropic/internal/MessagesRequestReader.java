package dev.llmrouter.server.ingress.anthropic.internal;

import static dev.llmrouter.server.ingress.JsonFields.array;
import static dev.llmrouter.server.ingress.JsonFields.bool;
import static dev.llmrouter.server.ingress.JsonFields.integer;
import static dev.llmrouter.server.ingress.JsonFields.invalid;
import static dev.llmrouter.server.ingress.JsonFields.number;
import static dev.llmrouter.server.ingress.JsonFields.object;
import static dev.llmrouter.server.ingress.JsonFields.onlyKnown;
import static dev.llmrouter.server.ingress.JsonFields.optionalObject;
import static dev.llmrouter.server.ingress.JsonFields.present;
import static dev.llmrouter.server.ingress.JsonFields.requiredObject;
import static dev.llmrouter.server.ingress.JsonFields.requiredText;
import static dev.llmrouter.server.ingress.JsonFields.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Document;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Reasoning;
import dev.llmrouter.api.v1.ReasoningEffort;
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.ResponseFormatType;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolChoice;
import dev.llmrouter.api.v1.ToolChoiceMode;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.ingress.DialectValues;
import dev.llmrouter.server.ingress.JsonFields;
import dev.llmrouter.server.provider.anthropic.ThinkingBudgets;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads an Anthropic Messages request body into a {@link ChatRequest}: the inverse of the Anthropic adapter's mapping,
 * so that the adapter sends Anthropic what the caller wrote and an SDK call keys the same cassette as the same call
 * made over gRPC. The system prompt is the first message, `tool_use` blocks are the assistant's tool calls, each
 * `tool_result` block is a tool message of its own (in order), thinking blocks are reasoning signed by Anthropic, and
 * a thinking budget the router names as an effort is that effort (the answer's own limit being `max_tokens` less the
 * budget, as the adapter adds the budget on top).
 *
 * <p>What Anthropic reads but the neutral request has no field for goes through `provider_options` as given, as a
 * gRPC caller would send it: `top_k`, a thinking budget of another size or another thinking type, and an
 * `output_config` with more than a JSON schema. `metadata` and `service_tier` concern the caller's own Anthropic
 * account: they are accepted and not sent on. `cache_control` marks `Part.cache_breakpoint` where a part holds it;
 * on a tool definition (which has no part) it is accepted and not carried, and its `ttl` is not carried.
 */
public final class MessagesRequestReader {

  private static final Set<String> KNOWN = Set.of("model", "max_tokens", "messages", "system", "stream",
      "temperature", "top_p", "top_k", "stop_sequences", "tools", "tool_choice", "thinking", "output_config",
      "metadata", "service_tier");
  /** Who signs the thinking blocks a caller sends back: Anthropic, for whose API they were written. */
  private static final String SIGNED_BY = "anthropic";
  private static final Set<String> IMAGE_TYPES = Set.of("image/jpeg", "image/png", "image/gif", "image/webp");

  private MessagesRequestReader() {
  }

  /** The request, and whether the caller asked for a stream. */
  public record Read(ChatRequest request, boolean stream) {
  }

  public static Read read(JsonNode json) {
    ObjectNode body = object(json, "body");
    onlyKnown(body, "", KNOWN);
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel(requiredText(body, "model", ""));
    long maxTokens = integer(body, "max_tokens", "", 1, Integer.MAX_VALUE).orElseThrow(() -> invalid("max_tokens",
        "is required: the most tokens the answer may take, thinking included, as Anthropic requires"));
    system(body).ifPresent(request::addMessages);
    messages(body, request);
    List<JsonNode> tools = array(body, "tools", "");
    for (int i = 0; i < tools.size(); i++) {
      request.addTools(tool(object(tools.get(i), "tools[" + i + "]"), "tools[" + i + "]"));
    }
    toolChoice(body, request);
    ObjectNode providerOptions = ProtoJson.MAPPER.createObjectNode();
    outputConfig(body, request, providerOptions);
    request.setSettings(settings(body, maxTokens, providerOptions));
    // The caller's own Anthropic account's: their types are checked, and they go no further.
    optionalObject(body, "metadata", "").ifPresent(metadata -> {
      onlyKnown(metadata, "metadata", Set.of("user_id"));
      text(metadata, "user_id", "metadata");
    });
    text(body, "service_tier", "");
    return new Read(request.build(), bool(body, "stream", "").orElse(false));
  }

  /** The top-level system prompt: a string, or text blocks (each may carry a cache mark). */
  private static Optional<Message> system(ObjectNode body) {
    JsonNode system = body.get("system");
    if (system == null || system.isNull() || system.isTextual() && system.textValue().isEmpty()) {
      return Optional.empty();
    }
    Message.Builder message = Message.newBuilder().setRole(Role.ROLE_SYSTEM);
    if (system.isTextual()) {
      return Optional.of(message.addParts(Part.newBuilder().setText(system.textValue())).build());
    }
    if (!system.isArray()) {
      throw invalid("system", "must be a string or an array of text blocks, not " + JsonFields.typeOf(system));
    }
    for (int i = 0; i < system.size(); i++) {
      String at = "system[" + i + "]";
      ObjectNode block = object(system.get(i), at);
      String type = requiredText(block, "type", at);
      if (!type.equals("text")) {
        throw invalid(at + ".type", "must be text: the system prompt holds text only, not "
            + CallError.quote(type));
      }
      message.addParts(textBlock(block, at));
    }
    return message.getPartsCount() == 0 ? Optional.empty() : Optional.of(message.build());
  }

  private static void messages(ObjectNode body, ChatRequest.Builder request) {
    if (!present(body, "messages")) {
      throw invalid("messages", "is required: the conversation, as [{\"role\": \"user\", \"content\": \"...\"}]");
    }
    List<JsonNode> messages = array(body, "messages", "");
    if (messages.isEmpty()) {
      throw invalid("messages", "must hold at least one message");
    }
    Set<String> toolUseIds = new HashSet<>();
    for (int i = 0; i < messages.size(); i++) {
      String at = "messages[" + i + "]";
      ObjectNode message = object(messages.get(i), at);
      onlyKnown(message, at, Set.of("role", "content"));
      String role = requiredText(message, "role", at);
      JsonNode content = message.get("content");
      if (content == null || content.isNull()) {
        throw invalid(at + ".content", "is required: a string or an array of content blocks");
      }
      switch (role) {
        case "user" -> user(content, at + ".content", toolUseIds, request);
        case "assistant" -> request.addMessages(assistant(content, at + ".content", toolUseIds));
        case "system" -> throw invalid(at + ".role", "Anthropic takes the system prompt in the top-level system "
            + "field, not as a message");
        default -> throw invalid(at + ".role", "must be user or assistant, not " + CallError.quote(role));
      }
    }
  }

  /**
   * A user turn: its content blocks in order, each `tool_result` becoming a tool message of its own and the blocks
   * between them user messages, as the adapter joins them back into one turn.
   */
  private static void user(JsonNode content, String at, Set<String> toolUseIds, ChatRequest.Builder request) {
    Message.Builder pending = Message.newBuilder().setRole(Role.ROLE_USER);
    if (content.isTextual()) {
      request.addMessages(pending.addParts(textPart(content.textValue(), at)));
      return;
    }
    List<JsonNode> blocks = blocks(content, at);
    for (int j = 0; j < blocks.size(); j++) {
      String blockAt = at + "[" + j + "]";
      ObjectNode block = object(blocks.get(j), blockAt);
      String type = requiredText(block, "type", blockAt);
      if (type.equals("tool_result")) {
        addPending(pending, request);
        request.addMessages(toolResult(block, blockAt, toolUseIds));
        continue;
      }
      pending.addParts(switch (type) {
        case "text" -> textBlock(block, blockAt);
        case "image" -> image(block, blockAt);
        case "document" -> document(block, blockAt);
        case "tool_use", "thinking", "redacted_thinking" -> throw invalid(blockAt + ".type", CallError.quote(type)
            + " blocks are the assistant's: they go in an assistant message");
        default -> throw invalid(blockAt + ".type", "must be text, image, document or tool_result in a user message, "
            + "not " + CallError.quote(type));
      });
    }
    addPending(pending, request);
  }

  private static void addPending(Message.Builder pending, ChatRequest.Builder request) {
    if (pending.getPartsCount() > 0) {
      request.addMessages(pending.build());
      pending.clearParts();
    }
  }

  private static Message assistant(JsonNode content, String at, Set<String> toolUseIds) {
    Message.Builder message = Message.newBuilder().setRole(Role.ROLE_ASSISTANT);
    if (content.isTextual()) {
      return message.addParts(textPart(content.textValue(), at)).build();
    }
    List<JsonNode> blocks = blocks(content, at);
    for (int j = 0; j < blocks.size(); j++) {
      String blockAt = at + "[" + j + "]";
      ObjectNode block = object(blocks.get(j), blockAt);
      String type = requiredText(block, "type", blockAt);
      switch (type) {
        case "text" -> message.addParts(textBlock(block, blockAt));
        case "thinking" -> {
          onlyKnown(block, blockAt, Set.of("type", "thinking", "signature"));
          message.addParts(Part.newBuilder().setReasoning(Reasoning.newBuilder()
              .setText(requiredText(block, "thinking", blockAt)).setSignature(requiredText(block, "signature", blockAt))
              .setProvider(SIGNED_BY)));
        }
        case "redacted_thinking" -> {
          onlyKnown(block, blockAt, Set.of("type", "data"));
          message.addParts(Part.newBuilder().setReasoning(Reasoning.newBuilder()
              .setSignature(requiredText(block, "data", blockAt)).setRedacted(true).setProvider(SIGNED_BY)));
        }
        case "tool_use" -> message.addToolCalls(toolUse(block, blockAt, toolUseIds));
        case "tool_result", "image", "document" -> throw invalid(blockAt + ".type", CallError.quote(type)
            + " blocks are the user's: they go in a user message");
        default -> throw invalid(blockAt + ".type", "must be text, thinking, redacted_thinking or tool_use in an "
            + "assistant message, not " + CallError.quote(type));
      }
    }
    return message.build();
  }

  private static List<JsonNode> blocks(JsonNode content, String at) {
    if (!content.isArray()) {
      throw invalid(at, "must be a string or an array of content blocks, not " + JsonFields.typeOf(content));
    }
    if (content.isEmpty()) {
      throw invalid(at, "must hold at least one content block");
    }
    List<JsonNode> blocks = new ArrayList<>(content.size());
    content.forEach(blocks::add);
    return blocks;
  }

  private static ToolCall toolUse(ObjectNode block, String at, Set<String> toolUseIds) {
    onlyKnown(block, at, Set.of("type", "id", "name", "input"));
    String id = requiredText(block, "id", at);
    if (!toolUseIds.add(id)) {
      throw invalid(at + ".id", CallError.quote(id) + " is the id of an earlier tool_use block: each call has its "
          + "own");
    }
    // The arguments as compact JSON text, as the router returns them for a whole answer.
    return ToolCall.newBuilder().setId(id).setName(requiredText(block, "name", at))
        .setArgumentsJson(requiredObject(block, "input", at).toString()).build();
  }

  /**
   * A tool result: its content as parts (none is an empty text, which the adapter leaves out). `is_error` is read and
   * not carried, the neutral request having no field for it: the content says what went wrong. A cache mark on the
   * result marks its last part, where the cached prefix ends all the same.
   */
  private static Message toolResult(ObjectNode block, String at, Set<String> toolUseIds) {
    onlyKnown(block, at, Set.of("type", "tool_use_id", "content", "is_error", "cache_control"));
    String id = requiredText(block, "tool_use_id", at);
    if (!toolUseIds.contains(id)) {
      throw invalid(at + ".tool_use_id", CallError.quote(id) + " answers no tool_use block of an earlier assistant "
          + "message");
    }
    bool(block, "is_error", at);
    Message.Builder result = Message.newBuilder().setRole(Role.ROLE_TOOL).setToolCallId(id);
    JsonNode content = block.get("content");
    String contentAt = at + ".content";
    if (content == null || content.isNull()) {
      result.addParts(Part.newBuilder().setText(""));
    } else if (content.isTextual()) {
      result.addParts(Part.newBuilder().setText(content.textValue()));
    } else if (content.isArray()) {
      for (int k = 0; k < content.size(); k++) {
        String partAt = contentAt + "[" + k + "]";
        ObjectNode inner = object(content.get(k), partAt);
        String type = requiredText(inner, "type", partAt);
        result.addParts(switch (type) {
          case "text" -> textBlock(inner, partAt);
          case "image" -> image(inner, partAt);
          case "document" -> document(inner, partAt);
          default -> throw invalid(partAt + ".type", "must be text, image or document in a tool result, not "
              + CallError.quote(type));
        });
      }
      if (result.getPartsCount() == 0) {
        result.addParts(Part.newBuilder().setText(""));
      }
    } else {
      throw invalid(contentAt, "must be a string or an array of content blocks, not " + JsonFields.typeOf(content));
    }
    if (cacheBreakpoint(block, at)) {
      result.getPartsBuilder(result.getPartsCount() - 1).setCacheBreakpoint(true);
    }
    return result.build();
  }

  private static Part textBlock(ObjectNode block, String at) {
    onlyKnown(block, at, Set.of("type", "text", "cache_control", "citations"));
    return textPart(requiredText(block, "text", at), at + ".text").toBuilder()
        .setCacheBreakpoint(cacheBreakpoint(block, at)).build();
  }

  /** A text part; Anthropic refuses empty text, and so does the router before sending anything. */
  private static Part textPart(String text, String at) {
    if (text.isEmpty()) {
      throw invalid(at, "must not be empty: Anthropic refuses empty text");
    }
    return Part.newBuilder().setText(text).build();
  }

  private static Part image(ObjectNode block, String at) {
    onlyKnown(block, at, Set.of("type", "source", "cache_control"));
    String sourceAt = at + ".source";
    ObjectNode source = requiredObject(block, "source", at);
    String type = requiredText(source, "type", sourceAt);
    Image image = switch (type) {
      case "base64" -> {
        onlyKnown(source, sourceAt, Set.of("type", "media_type", "data"));
        String mediaType = requiredText(source, "media_type", sourceAt);
        if (!IMAGE_TYPES.contains(mediaType)) {
          throw invalid(sourceAt + ".media_type", "must be one of " + IMAGE_TYPES.stream().sorted().toList()
              + ", not " + CallError.quote(mediaType));
        }
        yield Image.newBuilder().setMimeType(mediaType).setData(data(source, sourceAt)).build();
      }
      case "url" -> {
        onlyKnown(source, sourceAt, Set.of("type", "url"));
        String url = requiredText(source, "url", sourceAt);
        if (!url.startsWith("https://") && !url.startsWith("http://")) {
          throw invalid(sourceAt + ".url", "must be an http(s) URL, not " + CallError.quote(url));
        }
        yield Image.newBuilder().setUrl(url).build();
      }
      case "file" -> throw notSendable(sourceAt);
      default -> throw invalid(sourceAt + ".type", "must be base64 or url, not " + CallError.quote(type));
    };
    return Part.newBuilder().setImage(image).setCacheBreakpoint(cacheBreakpoint(block, at)).build();
  }

  /** A PDF as base64, or plain text inline: the two sources the adapter sends back as they came. */
  private static Part document(ObjectNode block, String at) {
    onlyKnown(block, at, Set.of("type", "source", "title", "cache_control"));
    String sourceAt = at + ".source";
    ObjectNode source = requiredObject(block, "source", at);
    String type = requiredText(source, "type", sourceAt);
    Document.Builder document = Document.newBuilder();
    switch (type) {
      case "base64" -> {
        onlyKnown(source, sourceAt, Set.of("type", "media_type", "data"));
        String mediaType = requiredText(source, "media_type", sourceAt);
        if (!mediaType.equals("application/pdf")) {
          throw invalid(sourceAt + ".media_type", "must be application/pdf, not " + CallError.quote(mediaType));
        }
        document.setMimeType(mediaType).setData(data(source, sourceAt));
      }
      case "text" -> {
        onlyKnown(source, sourceAt, Set.of("type", "media_type", "data"));
        String mediaType = text(source, "media_type", sourceAt).orElse("text/plain");
        if (!mediaType.equals("text/plain")) {
          throw invalid(sourceAt + ".media_type", "must be text/plain, not " + CallError.quote(mediaType));
        }
        document.setMimeType(mediaType)
            .setData(ByteString.copyFrom(requiredText(source, "data", sourceAt), StandardCharsets.UTF_8));
      }
      case "url" -> throw invalid(sourceAt + ".type", "documents by URL are not carried by the router: send the PDF "
          + "as base64");
      case "file" -> throw notSendable(sourceAt);
      default -> throw invalid(sourceAt + ".type", "must be base64 or text, not " + CallError.quote(type));
    }
    text(block, "title", at).ifPresent(document::setTitle);
    return Part.newBuilder().setDocument(document).setCacheBreakpoint(cacheBreakpoint(block, at)).build();
  }

  private static RuntimeException notSendable(String sourceAt) {
    return invalid(sourceAt + ".type", "files uploaded to Anthropic cannot be sent to other providers: send the "
        + "content as base64");
  }

  private static ByteString data(ObjectNode source, String at) {
    ByteString data = DialectValues.base64(requiredText(source, "data", at), at + ".data");
    if (data.isEmpty()) {
      throw invalid(at + ".data", "must not be empty");
    }
    return data;
  }

  /** Whether a block carries `cache_control` (which must be `{"type": "ephemeral"}`, with an optional `ttl`). */
  private static boolean cacheBreakpoint(ObjectNode block, String at) {
    Optional<ObjectNode> control = optionalObject(block, "cache_control", at);
    control.ifPresent(c -> {
      String controlAt = at + ".cache_control";
      onlyKnown(c, controlAt, Set.of("type", "ttl"));
      String type = requiredText(c, "type", controlAt);
      if (!type.equals("ephemeral")) {
        throw invalid(controlAt + ".type", "must be ephemeral, not " + CallError.quote(type));
      }
      text(c, "ttl", controlAt);
    });
    return control.isPresent();
  }

  private static Tool tool(ObjectNode node, String at) {
    String type = text(node, "type", at).orElse("custom");
    if (!type.equals("custom")) {
      throw invalid(at + ".type", CallError.quote(type) + " is one of Anthropic's own tools, which run on Anthropic's "
          + "side: the router passes only tools the caller runs (type custom)");
    }
    onlyKnown(node, at, Set.of("type", "name", "description", "input_schema", "strict", "cache_control"));
    cacheBreakpoint(node, at);
    Tool.Builder tool = Tool.newBuilder().setName(requiredText(node, "name", at));
    text(node, "description", at).ifPresent(tool::setDescription);
    tool.setParameters(ProtoJson.toStruct(requiredObject(node, "input_schema", at)));
    bool(node, "strict", at).ifPresent(tool::setStrict);
    return tool.build();
  }

  private static void toolChoice(ObjectNode body, ChatRequest.Builder request) {
    Optional<ObjectNode> given = optionalObject(body, "tool_choice", "");
    if (given.isEmpty()) {
      return;
    }
    ObjectNode choice = given.get();
    String type = requiredText(choice, "type", "tool_choice");
    ToolChoice.Builder toolChoice = ToolChoice.newBuilder();
    switch (type) {
      case "auto", "any" -> {
        onlyKnown(choice, "tool_choice", Set.of("type", "disable_parallel_tool_use"));
        toolChoice.setMode(type.equals("auto") ? ToolChoiceMode.TOOL_CHOICE_MODE_AUTO
            : ToolChoiceMode.TOOL_CHOICE_MODE_REQUIRED);
      }
      case "tool" -> {
        onlyKnown(choice, "tool_choice", Set.of("type", "name", "disable_parallel_tool_use"));
        String name = requiredText(choice, "name", "tool_choice");
        if (request.getToolsList().stream().noneMatch(tool -> tool.getName().equals(name))) {
          throw invalid("tool_choice.name", CallError.quote(name) + " names no tool of tools");
        }
        toolChoice.setToolName(name);
      }
      case "none" -> {
        onlyKnown(choice, "tool_choice", Set.of("type"));
        toolChoice.setMode(ToolChoiceMode.TOOL_CHOICE_MODE_NONE);
      }
      default -> throw invalid("tool_choice.type", "must be auto, any, tool or none, not " + CallError.quote(type));
    }
    request.setToolChoice(toolChoice);
    if (bool(choice, "disable_parallel_tool_use", "tool_choice").orElse(false)) {
      request.setParallelToolCalls(false);
    }
  }

  /** A JSON schema alone is the response format; with more (an effort), the whole goes as given. */
  private static void outputConfig(ObjectNode body, ChatRequest.Builder request, ObjectNode providerOptions) {
    Optional<ObjectNode> given = optionalObject(body, "output_config", "");
    if (given.isEmpty()) {
      return;
    }
    ObjectNode config = given.get();
    onlyKnown(config, "output_config", Set.of("format", "effort"));
    Optional<ObjectNode> format = optionalObject(config, "format", "output_config");
    format.ifPresent(f -> {
      onlyKnown(f, "output_config.format", Set.of("type", "schema"));
      String type = requiredText(f, "type", "output_config.format");
      if (!type.equals("json_schema")) {
        throw invalid("output_config.format.type", "must be json_schema, not " + CallError.quote(type));
      }
      requiredObject(f, "schema", "output_config.format");
    });
    if (format.isPresent() && !present(config, "effort")) {
      request.setResponseFormat(ResponseFormat.newBuilder()
          .setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA)
          .setSchema(ProtoJson.toStruct(format.get().get("schema"))));
    } else {
      providerOptions.set("output_config", config);
    }
  }

  private static GenerationSettings settings(ObjectNode body, long maxTokens, ObjectNode providerOptions) {
    GenerationSettings.Builder settings = GenerationSettings.newBuilder();
    settings.setMaxOutputTokens((int) (maxTokens - thinking(body, maxTokens, settings, providerOptions)));
    number(body, "temperature", "").ifPresent(t -> settings.setTemperature(between(t, 0, 1, "temperature")));
    number(body, "top_p", "").ifPresent(p -> settings.setTopP(between(p, 0, 1, "top_p")));
    integer(body, "top_k", "", 0, Integer.MAX_VALUE).ifPresent(k -> providerOptions.put("top_k", k));
    for (JsonNode stop : array(body, "stop_sequences", "")) {
      if (!stop.isTextual()) {
        throw invalid("stop_sequences", "must be an array of strings, not one holding " + JsonFields.typeOf(stop));
      }
      settings.addStopSequences(stop.textValue());
    }
    if (!providerOptions.isEmpty()) {
      settings.setProviderOptions(ProtoJson.toStruct(providerOptions));
    }
    return settings.build();
  }

  /**
   * Reads `thinking`: a budget the router names as an effort is that effort, and that budget (which `max_tokens`
   * holds on top of the answer) is returned; any other thinking goes to Anthropic as given, and 0 is returned.
   */
  private static long thinking(ObjectNode body, long maxTokens, GenerationSettings.Builder settings,
      ObjectNode providerOptions) {
    Optional<ObjectNode> given = optionalObject(body, "thinking", "");
    if (given.isEmpty()) {
      return 0;
    }
    ObjectNode thinking = given.get();
    if (requiredText(thinking, "type", "thinking").equals("enabled")) {
      long budget = integer(thinking, "budget_tokens", "thinking", 1024, Integer.MAX_VALUE).orElseThrow(() ->
          invalid("thinking.budget_tokens", "is required with type enabled: at least 1024 tokens"));
      if (budget >= maxTokens) {
        throw invalid("thinking.budget_tokens", "must be less than max_tokens (" + maxTokens + "), which holds "
            + "thinking and answer alike");
      }
      Optional<ReasoningEffort> effort = ThinkingBudgets.effortOf(budget);
      if (effort.isPresent() && thinking.size() == 2) {
        settings.setReasoningEffort(effort.get());
        return budget;
      }
    }
    providerOptions.set("thinking", thinking);
    return 0;
  }

  private static double between(double value, double min, double max, String field) {
    if (!(value >= min && value <= max)) {
      throw invalid(field, "must be from " + min + " to " + max + ", not " + value);
    }
    return value;
  }
}
