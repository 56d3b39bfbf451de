package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Document;
import dev.llmrouter.api.v1.FinishReason;
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
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.ProtoJson;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Test-side reading of Anthropic Messages wire data, written independently of the adapter: what a recorded response
 * says the answer is, and the {@link ChatRequest} a caller sends to make the adapter produce a recorded request body.
 */
public final class AnthropicWire implements ProviderWire {

  /** The thinking budget the router documents for each reasoning effort. */
  private static final Map<Integer, ReasoningEffort> EFFORT_OF_BUDGET = Map.of(
      1024, ReasoningEffort.REASONING_EFFORT_MINIMAL, 4096, ReasoningEffort.REASONING_EFFORT_LOW,
      8192, ReasoningEffort.REASONING_EFFORT_MEDIUM, 16384, ReasoningEffort.REASONING_EFFORT_HIGH);

  /** The request fields the router's API names; any other one reaches the adapter through provider options. */
  private static final Set<String> NAMED_FIELDS = Set.of("model", "max_tokens", "system", "messages", "stream",
      "thinking", "temperature", "top_p", "stop_sequences", "tools", "tool_choice", "output_config");

  /** The HTTP status Anthropic documents for each error type. */
  private static final Map<String, Integer> STATUS_OF_ERROR_TYPE = Map.of("invalid_request_error", 400,
      "authentication_error", 401, "permission_error", 403, "not_found_error", 404, "rate_limit_error", 429,
      "api_error", 500, "overloaded_error", 529);

  @Override
  public String type() {
    return "anthropic";
  }

  @Override
  public List<String> folders() {
    return List.of("anthropic");
  }

  @Override
  public boolean speaks(WireExchange exchange) {
    return exchange.path().equals("/v1/messages");
  }

  @Override
  public String providersYaml(String baseUrl) {
    return """
          - { name: anthropic, type: anthropic, base_url: "%s", api_key: "${TEST_API_KEY}" }
        """.formatted(baseUrl);
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return "anthropic";
  }

  @Override
  public int statusOf(WireExchange exchange) {
    JsonNode error = streamError(exchange);
    return error == null ? exchange.status()
        : STATUS_OF_ERROR_TYPE.getOrDefault(error.path("error").path("type").asText(), 500);
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    JsonNode error = streamError(exchange);
    return (error == null ? OpenAiWire.read(exchange.body()) : error).path("error").path("message").asText();
  }

