package dev.llmrouter.server.provider.openai.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ReasoningEffort;
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolChoice;
import dev.llmrouter.api.v1.WebSearch;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.provider.WebSearchOptions;
import java.util.Base64;
import java.util.Locale;

/** Maps a {@link ChatRequest} to an OpenAI Chat Completions request body. */
public final class OpenAiRequestMapper {

  private OpenAiRequestMapper() {
  }

  public static ObjectNode toRequestBody(ChatRequest request, String upstreamModel, boolean stream) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    body.put("model", upstreamModel);
    ArrayNode messages = body.putArray("messages");
    request.getMessagesList().forEach(m -> messages.add(message(m)));
    if (stream) {
      body.put("stream", true);
      body.putObject("stream_options").put("include_usage", true);
    } else {
      body.put("stream", false);
    }
    settings(request.getSettings(), body);
    if (request.getToolsCount() > 0) {
      ArrayNode tools = body.putArray("tools");
      request.getToolsList().forEach(t -> tools.add(tool(t)));
    }
    if (request.hasToolChoice()) {
      toolChoice(request.getToolChoice(), body);
    }
    if (request.hasParallelToolCalls()) {
      body.put("parallel_tool_calls", request.getParallelToolCalls());
    }
    if (request.hasResponseFormat()) {
      responseFormat(request.getResponseFormat(), body);
    }
    if (request.hasWebSearch()) {
      webSearch(request.getWebSearch(), body);
    }
    // The escape hatch goes last so that its keys win.
    body.setAll(ProtoJson.toJson(request.getSettings().getProviderOptions()));
    return body;
  }

  // The search models' `web_search_options`; the location nests under `approximate` here, unlike the Responses API.
  private static void webSearch(WebSearch search, ObjectNode body) {
    ObjectNode options = body.putObject("web_search_options");
    WebSearchOptions.contextSize(search).ifPresent(size -> options.put("search_context_size", size));
    if (search.hasUserLocation()) {
      ObjectNode approximate = WebSearchOptions.approximateLocation(search.getUserLocation());
      approximate.remove("type");
      options.putObject("user_location").put("type", "approximate").set("approximate", approximate);
    }
  }

  /**
   * The request in the spelling of Mistral's API, which refuses the fields it does not know (HTTP 422
   * "extra_forbidden"): `max_tokens` and `random_seed` for OpenAI's `max_completion_tokens` and `seed`, and no
   * `stream_options` (Mistral sends the usage on the last chunk unasked).
   */
  public static ObjectNode inMistralSpelling(ObjectNode body) {
    withMaxTokens(body);
    rename(body, "seed", "random_seed");
    body.remove("stream_options");
    return body;
  }

  /**
   * The output limit as `max_tokens`, the name OpenAI deprecated for `max_completion_tokens` and the only one some
   * hosts know: DeepSeek silently ignores the newer name.
   */
  public static ObjectNode withMaxTokens(ObjectNode body) {
    rename(body, "max_completion_tokens", "max_tokens");
    return body;
  }

  // A value the escape hatch already gave under the new name wins.
  private static void rename(ObjectNode body, String field, String newName) {
    JsonNode value = body.remove(field);
    if (value != null && !body.has(newName)) {
      body.set(newName, value);
    }
  }

  private static ObjectNode message(Message message) {
    ObjectNode node = ProtoJson.MAPPER.createObjectNode();
    node.put("role", switch (message.getRole()) {
      case ROLE_SYSTEM -> "system";
      case ROLE_ASSISTANT -> "assistant";
      case ROLE_TOOL -> "tool";
      default -> "user";
    });
    boolean onlyText = message.getPartsList().stream().allMatch(p -> p.hasText() || p.hasReasoning() || p.hasRefusal());
    String refusal = message.getPartsList().stream().filter(Part::hasRefusal).map(Part::getRefusal)
        .reduce("", String::concat);
    if (onlyText) {
      String text = message.getPartsList().stream().filter(Part::hasText).map(Part::getText).reduce("", String::concat);
      if (!text.isEmpty() || message.getToolCallsCount() == 0 && refusal.isEmpty()) {
        node.put("content", text);
      } else {
        node.putNull("content");
      }
    } else {
      ArrayNode content = node.putArray("content");
      message.getPartsList().forEach(part -> contentPart(part, content));
    }
    if (!refusal.isEmpty()) {
      node.put("refusal", refusal);
    }
    if (message.getToolCallsCount() > 0) {
      ArrayNode calls = node.putArray("tool_calls");
      for (ToolCall call : message.getToolCallsList()) {
        ObjectNode c = calls.addObject();
        c.put("id", call.getId());
        c.put("type", "function");
        c.putObject("function").put("name", call.getName()).put("arguments", call.getArgumentsJson());
      }
    }
    if (!message.getToolCallId().isEmpty()) {
      node.put("tool_call_id", message.getToolCallId());
    }
    return node;
  }

  // Reasoning and refusal parts have no place in a Chat Completions content array, so they are left out.
  private static void contentPart(Part part, ArrayNode content) {
    switch (part.getKindCase()) {
      case TEXT -> content.addObject().put("type", "text").put("text", part.getText());
      case IMAGE -> {
        Image image = part.getImage();
        String url = image.hasUrl() ? image.getUrl() : dataUrl(image.getMimeType(), image.getData().toByteArray());
        content.addObject().put("type", "image_url").putObject("image_url").put("url", url);
      }
      case DOCUMENT -> {
        ObjectNode file = content.addObject().put("type", "file").putObject("file");
        file.put("filename", part.getDocument().getTitle().isEmpty() ? "document.pdf" : part.getDocument().getTitle());
        file.put("file_data", dataUrl(part.getDocument().getMimeType(), part.getDocument().getData().toByteArray()));
      }
      default -> {
      }
    }
  }

  /** Inline data as OpenAI's APIs take it in place of a URL. */
  static String dataUrl(String mimeType, byte[] data) {
    return "data:" + mimeType + ";base64," + Base64.getEncoder().encodeToString(data);
  }

  private static void settings(GenerationSettings s, ObjectNode body) {
    if (s.hasTemperature()) {
      body.put("temperature", s.getTemperature());
    }
    if (s.hasTopP()) {
      body.put("top_p", s.getTopP());
    }
    if (s.hasMaxOutputTokens()) {
      body.put("max_completion_tokens", s.getMaxOutputTokens());
    }
    if (s.getStopSequencesCount() > 0) {
      ArrayNode stop = body.putArray("stop");
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
    String effort = effort(s.getReasoningEffort());
    if (effort != null) {
      body.put("reasoning_effort", effort);
    }
  }

  /** A reasoning effort as OpenAI's APIs spell it (`low`, `high`...); null when unset. */
  static String effort(ReasoningEffort effort) {
    return switch (effort) {
      case REASONING_EFFORT_UNSPECIFIED, UNRECOGNIZED -> null;
      default -> effort.name().substring("REASONING_EFFORT_".length()).toLowerCase(Locale.ROOT);
    };
  }

  private static ObjectNode tool(Tool tool) {
    ObjectNode node = ProtoJson.MAPPER.createObjectNode().put("type", "function");
    function(tool, node.putObject("function"));
    return node;
  }

  /** Puts a tool's name, description, parameters' schema and strictness into {@code function}, as both APIs do. */
  static ObjectNode function(Tool tool, ObjectNode function) {
    function.put("name", tool.getName());
    if (!tool.getDescription().isEmpty()) {
      function.put("description", tool.getDescription());
    }
    function.set("parameters", tool.hasParameters() ? ProtoJson.toJson(tool.getParameters())
        : ProtoJson.MAPPER.createObjectNode().put("type", "object"));
    if (tool.hasStrict()) {
      function.put("strict", tool.getStrict());
    }
    return function;
  }

  private static void toolChoice(ToolChoice choice, ObjectNode body) {
    switch (choice.getChoiceCase()) {
      case TOOL_NAME -> body.putObject("tool_choice").put("type", "function")
          .putObject("function").put("name", choice.getToolName());
      case MODE -> putMode(choice, body);
      default -> {
      }
    }
  }

  /** A tool choice mode as both APIs spell it: `auto`, `none` or `required`. */
  static void putMode(ToolChoice choice, ObjectNode body) {
    switch (choice.getMode()) {
      case TOOL_CHOICE_MODE_AUTO -> body.put("tool_choice", "auto");
      case TOOL_CHOICE_MODE_NONE -> body.put("tool_choice", "none");
      case TOOL_CHOICE_MODE_REQUIRED -> body.put("tool_choice", "required");
      default -> {
      }
    }
  }

  private static void responseFormat(ResponseFormat format, ObjectNode body) {
    switch (format.getType()) {
      case RESPONSE_FORMAT_TYPE_TEXT -> body.putObject("response_format").put("type", "text");
      case RESPONSE_FORMAT_TYPE_JSON_OBJECT -> body.putObject("response_format").put("type", "json_object");
      case RESPONSE_FORMAT_TYPE_JSON_SCHEMA ->
          jsonSchema(format, body.putObject("response_format").put("type", "json_schema").putObject("json_schema"));
      default -> {
      }
    }
  }

  /** Puts a JSON schema answer format's name, schema and strictness into {@code target}, as both APIs do. */
  static void jsonSchema(ResponseFormat format, ObjectNode target) {
    target.put("name", format.getSchemaName().isEmpty() ? "response" : format.getSchemaName());
    target.set("schema", ProtoJson.toJson(format.getSchema()));
    if (format.hasStrict()) {
      target.put("strict", format.getStrict());
    }
  }
}
