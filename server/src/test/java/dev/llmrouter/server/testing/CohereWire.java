package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.FinishReason;
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
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.ProtoJson;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Test-side reading of Cohere Chat v2 wire data (`POST /v2/chat`), written independently of the adapter: what a
 * recorded answer says (text, the tool plan and thinking as reasoning, tool calls, usage as counted in `tokens`), and
 * the {@link ChatRequest} that makes the adapter send a recorded request.
 */
public final class CohereWire implements ProviderWire {

  /** The request fields the router maps from a {@link ChatRequest}; the others a caller sends as provider options. */
  private static final Set<String> MAPPED_FIELDS = Set.of("model", "messages", "stream", "temperature", "p",
      "max_tokens", "stop_sequences", "seed", "presence_penalty", "frequency_penalty", "tools", "strict_tools",
      "tool_choice", "response_format");

  @Override
  public String type() {
    return "cohere";
  }

  @Override
  public List<String> folders() {
    return List.of("cohere");
  }

  @Override
  public boolean speaks(WireExchange exchange) {
    return exchange.path().equals("/v2/chat");
  }

  @Override
  public String providersYaml(String baseUrl) {
    return "  - { name: cohere, type: cohere, base_url: \"" + baseUrl + "\", api_key: \"${TEST_API_KEY}\" }\n";
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return "cohere";
  }

  @Override
  public Answer answerOf(WireExchange exchange) {
    StringBuilder text = new StringBuilder();
    StringBuilder reasoning = new StringBuilder();
    TreeMap<Integer, ToolCall.Builder> calls = new TreeMap<>();
    Usage usage = null;
    String finish = "";
    String id = "";
    if (OpenAiWire.isStream(exchange)) {
      for (String data : OpenAiWire.eventData(exchange)) {
        if (data.equals("[DONE]")) {
          continue;
        }
        JsonNode event = OpenAiWire.read(data);
        JsonNode message = event.path("delta").path("message");
        switch (event.path("type").asText()) {
          case "message-start" -> id = event.path("id").asText();
          case "content-start", "content-delta" -> {
            text.append(message.path("content").path("text").asText(""));
            reasoning.append(message.path("content").path("thinking").asText(""));
          }
          case "tool-plan-delta" -> reasoning.append(message.path("tool_plan").asText(""));
          case "tool-call-start", "tool-call-delta" -> {
            JsonNode call = message.path("tool_calls");
            ToolCall.Builder b = calls.computeIfAbsent(event.path("index").asInt(), i -> ToolCall.newBuilder());
            if (call.hasNonNull("id")) {
              b.setId(call.get("id").asText());
            }
            b.setName(b.getName() + call.path("function").path("name").asText(""));
            b.setArgumentsJson(b.getArgumentsJson() + call.path("function").path("arguments").asText(""));
          }
          case "message-end" -> {
            finish = event.path("delta").path("finish_reason").asText();
            usage = usageOf(event.path("delta").path("usage"));
          }
          default -> {
          }
        }
      }
    } else {
      JsonNode whole = OpenAiWire.read(exchange.body());
      id = whole.path("id").asText();
      JsonNode message = whole.path("message");
      reasoning.append(message.path("tool_plan").asText(""));
      for (JsonNode content : message.path("content")) {
        text.append(content.path("text").asText(""));
        reasoning.append(content.path("thinking").asText(""));
      }
      int i = 0;
      for (JsonNode call : message.path("tool_calls")) {
        calls.put(i++, ToolCall.newBuilder().setId(call.path("id").asText())
            .setName(call.path("function").path("name").asText())
            .setArgumentsJson(call.path("function").path("arguments").asText()));
      }
      finish = whole.path("finish_reason").asText();
      usage = usageOf(whole.path("usage"));
    }
    return new Answer(text.toString(), "", reasoning.toString(), "",
        calls.values().stream().map(ToolCall.Builder::build).toList(), usage,
        switch (finish) {
          case "COMPLETE", "STOP_SEQUENCE" -> FinishReason.FINISH_REASON_STOP;
          case "MAX_TOKENS" -> FinishReason.FINISH_REASON_LENGTH;
          case "TOOL_CALL" -> FinishReason.FINISH_REASON_TOOL_CALLS;
          default -> FinishReason.FINISH_REASON_UNSPECIFIED;
        }, id, exchange.request().path("model").asText());
  }

  /** A stream whose `message-end` says ERROR failed upstream (500) after its HTTP 200, TIMEOUT timed out (504). */
  @Override
  public int statusOf(WireExchange exchange) {
    JsonNode end = failedEnd(exchange);
    return end == null ? exchange.status() : end.path("finish_reason").asText().equals("TIMEOUT") ? 504 : 500;
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    JsonNode end = failedEnd(exchange);
    return end == null ? OpenAiWire.read(exchange.body()).path("message").asText() : end.path("error").asText();
  }

  /** The `delta` of a stream's `message-end` that reports a failure, or null. */
  private static JsonNode failedEnd(WireExchange exchange) {
    if (exchange.status() != 200 || !OpenAiWire.isStream(exchange)) {
      return null;
    }
    return OpenAiWire.eventData(exchange).stream().filter(data -> !data.equals("[DONE]")).map(OpenAiWire::read)
        .filter(event -> event.path("type").asText().equals("message-end")).map(event -> event.path("delta"))
        .filter(delta -> Set.of("ERROR", "TIMEOUT").contains(delta.path("finish_reason").asText()))
        .findFirst().orElse(null);
  }