  @Override
  public Answer answerOf(WireExchange exchange) {
    StringBuilder text = new StringBuilder();
    StringBuilder reasoning = new StringBuilder();
    StringBuilder signature = new StringBuilder();
    List<ToolCall.Builder> calls = new ArrayList<>();
    JsonNode message;
    JsonNode usage;
    String stopReason;
    if (isStream(exchange)) {
      // A streamed tool call's arguments are its `input_json_delta` fragments as sent, by content-block index.
      TreeMap<Integer, ToolCall.Builder> callOfBlock = new TreeMap<>();
      message = null;
      ObjectNode lastUsage = OpenAiWire.read("{}").deepCopy();
      stopReason = "";
      for (JsonNode event : events(exchange)) {
        switch (event.path("type").asText()) {
          case "message_start" -> {
            message = event.path("message");
            lastUsage.setAll((ObjectNode) message.path("usage"));
          }
          case "content_block_start" -> {
            JsonNode block = event.path("content_block");
            switch (block.path("type").asText()) {
              case "tool_use" -> {
                ToolCall.Builder call = ToolCall.newBuilder().setId(block.path("id").asText())
                    .setName(block.path("name").asText());
                calls.add(call);
                callOfBlock.put(event.path("index").asInt(), call);
              }
              case "redacted_thinking" -> signature.append(block.path("data").asText());
              default -> {
                text.append(block.path("text").asText(""));
                reasoning.append(block.path("thinking").asText(""));
              }
            }
          }
          case "content_block_delta" -> {
            JsonNode delta = event.path("delta");
            text.append(delta.path("text").asText(""));
            reasoning.append(delta.path("thinking").asText(""));
            signature.append(delta.path("signature").asText(""));
            ToolCall.Builder call = callOfBlock.get(event.path("index").asInt());
            if (call != null) {
              call.setArgumentsJson(call.getArgumentsJson() + delta.path("partial_json").asText(""));
            }
          }
          case "message_delta" -> {
            stopReason = event.path("delta").path("stop_reason").asText(stopReason);
            lastUsage.setAll((ObjectNode) event.path("usage"));
          }
          default -> {
          }
        }
      }
      calls.stream().filter(c -> c.getArgumentsJson().isEmpty()).forEach(c -> c.setArgumentsJson("{}"));
      usage = lastUsage;
    } else {
      message = OpenAiWire.read(exchange.body());
      for (JsonNode block : message.path("content")) {
        switch (block.path("type").asText()) {
          case "text" -> text.append(block.path("text").asText());
          case "thinking" -> {
            reasoning.append(block.path("thinking").asText());
            signature.append(block.path("signature").asText());
          }
          case "redacted_thinking" -> signature.append(block.path("data").asText());
          case "tool_use" -> calls.add(ToolCall.newBuilder().setId(block.path("id").asText())
              .setName(block.path("name").asText()).setArgumentsJson(block.path("input").toString()));
          default -> {
          }
        }
      }
      usage = message.path("usage");
      stopReason = message.path("stop_reason").asText();
    }
    return new Answer(text.toString(), "", reasoning.toString(), signature.toString(),
        calls.stream().map(ToolCall.Builder::build).toList(), usageOf(usage),
        switch (stopReason) {
          case "end_turn", "stop_sequence" -> FinishReason.FINISH_REASON_STOP;
          case "max_tokens" -> FinishReason.FINISH_REASON_LENGTH;
          case "tool_use" -> FinishReason.FINISH_REASON_TOOL_CALLS;
          case "refusal" -> FinishReason.FINISH_REASON_CONTENT_FILTER;
          default -> FinishReason.FINISH_REASON_UNSPECIFIED;
        }, message.path("id").asText(), message.path("model").asText());
  }

  // Input counts every prompt token: uncached, written to the cache, and read from it (the part that is cached).
  private static Usage usageOf(JsonNode usage) {
    Usage.Builder u = Usage.newBuilder()
        .setInputTokens(usage.path("input_tokens").asLong() + usage.path("cache_creation_input_tokens").asLong()
            + usage.path("cache_read_input_tokens").asLong())
        .setOutputTokens(usage.path("output_tokens").asLong());
    if (usage.path("cache_read_input_tokens").isNumber()) {
      u.setCachedInputTokens(usage.path("cache_read_input_tokens").asLong());
    }
    return u.build();
  }

  private static boolean isStream(WireExchange exchange) {
    return exchange.headers().getOrDefault("content-type", "").startsWith("text/event-stream");
  }

  /** The JSON data of each server-sent event (every Anthropic event repeats its name as the data's `type`). */
  private static List<JsonNode> events(WireExchange exchange) {
    List<JsonNode> events = new ArrayList<>();
    for (String event : exchange.body().replace("\r\n", "\n").split("\n\n")) {
      for (String line : event.split("\n")) {
        if (line.startsWith("data:")) {
          events.add(OpenAiWire.read(line.substring(5)));
        }
      }
    }
    return events;
  }

  /**
   * Whether the router can send a recorded request: one was recorded, and it has the Messages shape (a recording of
   * the provider refusing a malformed body, such as a message that is a bare string, has none). For the others any
   * sensible request serves, since what they test is how the provider's answer reaches the caller.
   */
  private static boolean routerCanSend(JsonNode body) {
    if (body == null || !body.isObject()) {
      return false;
    }
    for (JsonNode message : body.path("messages")) {
      if (!message.isObject()) {
        return false;
      }
    }
    return true;
  }

  private static JsonNode streamError(WireExchange exchange) {
    if (exchange.status() != 200 || !isStream(exchange)) {
      return null;
    }
    return events(exchange).stream().filter(e -> e.path("type").asText().equals("error")).findFirst().orElse(null);
  }

