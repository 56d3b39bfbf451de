package dev.llmrouter.server.ingress.openai.internal;

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
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Reasoning;
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.ResponseFormatType;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolChoice;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.ingress.DialectValues;
import dev.llmrouter.server.ingress.JsonFields;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads an OpenAI Responses request body into a {@link ChatRequest}, exactly the one the same conversation sent
 * over gRPC would be. The router is stateless: what OpenAI keeps on its servers (`previous_response_id`,
 * conversations, stored prompts, item references, background responses) is refused by name, and `store` is
 * accepted but nothing is stored. Built-in tools, which run on OpenAI's servers, are refused; fields that only
 * concern OpenAI's bookkeeping (`user`, `metadata`, `service_tier`...) are accepted and not sent on.
 */
public final class ResponsesRequestReader {

  private static final Set<String> READ = Set.of("model", "input", "instructions", "tools", "tool_choice",
      "parallel_tool_calls", "text", "temperature", "top_p", "max_output_tokens", "reasoning", "stream",
      "stream_options", "store", "include", "previous_response_id", "conversation", "prompt", "background",
      "top_logprobs", "truncation");
  private static final Set<String> NOT_SENT_ON = Set.of("user", "safety_identifier", "metadata", "service_tier",
      "prompt_cache_key", "prompt_cache_retention", "max_tool_calls");
  private static final Set<String> KNOWN = union(READ, NOT_SENT_ON);
  private static final Set<String> BUILT_IN_TOOLS = Set.of("web_search", "web_search_preview",
      "web_search_preview_2025_03_11", "web_search_2025_08_26", "file_search", "code_interpreter",
      "computer_use_preview", "computer_use", "image_generation", "mcp", "local_shell", "shell", "apply_patch");
  private static final String STATELESS = "the router is stateless and keeps no responses or conversations: ";

  private ResponsesRequestReader() {
  }

  /**
   * The request, whether it asked for a stream, whether reasoning is to be shown as summaries (the caller asked for
   * `reasoning.summary`) rather than as reasoning text, and the request settings a Response object echoes.
   */
  public record Read(ChatRequest request, boolean stream, boolean reasoningSummary, ObjectNode echo) {
  }

  public static Read read(JsonNode json) {
    ObjectNode body = object(json, "body");
    onlyKnown(body, "", KNOWN);
    refuseWhatNeedsState(body);
    refuseWhatCannotBeHonoured(body);
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel(requiredText(body, "model", ""));
    // An empty instruction is no system message, as in the same request sent over gRPC.
    text(body, "instructions", "").filter(instructions -> !instructions.isEmpty()).ifPresent(instructions ->
        request.addMessages(Message.newBuilder().setRole(Role.ROLE_SYSTEM).addParts(textPart(instructions))));
    new Input(request).read(body);
    List<JsonNode> tools = array(body, "tools", "");
    for (int i = 0; i < tools.size(); i++) {
      String at = "tools[" + i + "]";
      request.addTools(tool(object(tools.get(i), at), at));
    }
    toolChoice(body).ifPresent(request::setToolChoice);
    bool(body, "parallel_tool_calls", "").ifPresent(request::setParallelToolCalls);
    optionalObject(body, "text", "").flatMap(ResponsesRequestReader::responseFormat)
        .ifPresent(request::setResponseFormat);
    Optional<ObjectNode> reasoning = optionalObject(body, "reasoning", "");
    reasoning.ifPresent(r -> onlyKnown(r, "reasoning", Set.of("effort", "summary", "generate_summary")));
    GenerationSettings settings = settings(body, reasoning);
    if (!settings.equals(GenerationSettings.getDefaultInstance())) {
      request.setSettings(settings); // as a gRPC request without settings has none: the same cassette key
    }
    boolean reasoningSummary = reasoning.map(ResponsesRequestReader::summary).orElse(false);
    if (present(body, "stream_options")) {
      onlyKnown(requiredObject(body, "stream_options", ""), "stream_options",
          Set.of("include_obfuscation"));
    }
    bool(body, "store", ""); // either way: nothing is stored, and the answer says store: false
    for (JsonNode include : array(body, "include", "")) {
      if (!include.isTextual()) {
        throw invalid("include", "must be an array of strings, not one with " + JsonFields.typeOf(include));
      }
    }
    return new Read(request.build(), bool(body, "stream", "").orElse(false), reasoningSummary, echo(body));
  }