  @Override
  public ChatRequest requestFor(WireExchange exchange) {
    JsonNode body = exchange.request();
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel("cohere/" + body.path("model").asText());
    for (JsonNode m : body.path("messages")) {
      Message.Builder message = Message.newBuilder().setRole(switch (m.path("role").asText()) {
        case "system" -> Role.ROLE_SYSTEM;
        case "assistant" -> Role.ROLE_ASSISTANT;
        case "tool" -> Role.ROLE_TOOL;
        default -> Role.ROLE_USER;
      });
      if (m.hasNonNull("tool_plan")) {
        message.addParts(Part.newBuilder().setReasoning(Reasoning.newBuilder().setText(m.get("tool_plan").asText())));
      }
      JsonNode content = m.path("content");
      if (content.isTextual()) {
        message.addParts(Part.newBuilder().setText(content.asText()));
      }
      for (JsonNode part : content.isArray() ? content : List.<JsonNode>of()) {
        switch (part.path("type").asText()) {
          case "text" -> message.addParts(Part.newBuilder().setText(part.path("text").asText()));
          case "thinking" -> message.addParts(Part.newBuilder()
              .setReasoning(Reasoning.newBuilder().setText(part.path("thinking").asText())));
          case "image_url" -> {
            String url = part.path("image_url").path("url").asText();
            Image.Builder image = Image.newBuilder();
            if (url.startsWith("data:")) {
              image.setMimeType(url.substring(5, url.indexOf(';')))
                  .setData(ByteString.copyFrom(Base64.getDecoder().decode(url.substring(url.indexOf(',') + 1))));
            } else {
              image.setUrl(url);
            }
            message.addParts(Part.newBuilder().setImage(image));
          }
          default -> {
          }
        }
      }
      for (JsonNode call : m.path("tool_calls")) {
        message.addToolCalls(ToolCall.newBuilder().setId(call.path("id").asText())
            .setName(call.path("function").path("name").asText())
            .setArgumentsJson(call.path("function").path("arguments").asText()));
      }
      message.setToolCallId(m.path("tool_call_id").asText(""));
      request.addMessages(message);
    }
    for (JsonNode t : body.path("tools")) {
      JsonNode f = t.path("function");
      Tool.Builder tool = Tool.newBuilder().setName(f.path("name").asText())
          .setDescription(f.path("description").asText("")).setParameters(ProtoJson.toStruct(f.path("parameters")));
      if (body.path("strict_tools").asBoolean(false)) {
        tool.setStrict(true);
      }
      request.addTools(tool);
    }
    switch (body.path("tool_choice").asText("")) {
      case "REQUIRED" -> request.setToolChoice(ToolChoice.newBuilder().setMode(ToolChoiceMode.TOOL_CHOICE_MODE_REQUIRED));
      case "NONE" -> request.setToolChoice(ToolChoice.newBuilder().setMode(ToolChoiceMode.TOOL_CHOICE_MODE_NONE));
      default -> {
      }
    }
    JsonNode format = body.path("response_format");
    if (format.isObject()) {
      ResponseFormat.Builder f = ResponseFormat.newBuilder();
      if (format.has("json_schema")) {
        f.setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA)
            .setSchema(ProtoJson.toStruct(format.path("json_schema")));
      } else {
        f.setType(format.path("type").asText().equals("json_object")
            ? ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_OBJECT : ResponseFormatType.RESPONSE_FORMAT_TYPE_TEXT);
      }
      request.setResponseFormat(f);
    }
    GenerationSettings.Builder s = GenerationSettings.newBuilder();
    if (body.hasNonNull("temperature")) {
      s.setTemperature(body.path("temperature").asDouble());
    }
    if (body.hasNonNull("p")) {
      s.setTopP(body.path("p").asDouble());
    }
    if (body.hasNonNull("max_tokens")) {
      s.setMaxOutputTokens(body.path("max_tokens").asInt());
    }
    body.path("stop_sequences").forEach(stop -> s.addStopSequences(stop.asText()));
    if (body.hasNonNull("seed")) {
      s.setSeed(body.path("seed").asLong());
    }
    if (body.hasNonNull("presence_penalty")) {
      s.setPresencePenalty(body.path("presence_penalty").asDouble());
    }
    if (body.hasNonNull("frequency_penalty")) {
      s.setFrequencyPenalty(body.path("frequency_penalty").asDouble());
    }
    ObjectNode providerOptions = ProtoJson.MAPPER.createObjectNode();
    body.fields().forEachRemaining(field -> {
      if (!MAPPED_FIELDS.contains(field.getKey())) {
        providerOptions.set(field.getKey(), field.getValue());
      }
    });
    if (!providerOptions.isEmpty()) {
      s.setProviderOptions(ProtoJson.toStruct(providerOptions));
    }
    return request.setSettings(s).build();
  }

  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent, boolean streamed) {
    assertEquals(exchange.path(), sent.uri());
    assertEquals("Bearer " + RunningRouter.TEST_KEY, sent.headers().get("authorization"));
    JsonNode body = OpenAiWire.read(sent.body());
    assertEquals(streamed, body.path("stream").asBoolean());
    ObjectNode recorded = exchange.request().deepCopy();
    recorded.remove("stream");
    ObjectNode actual = body.deepCopy();
    actual.remove("stream");
    assertEquals(OpenAiWire.read(recorded.toString()), OpenAiWire.read(actual.toString()),
        "the adapter sends the recorded request");
  }

  private static Usage usageOf(JsonNode usage) {
    JsonNode counted = usage.path("tokens").isObject() ? usage.path("tokens") : usage.path("billed_units");
    if (!counted.isObject()) {
      return null;
    }
    Usage.Builder u = Usage.newBuilder().setInputTokens(counted.path("input_tokens").asLong())
        .setOutputTokens(counted.path("output_tokens").asLong());
    if (usage.has("cached_tokens")) {
      u.setCachedInputTokens(usage.path("cached_tokens").asLong());
    }
    return u.build();
  }
}