  @Override
  public ChatRequest requestFor(WireExchange exchange) {
    JsonNode body = exchange.request();
    if (!routerCanSend(body)) {
      return ChatRequest.newBuilder().setModel("anthropic/claude-sonnet-4-6").addMessages(Message.newBuilder()
          .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hi"))).build();
    }
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel("anthropic/" + body.path("model").asText());
    JsonNode system = body.path("system");
    if (system.isTextual()) {
      request.addMessages(Message.newBuilder().setRole(Role.ROLE_SYSTEM)
          .addParts(Part.newBuilder().setText(system.asText())));
    } else if (system.isArray()) {
      Message.Builder message = Message.newBuilder().setRole(Role.ROLE_SYSTEM);
      system.forEach(block -> message.addParts(partOf(block)));
      request.addMessages(message);
    }
    for (JsonNode m : body.path("messages")) {
      messagesOf(m).forEach(request::addMessages);
    }
    for (JsonNode t : body.path("tools")) {
      Tool.Builder tool = Tool.newBuilder().setName(t.path("name").asText())
          .setDescription(t.path("description").asText("")).setParameters(ProtoJson.toStruct(t.path("input_schema")));
      if (t.has("strict")) {
        tool.setStrict(t.path("strict").asBoolean());
      }
      request.addTools(tool);
    }
    JsonNode choice = body.path("tool_choice");
    switch (choice.path("type").asText()) {
      case "auto" -> request.setToolChoice(ToolChoice.newBuilder().setMode(ToolChoiceMode.TOOL_CHOICE_MODE_AUTO));
      case "any" -> request.setToolChoice(ToolChoice.newBuilder().setMode(ToolChoiceMode.TOOL_CHOICE_MODE_REQUIRED));
      case "none" -> request.setToolChoice(ToolChoice.newBuilder().setMode(ToolChoiceMode.TOOL_CHOICE_MODE_NONE));
      case "tool" -> request.setToolChoice(ToolChoice.newBuilder().setToolName(choice.path("name").asText()));
      default -> {
      }
    }
    if (choice.path("disable_parallel_tool_use").asBoolean(false)) {
      request.setParallelToolCalls(false);
    }
    ObjectNode providerOptions = OpenAiWire.read("{}").deepCopy();
    body.fields().forEachRemaining(f -> {
      if (!NAMED_FIELDS.contains(f.getKey())) {
        providerOptions.set(f.getKey(), f.getValue());
      }
    });
    JsonNode outputConfig = body.path("output_config");
    JsonNode format = outputConfig.path("format");
    if (outputConfig.size() == 1 && format.path("type").asText().equals("json_schema")) {
      request.setResponseFormat(ResponseFormat.newBuilder().setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA)
          .setSchema(ProtoJson.toStruct(format.path("schema"))));
    } else if (outputConfig.isObject()) {
      providerOptions.set("output_config", outputConfig);
    }
    GenerationSettings.Builder s = GenerationSettings.newBuilder();
    int maxTokens = body.path("max_tokens").asInt();
    JsonNode thinking = body.path("thinking");
    ReasoningEffort effort = EFFORT_OF_BUDGET.get(thinking.path("budget_tokens").asInt());
    if (thinking.path("type").asText().equals("enabled") && effort != null) {
      // The router adds the thinking budget to the answer's own limit.
      s.setReasoningEffort(effort).setMaxOutputTokens(maxTokens - thinking.path("budget_tokens").asInt());
    } else {
      s.setMaxOutputTokens(maxTokens);
      if (thinking.isObject()) {
        providerOptions.set("thinking", thinking);
      }
    }
    if (body.has("temperature")) {
      s.setTemperature(body.path("temperature").asDouble());
    }
    if (body.has("top_p")) {
      s.setTopP(body.path("top_p").asDouble());
    }
    body.path("stop_sequences").forEach(stop -> s.addStopSequences(stop.asText()));
    if (!providerOptions.isEmpty()) {
      s.setProviderOptions(ProtoJson.toStruct(providerOptions));
    }
    return request.setSettings(s).build();
  }