  private static void refuseWhatNeedsState(ObjectNode body) {
    if (present(body, "previous_response_id")) {
      throw invalid("previous_response_id", STATELESS + "send the whole conversation in input (the output items "
          + "of earlier responses included) instead of previous_response_id");
    }
    if (present(body, "conversation")) {
      throw invalid("conversation", STATELESS + "send the whole conversation in input instead of a conversation");
    }
    if (present(body, "prompt")) {
      throw invalid("prompt", "stored prompts live on OpenAI's servers: send the instructions and input themselves");
    }
    if (bool(body, "background", "").orElse(false)) {
      throw invalid("background", STATELESS + "it answers within the call, so leave background off");
    }
  }

  private static void refuseWhatCannotBeHonoured(ObjectNode body) {
    if (integer(body, "top_logprobs", "", 0, 20).orElse(0) > 0) {
      throw invalid("top_logprobs", "log probabilities are not carried by the router: leave top_logprobs at 0");
    }
    text(body, "truncation", "").filter(truncation -> !truncation.equals("disabled")).ifPresent(truncation -> {
      throw invalid("truncation", "the router sends the whole input to every provider: leave truncation at "
          + "disabled, not '" + truncation + "'");
    });
    for (JsonNode include : array(body, "include", "")) {
      if ("message.output_text.logprobs".equals(include.asText())) {
        throw invalid("include", "log probabilities are not carried by the router: leave out "
            + "message.output_text.logprobs");
      }
    }
  }

  /**
   * The items of `input`, in order, as messages. Consecutive assistant-side items (reasoning, assistant messages,
   * function calls) are one assistant message, as the assistant's turn of a gRPC conversation is.
   */
  private static final class Input {

    private final ChatRequest.Builder request;
    private final Set<String> callIds = new HashSet<>();
    private Message.Builder assistant;
    private String reasoningOnlyAt;

    Input(ChatRequest.Builder request) {
      this.request = request;
    }

    void read(ObjectNode body) {
      JsonNode input = body.get("input");
      if (input == null || input.isNull()) {
        throw invalid("input", "is required: the conversation, as a string or a list of items like "
            + "[{\"role\": \"user\", \"content\": \"...\"}]");
      }
      if (input.isTextual()) {
        request.addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addParts(textPart(input.textValue())));
        return;
      }
      List<JsonNode> items = array(body, "input", "");
      if (items.isEmpty()) {
        throw invalid("input", "is empty: send at least one item, like {\"role\": \"user\", \"content\": \"...\"}");
      }
      for (int i = 0; i < items.size(); i++) {
        String at = "input[" + i + "]";
        item(object(items.get(i), at), at);
      }
      endAssistantTurn();
    }

    private void item(ObjectNode item, String at) {
      String type = text(item, "type", at).orElseGet(() -> {
        if (!item.has("role")) {
          throw invalid(at + ".type", "is required on an item that is not a message (one with a role)");
        }
        return "message";
      });
      switch (type) {
        case "message" -> message(item, at);
        case "function_call" -> functionCall(item, at);
        case "function_call_output" -> functionCallOutput(item, at);
        case "reasoning" -> reasoning(item, at);
        case "item_reference" -> throw invalid(at + ".type", STATELESS + "send the item itself, not a reference "
            + "to an item stored on OpenAI's servers");
        default -> throw invalid(at + ".type", "must be message, function_call, function_call_output or reasoning"
            + ", not '" + type + "'" + (type.endsWith("_call") || type.endsWith("_call_output")
            ? " (the items of OpenAI's built-in tools cannot be sent to other providers)" : ""));
      }
    }

    private void message(ObjectNode item, String at) {
      onlyKnown(item, at, Set.of("type", "role", "content", "id", "status", "phase"));
      String role = requiredText(item, "role", at);
      if (role.equals("assistant")) {
        content(item, role, at, assistantTurn());
        reasoningOnlyAt = null;
        return;
      }
      Message.Builder message = Message.newBuilder().setRole(switch (role) {
        case "user" -> Role.ROLE_USER;
        case "system", "developer" -> Role.ROLE_SYSTEM;
        default -> throw invalid(at + ".role", "must be user, assistant, system or developer, not '" + role + "'");
      });
      content(item, role, at, message);
      add(message);
    }

