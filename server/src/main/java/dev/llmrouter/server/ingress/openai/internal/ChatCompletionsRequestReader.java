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
import dev.llmrouter.api.v1.UserLocation;
import dev.llmrouter.api.v1.WebSearch;
import dev.llmrouter.api.v1.WebSearchContextSize;
import dev.llmrouter.server.ingress.DialectValues;
import dev.llmrouter.server.ingress.JsonFields;
import java.util.List;
import java.util.Set;

/**
 * Reads an OpenAI Chat Completions request body into a {@link ChatRequest}. Fields the router cannot honour
 * (`n` above 1, log probabilities, audio) are refused by name; fields that only concern OpenAI's own bookkeeping
 * (`user`, `metadata`, `store`, `service_tier`...) are accepted and not sent on.
 */
public final class ChatCompletionsRequestReader {

  private static final Set<String> READ = Set.of("model", "messages", "stream", "stream_options", "temperature",
      "top_p", "max_tokens", "max_completion_tokens", "stop", "seed", "presence_penalty", "frequency_penalty",
      "reasoning_effort", "tools", "tool_choice", "parallel_tool_calls", "response_format", "n", "logprobs",
      "top_logprobs", "modalities", "web_search_options");
  private static final Set<String> NOT_SENT_ON = Set.of("user", "safety_identifier", "metadata", "store",
      "service_tier", "prompt_cache_key");
  private static final Set<String> KNOWN = union(READ, NOT_SENT_ON);

  private ChatCompletionsRequestReader() {
  }

  /** The request and whether it asked for a stream, and for the usage chunk at its end. */
  public record Read(ChatRequest request, boolean stream, boolean includeUsage) {
  }

  public static Read read(JsonNode json) {
    ObjectNode body = object(json, "body");
    onlyKnown(body, "", KNOWN);
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel(requiredText(body, "model", ""));
    if (!body.has("messages")) {
      throw invalid("messages", "is required: the conversation, as [{\"role\": \"user\", \"content\": \"...\"}]");
    }
    List<JsonNode> messages = array(body, "messages", "");
    for (int i = 0; i < messages.size(); i++) {
      request.addMessages(message(object(messages.get(i), "messages[" + i + "]"), "messages[" + i + "]"));
    }
    List<JsonNode> tools = array(body, "tools", "");
    for (int i = 0; i < tools.size(); i++) {
      request.addTools(tool(object(tools.get(i), "tools[" + i + "]"), "tools[" + i + "]"));
    }
    toolChoice(body).ifPresent(request::setToolChoice);
    bool(body, "parallel_tool_calls", "").ifPresent(request::setParallelToolCalls);
    optionalObject(body, "response_format", "").ifPresent(format -> request.setResponseFormat(responseFormat(format)));
    optionalObject(body, "web_search_options", "").ifPresent(options -> request.setWebSearch(webSearch(options)));
    GenerationSettings settings = settings(body);
    if (!settings.equals(GenerationSettings.getDefaultInstance())) {
      request.setSettings(settings); // as a gRPC request without settings has none: the same cassette key
    }
    refuseWhatCannotBeHonoured(body);
    boolean stream = bool(body, "stream", "").orElse(false);
    boolean includeUsage = false;
    if (present(body, "stream_options")) {
      ObjectNode options = requiredObject(body, "stream_options", "");
      onlyKnown(options, "stream_options", Set.of("include_usage", "include_obfuscation"));
      includeUsage = bool(options, "include_usage", "stream_options").orElse(false);
    }
    return new Read(request.build(), stream, includeUsage);
  }

  private static void refuseWhatCannotBeHonoured(ObjectNode body) {
    if (integer(body, "n", "", 1, 128).orElse(1) != 1) {
      throw invalid("n", "the router returns one choice per call: leave n at 1");
    }
    if (bool(body, "logprobs", "").orElse(false) || integer(body, "top_logprobs", "", 0, 20).orElse(0) > 0) {
      throw invalid("logprobs", "log probabilities are not carried by the router: leave logprobs off");
    }
    for (JsonNode modality : array(body, "modalities", "")) {
      if (!"text".equals(modality.asText())) {
        throw invalid("modalities", "the router answers in text only, not " + modality);
      }
    }
  }

