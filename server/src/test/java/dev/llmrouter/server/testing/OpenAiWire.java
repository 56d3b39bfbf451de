package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Test-side reading of OpenAI Chat Completions wire data, written independently of the adapter: what a recorded
 * response says the answer is (the oracle the router's output must equal), and the {@link ChatRequest} a caller
 * sends to make the adapter produce a recorded request body.
 */
public final class OpenAiWire implements ProviderWire {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String type() {
    return "openai";
  }

  /** The folder of each host's recordings, and the path under the mock upstream that stands for its base URL. */
  private static final Map<String, String> BASE_PATH_OF_FOLDER = new LinkedHashMap<>();

  static {
    BASE_PATH_OF_FOLDER.put("openai-chat", "/v1");
    BASE_PATH_OF_FOLDER.put("groq", "/openai/v1");
    BASE_PATH_OF_FOLDER.put("mistral", "/v1");
    BASE_PATH_OF_FOLDER.put("deepseek", "");
    BASE_PATH_OF_FOLDER.put("together", "/v1");
    BASE_PATH_OF_FOLDER.put("openrouter", "/api/v1");
  }

  @Override
  public List<String> folders() {
    return List.copyOf(BASE_PATH_OF_FOLDER.keySet());
  }

  @Override
  public boolean speaks(WireExchange exchange) {
    return exchange.path().endsWith("/chat/completions");
  }

  // One deployment per host of the corpus: OpenAI itself, and the OpenAI-compatible hosts, all of type openai.
  @Override
  public String providersYaml(String baseUrl) {
    StringBuilder yaml = new StringBuilder();
    BASE_PATH_OF_FOLDER.forEach((folder, path) -> yaml.append("  - { name: ").append(providerOf(folder))
        .append(", type: openai, base_url: \"").append(baseUrl).append(path)
        .append("\", api_key: \"${TEST_API_KEY}\" }\n"));
    return yaml.toString();
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return providerOf(exchange.folder());
  }

  private static String providerOf(String folder) {
    return folder.equals("openai-chat") ? "openai" : folder;
  }

  /** The hosts that know the output limit only as `max_tokens` (DeepSeek ignores, Mistral refuses, the newer name). */
  private static final Set<String> MAX_TOKENS_HOSTS = Set.of("mistral", "deepseek");

  @Override
  public ChatRequest requestFor(WireExchange exchange) {
    return requestFor(exchange.request(), providerFor(exchange));
  }

  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent, boolean streamed) {
    assertEquals(exchange.path(), sent.uri());
    assertEquals("Bearer " + RunningRouter.TEST_KEY, sent.headers().get("authorization"));
    JsonNode body = read(sent.body());
    // Mistral refuses `stream_options` (it sends the usage unasked).
    assertSentBody(exchange.request(), body, streamed, streamed && !exchange.folder().equals("mistral"),
        MAX_TOKENS_HOSTS.contains(exchange.folder()));
  }

  /**
   * Asserts a sent Chat Completions body equals the recorded one (see {@link #comparable}).
   *
   * @param asksForUsage whether the body must ask for the usage of a streamed answer
   * @param spellsMaxTokens whether the host's recordings spell the output limit `max_tokens` on purpose
   */
  static void assertSentBody(JsonNode recorded, JsonNode body, boolean streamed, boolean asksForUsage,
      boolean spellsMaxTokens) {
    assertEquals(streamed, body.path("stream").asBoolean());
    assertEquals(asksForUsage, body.path("stream_options").path("include_usage").asBoolean(false));
    assertEquals(read(comparable(recorded, spellsMaxTokens).toString()),
        read(comparable(body, spellsMaxTokens).toString()), "the adapter sends the recorded request");
  }

  @Override
  public Answer answerOf(WireExchange exchange) {
    String body = exchange.body().replace("\r\n", "\n").replace('\r', '\n');
    StringBuilder text = new StringBuilder();
    StringBuilder refusal = new StringBuilder();
    StringBuilder reasoning = new StringBuilder();
    TreeMap<Integer, ToolCall.Builder> calls = new TreeMap<>();
    Usage usage = null;
    String finish = "";
    String id = "";
    String model = "";
    if (isStream(exchange)) {
      for (String data : eventData(exchange)) {
        if (data.equals("[DONE]")) {
          continue;
        }
        JsonNode chunk = read(data);
        id = id.isEmpty() ? chunk.path("id").asText() : id;
        model = model.isEmpty() ? chunk.path("model").asText() : model;
        for (JsonNode choice : chunk.path("choices")) {
          JsonNode delta = choice.path("delta");
          text.append(delta.path("content").asText(""));
          refusal.append(delta.path("refusal").asText(""));
          reasoning.append(delta.path("reasoning_content").asText(delta.path("reasoning").asText("")));
          for (JsonNode call : delta.path("tool_calls")) {
            ToolCall.Builder b = calls.computeIfAbsent(call.path("index").asInt(), i -> ToolCall.newBuilder());
            if (call.hasNonNull("id")) {
              b.setId(call.get("id").asText());
            }
            b.setName(b.getName() + call.path("function").path("name").asText(""));
            b.setArgumentsJson(b.getArgumentsJson() + call.path("function").path("arguments").asText(""));
          }
          if (choice.hasNonNull("finish_reason")) {
            finish = choice.get("finish_reason").asText();
          }
        }
        if (chunk.path("usage").isObject()) {
          usage = usageOf(chunk.path("usage"));
        } else if (chunk.path("x_groq").path("usage").isObject()) {
          usage = usageOf(chunk.path("x_groq").path("usage"));
        }
      }
    } else {
      JsonNode whole = read(body);
      id = whole.path("id").asText();
      model = whole.path("model").asText();
      JsonNode message = whole.path("choices").path(0).path("message");
      text.append(message.path("content").asText(""));
      refusal.append(message.path("refusal").asText(""));
      reasoning.append(message.path("reasoning_content").asText(message.path("reasoning").asText("")));
      int i = 0;
      for (JsonNode call : message.path("tool_calls")) {
        calls.put(i++, ToolCall.newBuilder().setId(call.path("id").asText())
            .setName(call.path("function").path("name").asText())
            .setArgumentsJson(call.path("function").path("arguments").asText()));
      }
      finish = whole.path("choices").path(0).path("finish_reason").asText();
      if (whole.path("usage").isObject()) {
        usage = usageOf(whole.path("usage"));
      }
    }
    return new Answer(text.toString(), refusal.toString(), reasoning.toString(), "",
        calls.values().stream().map(ToolCall.Builder::build).toList(), usage,
        switch (finish) {
          case "stop", "eos" -> FinishReason.FINISH_REASON_STOP;
          case "length" -> FinishReason.FINISH_REASON_LENGTH;
          case "tool_calls" -> FinishReason.FINISH_REASON_TOOL_CALLS;
          case "content_filter" -> FinishReason.FINISH_REASON_CONTENT_FILTER;
          default -> FinishReason.FINISH_REASON_UNSPECIFIED;
        }, id, model);
  }

  @Override
  public int statusOf(WireExchange exchange) {
    JsonNode error = streamError(exchange);
    if (error == null) {
      return exchange.status();
    }
    return Stream.of(error.path("status_code"), error.path("code")).filter(JsonNode::isInt).mapToInt(JsonNode::asInt)
        .findFirst().orElse(500);
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    JsonNode error = streamError(exchange);
    return error == null ? read(exchange.body()).path("error").path("message").asText()
        : error.path("message").asText();
  }

  static boolean isStream(WireExchange exchange) {
    return exchange.headers().getOrDefault("content-type", "").startsWith("text/event-stream");
  }

  /** The data of each server-sent event, its `data:` lines joined. */
  static List<String> eventData(WireExchange exchange) {
    List<String> events = new ArrayList<>();
    for (String event : exchange.body().replace("\r\n", "\n").replace('\r', '\n').split("\n\n")) {
      StringBuilder data = new StringBuilder();
      for (String line : event.split("\n")) {
        if (line.startsWith("data:")) {
          data.append(data.length() > 0 ? "\n" : "").append(line.substring(5).stripLeading());
        }
      }
      if (data.length() > 0) {
        events.add(data.toString());
      }
    }
    return events;
  }

  /**
   * The `error` object a host reported inside a 200 stream (Groq as an error event, OpenRouter in a chunk beside
   * `choices`), or null.
   */
  private static JsonNode streamError(WireExchange exchange) {
    if (exchange.status() != 200 || !isStream(exchange)) {
      return null;
    }
    return eventData(exchange).stream().filter(data -> !data.equals("[DONE]")).map(OpenAiWire::read)
        .filter(chunk -> chunk.hasNonNull("error")).map(chunk -> chunk.get("error")).findFirst().orElse(null);
  }

  private static Usage usageOf(JsonNode usage) {
    Usage.Builder u = Usage.newBuilder().setInputTokens(usage.path("prompt_tokens").asLong())
        .setOutputTokens(usage.path("completion_tokens").asLong());
    // Where OpenAI, DeepSeek and Together report the tokens read from cache.
    for (JsonNode cached : List.of(usage.path("prompt_tokens_details").path("cached_tokens"),
        usage.path("prompt_cache_hit_tokens"), usage.path("cached_tokens"))) {
      if (cached.isNumber()) {
        u.setCachedInputTokens(cached.asLong());
        break;
      }
    }
    if (usage.path("completion_tokens_details").has("reasoning_tokens")) {
      u.setReasoningTokens(usage.path("completion_tokens_details").path("reasoning_tokens").asLong());
    }
    return u.build();
  }

  /** The fields the router maps from a {@link ChatRequest}; the others a caller sends as provider options. */
  private static final Set<String> MAPPED_FIELDS = Set.of("model", "messages", "stream", "stream_options", "n",
      "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed", "random_seed",
      "presence_penalty", "frequency_penalty", "reasoning_effort", "tools", "tool_choice", "parallel_tool_calls",
      "response_format");

  /** The request a caller sends (through provider {@code provider}) to make the adapter send {@code body}. */
  private static ChatRequest requestFor(JsonNode body, String provider) {
    return requestFor(body, provider, body.path("model").asText());
  }

  /** The same, naming the upstream model apart (Azure's is its deployment, in the URL). */
  static ChatRequest requestFor(JsonNode body, String provider, String upstreamModel) {
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel(provider + "/" + upstreamModel);
    for (JsonNode m : body.path("messages")) {
      Message.Builder message = Message.newBuilder().setRole(switch (m.path("role").asText()) {
        case "system", "developer" -> Role.ROLE_SYSTEM;
        case "assistant" -> Role.ROLE_ASSISTANT;
        case "tool" -> Role.ROLE_TOOL;
        default -> Role.ROLE_USER;
      });
      JsonNode content = m.path("content");
      if (content.isTextual()) {
        message.addParts(Part.newBuilder().setText(content.asText()));
      }
      for (JsonNode part : content.isArray() ? content : JSON.createArrayNode()) {
        if (part.path("type").asText().equals("text")) {
          message.addParts(Part.newBuilder().setText(part.path("text").asText()));
        } else if (part.path("type").asText().equals("image_url")) {
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
      if (f.has("strict")) {
        tool.setStrict(f.path("strict").asBoolean());
      }
      request.addTools(tool);
    }
    JsonNode choice = body.path("tool_choice");
    if (choice.isTextual()) {
      request.setToolChoice(ToolChoice.newBuilder().setMode(
          ToolChoiceMode.valueOf("TOOL_CHOICE_MODE_" + choice.asText().toUpperCase(Locale.ROOT))));
    } else if (choice.isObject()) {
      request.setToolChoice(ToolChoice.newBuilder().setToolName(choice.path("function").path("name").asText()));
    }
    if (body.has("parallel_tool_calls")) {
      request.setParallelToolCalls(body.path("parallel_tool_calls").asBoolean());
    }
    JsonNode format = body.path("response_format");
    if (format.isObject()) {
      ResponseFormat.Builder f = ResponseFormat.newBuilder();
      switch (format.path("type").asText()) {
        case "json_object" -> f.setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_OBJECT);
        case "json_schema" -> {
          JsonNode schema = format.path("json_schema");
          f.setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA).setSchemaName(schema.path("name").asText())
              .setSchema(ProtoJson.toStruct(schema.path("schema")));
          if (schema.has("strict")) {
            f.setStrict(schema.path("strict").asBoolean());
          }
        }
        default -> f.setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_TEXT);
      }
      request.setResponseFormat(f);
    }
    GenerationSettings.Builder s = GenerationSettings.newBuilder();
    if (body.hasNonNull("temperature")) {
      s.setTemperature(body.path("temperature").asDouble());
    }
    if (body.hasNonNull("top_p")) {
      s.setTopP(body.path("top_p").asDouble());
    }
    if (body.hasNonNull("max_completion_tokens") || body.hasNonNull("max_tokens")) {
      s.setMaxOutputTokens(body.path("max_completion_tokens").asInt(body.path("max_tokens").asInt()));
    }
    body.path("stop").forEach(stop -> s.addStopSequences(stop.asText()));
    if (body.hasNonNull("seed") || body.hasNonNull("random_seed")) {
      s.setSeed(body.path("seed").asLong(body.path("random_seed").asLong()));
    }
    if (body.hasNonNull("presence_penalty")) {
      s.setPresencePenalty(body.path("presence_penalty").asDouble());
    }
    if (body.hasNonNull("frequency_penalty")) {
      s.setFrequencyPenalty(body.path("frequency_penalty").asDouble());
    }
    ObjectNode providerOptions = JSON.createObjectNode();
    body.fields().forEachRemaining(field -> {
      if (!MAPPED_FIELDS.contains(field.getKey()) && !field.getValue().isNull()) {
        providerOptions.set(field.getKey(), field.getValue());
      }
    });
    if (!providerOptions.isEmpty()) {
      s.setProviderOptions(ProtoJson.toStruct(providerOptions));
    }
    if (body.hasNonNull("reasoning_effort")) {
      s.setReasoningEffort(ReasoningEffort.valueOf("REASONING_EFFORT_"
          + body.path("reasoning_effort").asText().toUpperCase(Locale.ROOT)));
    }
    request.setSettings(s);
    return request.build();
  }

  /**
   * A request body reduced to what must match between a recorded request and the adapter's: without the stream
   * flags (they follow the RPC), `n` (the router never asks for several choices), empty tool descriptions and
   * null fields (Together's client sends every unset one as null; `content: null` beside tool calls), and, unless the
   * host {@code spellsMaxTokens}, with `max_tokens` spelt `max_completion_tokens`: OpenAI deprecated the first for
   * the second, which means the same and is the only one reasoning models accept.
   */
  private static ObjectNode comparable(JsonNode body, boolean spellsMaxTokens) {
    ObjectNode copy = body.deepCopy();
    copy.remove(List.of("stream", "stream_options", "n"));
    withoutNulls(copy);
    if (!spellsMaxTokens && copy.has("max_tokens") && !copy.has("max_completion_tokens")) {
      copy.set("max_completion_tokens", copy.remove("max_tokens"));
    }
    copy.path("messages").forEach(m -> withoutNulls((ObjectNode) m));
    for (JsonNode t : copy.path("tools")) {
      if (t.path("function").path("description").asText("x").isEmpty()) {
        ((ObjectNode) t.path("function")).remove("description");
      }
    }
    return copy;
  }

  private static void withoutNulls(ObjectNode node) {
    List<String> nulls = new ArrayList<>();
    node.fields().forEachRemaining(field -> {
      if (field.getValue().isNull()) {
        nulls.add(field.getKey());
      }
    });
    node.remove(nulls);
  }

  public static JsonNode read(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