    private void functionCall(ObjectNode item, String at) {
      onlyKnown(item, at, Set.of("type", "call_id", "name", "arguments", "id", "status"));
      String callId = requiredText(item, "call_id", at);
      assistantTurn().addToolCalls(ToolCall.newBuilder().setId(callId).setName(requiredText(item, "name", at))
          .setArgumentsJson(requiredText(item, "arguments", at)));
      callIds.add(callId);
      reasoningOnlyAt = null;
    }

    private void functionCallOutput(ObjectNode item, String at) {
      onlyKnown(item, at, Set.of("type", "call_id", "output", "id", "status"));
      String callId = requiredText(item, "call_id", at);
      if (!callIds.contains(callId)) {
        throw invalid(at + ".call_id", "'" + callId + "' answers no function_call earlier in input: send the "
            + "function_call item before its output");
      }
      Message.Builder message = Message.newBuilder().setRole(Role.ROLE_TOOL).setToolCallId(callId);
      JsonNode output = item.get("output");
      if (output == null || output.isNull()) {
        throw invalid(at + ".output", "is required: the function's result, as a string or a list of content parts");
      }
      if (output.isTextual()) {
        message.addParts(textPart(output.textValue()));
      } else {
        parts(item, "output", "tool", at, message);
      }
      add(message);
    }

    private void reasoning(ObjectNode item, String at) {
      onlyKnown(item, at, Set.of("type", "id", "summary", "content", "encrypted_content", "status"));
      List<String> texts = new ArrayList<>();
      readTexts(item, "summary", "summary_text", at, texts);
      readTexts(item, "content", "reasoning_text", at, texts);
      Reasoning.Builder reasoning = Reasoning.newBuilder().setText(String.join("\n\n", texts));
      text(item, "encrypted_content", at).ifPresent(content -> EncryptedReasoning.read(content, reasoning));
      Message.Builder turn = assistantTurn();
      if (turn.getPartsCount() == 0 && turn.getToolCallsCount() == 0) {
        reasoningOnlyAt = at;
      }
      turn.addParts(Part.newBuilder().setReasoning(reasoning));
    }

    private static void readTexts(ObjectNode item, String field, String type, String at, List<String> texts) {
      List<JsonNode> parts = array(item, field, at);
      for (int i = 0; i < parts.size(); i++) {
        String partAt = at + "." + field + "[" + i + "]";
        ObjectNode part = object(parts.get(i), partAt);
        onlyKnown(part, partAt, Set.of("type", "text"));
        String partType = requiredText(part, "type", partAt);
        if (!partType.equals(type)) {
          throw invalid(partAt + ".type", "must be " + type + ", not '" + partType + "'");
        }
        texts.add(requiredText(part, "text", partAt));
      }
    }

    private Message.Builder assistantTurn() {
      if (assistant == null) {
        assistant = Message.newBuilder().setRole(Role.ROLE_ASSISTANT);
      }
      return assistant;
    }

    private void add(Message.Builder message) {
      endAssistantTurn();
      request.addMessages(message);
    }