  private static Message message(ObjectNode node, String at) {
    String role = requiredText(node, "role", at);
    onlyKnown(node, at, Set.of("role", "content", "name", "tool_calls", "tool_call_id", "refusal",
        "reasoning_content", "function_call", "audio"));
    Message.Builder message = Message.newBuilder();
    switch (role) {
      case "system", "developer" -> message.setRole(Role.ROLE_SYSTEM);
      case "user" -> message.setRole(Role.ROLE_USER);
      case "assistant" -> message.setRole(Role.ROLE_ASSISTANT);
      case "tool" -> message.setRole(Role.ROLE_TOOL)
          .setToolCallId(text(node, "tool_call_id", at).orElseThrow(() -> invalid(at + ".tool_call_id",
              "is required on a tool message: the id of the tool call it answers")));
      case "function" -> throw invalid(at + ".role", "function messages are the old form of tool results: send "
          + "{\"role\": \"tool\", \"tool_call_id\": ..., \"content\": ...}");
      default -> throw invalid(at + ".role", "must be system, developer, user, assistant or tool, not '" + role + "'");
    }
    if (present(node, "function_call") || present(node, "audio")) {
      throw invalid(at + (present(node, "audio") ? ".audio" : ".function_call"), "is not supported by the router: "
          + "send tool calls as tool_calls");
    }
    text(node, "reasoning_content", at).filter(t -> !t.isEmpty())
        .ifPresent(t -> message.addParts(Part.newBuilder().setReasoning(Reasoning.newBuilder().setText(t))));
    content(node, role, at, message);
    text(node, "refusal", at).filter(t -> !t.isEmpty())
        .ifPresent(t -> message.addParts(Part.newBuilder().setRefusal(t)));
    List<JsonNode> calls = array(node, "tool_calls", at);
    if (!calls.isEmpty() && message.getRole() != Role.ROLE_ASSISTANT) {
      throw invalid(at + ".tool_calls", "only assistant messages carry tool calls");
    }
    for (int i = 0; i < calls.size(); i++) {
      String callAt = at + ".tool_calls[" + i + "]";
      ObjectNode call = object(calls.get(i), callAt);
      String type = text(call, "type", callAt).orElse("function");
      if (!type.equals("function")) {
        throw invalid(callAt + ".type", "must be function, not '" + type + "'");
      }
      ObjectNode function = requiredObject(call, "function", callAt);
      message.addToolCalls(ToolCall.newBuilder().setId(requiredText(call, "id", callAt))
          .setName(requiredText(function, "name", callAt + ".function"))
          .setArgumentsJson(text(function, "arguments", callAt + ".function").orElse("{}")));
    }
    return message.build();
  }

  private static void content(ObjectNode node, String role, String at, Message.Builder message) {
    JsonNode content = node.get("content");
    String field = at + ".content";
    if (content == null || content.isNull()) {
      if (!role.equals("assistant")) {
        throw invalid(field, "is required on a " + role + " message");
      }
      return;
    }
    if (content.isTextual()) {
      // An empty string beside tool calls is no part, as in the same request sent over gRPC.
      if (!content.textValue().isEmpty() || !role.equals("assistant")) {
        message.addParts(Part.newBuilder().setText(content.textValue()));
      }
      return;
    }
    if (!content.isArray()) {
      throw invalid(field, "must be a string or an array of content parts, not " + JsonFields.typeOf(content));
    }
    for (int i = 0; i < content.size(); i++) {
      String partAt = field + "[" + i + "]";
      message.addParts(part(object(content.get(i), partAt), role, partAt));
    }
  }

  private static Part part(ObjectNode part, String role, String at) {
    String type = requiredText(part, "type", at);
    return switch (type) {
      case "text" -> Part.newBuilder().setText(requiredText(part, "text", at)).build();
      case "refusal" -> {
        if (!role.equals("assistant")) {
          throw invalid(at + ".type", "only assistant messages carry refusals");
        }
        yield Part.newBuilder().setRefusal(requiredText(part, "refusal", at)).build();
      }
      case "image_url" -> {
        if (!role.equals("user")) {
          throw invalid(at + ".type", "images go in user messages");
        }
        ObjectNode image = requiredObject(part, "image_url", at);
        yield Part.newBuilder().setImage(DialectValues.image(requiredText(image, "url", at + ".image_url"),
            at + ".image_url.url")).build();
      }
      case "file" -> Part.newBuilder().setDocument(OpenAiFields.file(requiredObject(part, "file", at), at + ".file"))
          .build();
      default -> throw invalid(at + ".type", "must be text, image_url or file (or refusal, from the assistant), not '"
          + type + "'");
    };
  }

  private static Tool tool(ObjectNode node, String at) {
    String type = text(node, "type", at).orElse("function");
    if (!type.equals("function")) {
      throw invalid(at + ".type", "must be function, not '" + type + "'");
    }
    return OpenAiFields.function(requiredObject(node, "function", at), at + ".function");
  }