  /**
   * The router messages of one Anthropic message: a user message of `tool_result` blocks is one tool message per
   * result (a user message mixing results and other content is not something the router sends).
   */
  private static List<Message> messagesOf(JsonNode m) {
    JsonNode content = m.path("content");
    Role role = m.path("role").asText().equals("assistant") ? Role.ROLE_ASSISTANT : Role.ROLE_USER;
    if (content.isTextual()) {
      return List.of(Message.newBuilder().setRole(role).addParts(Part.newBuilder().setText(content.asText())).build());
    }
    List<Message> messages = new ArrayList<>();
    Message.Builder message = Message.newBuilder().setRole(role);
    for (JsonNode block : content) {
      switch (block.path("type").asText()) {
        case "tool_use" -> message.addToolCalls(ToolCall.newBuilder().setId(block.path("id").asText())
            .setName(block.path("name").asText()).setArgumentsJson(block.path("input").toString()));
        case "tool_result" -> {
          Message.Builder result = Message.newBuilder().setRole(Role.ROLE_TOOL)
              .setToolCallId(block.path("tool_use_id").asText());
          JsonNode resultContent = block.path("content");
          if (resultContent.isTextual()) {
            result.addParts(Part.newBuilder().setText(resultContent.asText()));
          }
          resultContent.forEach(b -> result.addParts(partOf(b)));
          messages.add(result.build());
        }
        default -> message.addParts(partOf(block));
      }
    }
    if (message.getPartsCount() > 0 || message.getToolCallsCount() > 0) {
      messages.add(message.build());
    }
    return messages;
  }

  private static Part partOf(JsonNode block) {
    Part.Builder part = Part.newBuilder().setCacheBreakpoint(block.has("cache_control"));
    JsonNode source = block.path("source");
    switch (block.path("type").asText()) {
      case "image" -> part.setImage(source.path("type").asText().equals("url")
          ? Image.newBuilder().setUrl(source.path("url").asText())
          : Image.newBuilder().setMimeType(source.path("media_type").asText())
              .setData(ByteString.copyFrom(Base64.getDecoder().decode(source.path("data").asText()))));
      case "document" -> part.setDocument(Document.newBuilder().setMimeType(source.path("media_type").asText())
          .setTitle(block.path("title").asText(""))
          .setData(source.path("type").asText().equals("text")
              ? ByteString.copyFrom(source.path("data").asText(), StandardCharsets.UTF_8)
              : ByteString.copyFrom(Base64.getDecoder().decode(source.path("data").asText()))));
      case "thinking" -> part.setReasoning(Reasoning.newBuilder().setText(block.path("thinking").asText())
          .setSignature(block.path("signature").asText()).setProvider("anthropic"));
      case "redacted_thinking" -> part.setReasoning(Reasoning.newBuilder().setSignature(block.path("data").asText())
          .setRedacted(true).setProvider("anthropic"));
      default -> part.setText(block.path("text").asText());
    }
    return part.build();
  }

  /**
   * The sent body must equal the recorded one except for `stream`, which follows the RPC (a recording made with
   * either flag serves both) and is checked on its own. Both sides are compared as parsed JSON, so key order and
   * spacing (re-serialised by some corpus sources) do not matter.
   */
  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent, boolean streamed) {
    assertEquals("/v1/messages", sent.uri());
    assertEquals(RunningRouter.TEST_KEY, sent.headers().get("x-api-key"));
    assertEquals("2023-06-01", sent.headers().get("anthropic-version"));
    ObjectNode body = (ObjectNode) OpenAiWire.read(sent.body());
    assertEquals(streamed, body.path("stream").asBoolean());
    if (routerCanSend(exchange.request())) {
      ObjectNode recorded = exchange.request().deepCopy();
      recorded.remove("stream");
      body.remove("stream");
      assertEquals(OpenAiWire.read(recorded.toString()), OpenAiWire.read(body.toString()),
          "the adapter sends the recorded request");
    }
  }
}