    private void endAssistantTurn() {
      if (reasoningOnlyAt != null) {
        throw invalid(reasoningOnlyAt, "a reasoning item must be followed by the assistant message or "
            + "function_call it led to");
      }
      if (assistant != null) {
        request.addMessages(assistant);
        assistant = null;
      }
    }
  }

  private static void content(ObjectNode item, String role, String at, Message.Builder message) {
    JsonNode content = item.get("content");
    if (content == null || content.isNull()) {
      throw invalid(at + ".content", "is required on " + role + " messages");
    }
    if (content.isTextual()) {
      // An empty assistant text (beside function calls) is no part, as in the same request sent over gRPC.
      if (!content.textValue().isEmpty() || !role.equals("assistant")) {
        message.addParts(textPart(content.textValue()));
      }
      return;
    }
    parts(item, "content", role, at, message);
  }

  private static void parts(ObjectNode item, String field, String role, String at, Message.Builder message) {
    JsonNode parts = item.get(field);
    if (!parts.isArray()) {
      throw invalid(at + "." + field, "must be a string or an array of content parts, not "
          + JsonFields.typeOf(parts));
    }
    for (int i = 0; i < parts.size(); i++) {
      String partAt = at + "." + field + "[" + i + "]";
      part(object(parts.get(i), partAt), role, partAt).ifPresent(message::addParts);
    }
  }

  /** One content part; none for an empty assistant text. */
  private static Optional<Part> part(ObjectNode part, String role, String at) {
    String type = requiredText(part, "type", at);
    boolean assistant = role.equals("assistant");
    switch (type) {
      case "input_text", "output_text" -> {
        if (type.equals("output_text") && !assistant) {
          throw invalid(at + ".type", "output_text is the assistant's: a " + role + " message sends input_text");
        }
        onlyKnown(part, at, type.equals("input_text") ? Set.of("type", "text")
            : Set.of("type", "text", "annotations", "logprobs"));
        String text = requiredText(part, "text", at);
        return text.isEmpty() && assistant ? Optional.empty() : Optional.of(textPart(text));
      }
      case "refusal" -> {
        if (!assistant) {
          throw invalid(at + ".type", "only assistant messages carry refusals");
        }
        onlyKnown(part, at, Set.of("type", "refusal"));
        return Optional.of(Part.newBuilder().setRefusal(requiredText(part, "refusal", at)).build());
      }
      case "input_image" -> {
        userOrTool(role, at, "images");
        onlyKnown(part, at, Set.of("type", "image_url", "file_id", "detail"));
        if (present(part, "file_id")) {
          throw invalid(at + ".file_id", "files uploaded to OpenAI cannot be sent to other providers: send the "
              + "image as image_url (an http(s) URL or a base64 data: URL)");
        }
        return Optional.of(Part.newBuilder().setImage(DialectValues.image(requiredText(part, "image_url", at),
            at + ".image_url")).build());
      }
      case "input_file" -> {
        userOrTool(role, at, "files");
        onlyKnown(part, at, Set.of("type", "file_data", "file_id", "filename", "file_url"));
        if (present(part, "file_url")) {
          throw invalid(at + ".file_url", "the router does not fetch files: send the file as file_data (a base64 "
              + "data: URL)");
        }
        return Optional.of(Part.newBuilder().setDocument(OpenAiFields.file(part, at)).build());
      }
      default -> throw invalid(at + ".type", "must be input_text, input_image or input_file (output_text or "
          + "refusal from the assistant), not '" + type + "'");
    }
  }

  private static void userOrTool(String role, String at, String what) {
    if (!role.equals("user") && !role.equals("tool")) {
      throw invalid(at + ".type", what + " go in user messages or function call outputs, not in a " + role
          + " message");
    }
  }

  private static Tool tool(ObjectNode node, String at) {
    String type = requiredText(node, "type", at);
    if (BUILT_IN_TOOLS.contains(type)) {
      throw invalid(at + ".type", "'" + type + "' is one of OpenAI's built-in tools, which run on OpenAI's servers;"
          + " the router serves any provider: declare function tools and run them yourself");
    }
    if (!type.equals("function")) {
      throw invalid(at + ".type", "must be function, not '" + type + "'");
    }
    onlyKnown(node, at, Set.of("type", "name", "description", "parameters", "strict"));
    return OpenAiFields.function(node, at);
  }

  private static Optional<ToolChoice> toolChoice(ObjectNode body) {
    JsonNode choice = body.get("tool_choice");
    if (choice == null || choice.isNull()) {
      return Optional.empty();
    }
    String named = "{\"type\": \"function\", \"name\": ...}";
    if (choice.isTextual()) {
      return Optional.of(OpenAiFields.toolChoiceMode(choice.textValue(), "tool_choice", named));
    }
    ObjectNode object = object(choice, "tool_choice");
    String type = requiredText(object, "type", "tool_choice");
    if (!type.equals("function")) {
      throw invalid("tool_choice.type", "must be function (" + named + "), not '" + type + "'"
          + (BUILT_IN_TOOLS.contains(type) ? ": OpenAI's built-in tools run on OpenAI's servers" : ""));
    }
    onlyKnown(object, "tool_choice", Set.of("type", "name"));
    return Optional.of(ToolChoice.newBuilder().setToolName(requiredText(object, "name", "tool_choice")).build());
  }

  private static Optional<ResponseFormat> responseFormat(ObjectNode text) {
    onlyKnown(text, "text", Set.of("format", "verbosity"));
    text(text, "verbosity", "text").filter(verbosity -> !verbosity.equals("medium"))
        .ifPresent(verbosity -> {
          throw invalid("text.verbosity", "other providers have no verbosity setting: leave it out (or at "
              + "medium), not '" + verbosity + "'");
        });
    return optionalObject(text, "format", "text").map(format -> {
      String type = requiredText(format, "type", "text.format");
      return switch (type) {
        case "text" -> ResponseFormat.newBuilder().setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_TEXT).build();
        case "json_object" ->
            ResponseFormat.newBuilder().setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_OBJECT).build();
        case "json_schema" -> {
          onlyKnown(format, "text.format", Set.of("type", "name", "schema", "strict", "description"));
          yield OpenAiFields.jsonSchema(format, "text.format");
        }
        default -> throw invalid("text.format.type", "must be text, json_object or json_schema, not '" + type + "'");
      };
    });
  }

  private static GenerationSettings settings(ObjectNode body, Optional<ObjectNode> reasoning) {
    GenerationSettings.Builder settings = GenerationSettings.newBuilder();
    number(body, "temperature", "").ifPresent(settings::setTemperature);
    number(body, "top_p", "").ifPresent(settings::setTopP);
    integer(body, "max_output_tokens", "", 1, Integer.MAX_VALUE)
        .ifPresent(max -> settings.setMaxOutputTokens((int) max));
    reasoning.flatMap(r -> text(r, "effort", "reasoning")).ifPresent(effort ->
        settings.setReasoningEffort(OpenAiFields.reasoningEffort(effort, "reasoning.effort")));
    return settings.build();
  }

  /** Whether the caller asked for reasoning summaries (`auto`, `concise` or `detailed`). */
  private static boolean summary(ObjectNode reasoning) {
    for (String field : List.of("summary", "generate_summary")) {
      Optional<String> summary = text(reasoning, field, "reasoning");
      if (summary.isPresent()) {
        if (!Set.of("auto", "concise", "detailed").contains(summary.get())) {
          throw invalid("reasoning." + field, "must be auto, concise or detailed, not '" + summary.get() + "'");
        }
        return true;
      }
    }
    return false;
  }

  /** The request settings a Response object repeats, as the caller sent them, or their defaults. */
  private static ObjectNode echo(ObjectNode body) {
    ObjectNode echo = ProtoJson.MAPPER.createObjectNode();
    echo.set("instructions", orNull(body, "instructions"));
    echo.set("max_output_tokens", orNull(body, "max_output_tokens"));
    echo.set("parallel_tool_calls", present(body, "parallel_tool_calls") ? body.get("parallel_tool_calls")
        : echo.booleanNode(true));
    ObjectNode reasoning = echo.putObject("reasoning");
    JsonNode asked = body.path("reasoning");
    reasoning.set("effort", asked.hasNonNull("effort") ? asked.get("effort") : echo.nullNode());
    reasoning.set("summary", asked.hasNonNull("summary") ? asked.get("summary")
        : asked.hasNonNull("generate_summary") ? asked.get("generate_summary") : echo.nullNode());
    echo.set("temperature", orNull(body, "temperature"));
    ObjectNode text = present(body, "text") ? body.get("text").deepCopy() : echo.objectNode();
    if (!text.hasNonNull("format")) {
      text.putObject("format").put("type", "text");
    }
    echo.set("text", text);
    echo.set("tool_choice", present(body, "tool_choice") ? body.get("tool_choice") : echo.textNode("auto"));
    echo.set("tools", present(body, "tools") ? body.get("tools") : echo.arrayNode());
    echo.set("top_p", orNull(body, "top_p"));
    echo.set("user", orNull(body, "user"));
    echo.set("metadata", present(body, "metadata") ? body.get("metadata") : echo.objectNode());
    return echo;
  }

  private static JsonNode orNull(ObjectNode body, String field) {
    return present(body, field) ? body.get(field) : ProtoJson.MAPPER.nullNode();
  }

  private static Part textPart(String text) {
    return Part.newBuilder().setText(text).build();
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> all = new HashSet<>(a);
    all.addAll(b);
    return Set.copyOf(all);
  }
}