  private static java.util.Optional<ToolChoice> toolChoice(ObjectNode body) {
    JsonNode choice = body.get("tool_choice");
    if (choice == null || choice.isNull()) {
      return java.util.Optional.empty();
    }
    if (choice.isTextual()) {
      return java.util.Optional.of(OpenAiFields.toolChoiceMode(choice.textValue(), "tool_choice",
          "{\"type\": \"function\", \"function\": {\"name\": ...}}"));
    }
    ObjectNode named = object(choice, "tool_choice");
    String type = requiredText(named, "type", "tool_choice");
    if (!type.equals("function")) {
      throw invalid("tool_choice.type", "must be function, not '" + type + "'");
    }
    return java.util.Optional.of(ToolChoice.newBuilder()
        .setToolName(requiredText(requiredObject(named, "function", "tool_choice"), "name", "tool_choice.function"))
        .build());
  }

  private static ResponseFormat responseFormat(ObjectNode format) {
    String type = requiredText(format, "type", "response_format");
    return switch (type) {
      case "text" -> ResponseFormat.newBuilder().setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_TEXT).build();
      case "json_object" ->
          ResponseFormat.newBuilder().setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_OBJECT).build();
      case "json_schema" -> OpenAiFields.jsonSchema(requiredObject(format, "json_schema", "response_format"),
          "response_format.json_schema");
      default -> throw invalid("response_format.type", "must be text, json_object or json_schema, not '" + type
          + "'");
    };
  }

  /** A search model's `web_search_options`: the context size and the approximate user location. */
  private static WebSearch webSearch(ObjectNode options) {
    String at = "web_search_options";
    onlyKnown(options, at, Set.of("search_context_size", "user_location"));
    WebSearch.Builder search = WebSearch.newBuilder();
    text(options, "search_context_size", at).ifPresent(size -> search.setContextSize(switch (size) {
      case "low" -> WebSearchContextSize.WEB_SEARCH_CONTEXT_SIZE_LOW;
      case "medium" -> WebSearchContextSize.WEB_SEARCH_CONTEXT_SIZE_MEDIUM;
      case "high" -> WebSearchContextSize.WEB_SEARCH_CONTEXT_SIZE_HIGH;
      default -> throw invalid(at + ".search_context_size", "must be low, medium or high, not '" + size + "'");
    }));
    optionalObject(options, "user_location", at).ifPresent(location -> {
      String locationAt = at + ".user_location";
      onlyKnown(location, locationAt, Set.of("type", "approximate"));
      ObjectNode approximate = requiredObject(location, "approximate", locationAt);
      String approximateAt = locationAt + ".approximate";
      onlyKnown(approximate, approximateAt, Set.of("city", "region", "country", "timezone"));
      search.setUserLocation(UserLocation.newBuilder().setCity(text(approximate, "city", approximateAt).orElse(""))
          .setRegion(text(approximate, "region", approximateAt).orElse(""))
          .setCountry(text(approximate, "country", approximateAt).orElse(""))
          .setTimezone(text(approximate, "timezone", approximateAt).orElse("")));
    });
    return search.build();
  }

  private static GenerationSettings settings(ObjectNode body) {
    GenerationSettings.Builder settings = GenerationSettings.newBuilder();
    number(body, "temperature", "").ifPresent(settings::setTemperature);
    number(body, "top_p", "").ifPresent(settings::setTopP);
    var maxTokens = integer(body, "max_completion_tokens", "", 1, Integer.MAX_VALUE);
    (maxTokens.isPresent() ? maxTokens : integer(body, "max_tokens", "", 1, Integer.MAX_VALUE))
        .ifPresent(max -> settings.setMaxOutputTokens((int) max));
    JsonNode stop = body.get("stop");
    if (stop != null && !stop.isNull()) {
      if (stop.isTextual()) {
        settings.addStopSequences(stop.textValue());
      } else {
        for (JsonNode sequence : array(body, "stop", "")) {
          if (!sequence.isTextual()) {
            throw invalid("stop", "must be a string or an array of strings");
          }
          settings.addStopSequences(sequence.textValue());
        }
      }
    }
    integer(body, "seed", "", Long.MIN_VALUE, Long.MAX_VALUE).ifPresent(settings::setSeed);
    number(body, "presence_penalty", "").ifPresent(settings::setPresencePenalty);
    number(body, "frequency_penalty", "").ifPresent(settings::setFrequencyPenalty);
    text(body, "reasoning_effort", "").ifPresent(effort ->
        settings.setReasoningEffort(OpenAiFields.reasoningEffort(effort, "reasoning_effort")));
    return settings.build();
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    java.util.Set<String> all = new java.util.HashSet<>(a);
    all.addAll(b);
    return Set.copyOf(all);
  }
}
