package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Test-side reading of OpenAI Responses wire data (`POST /responses`), written independently of the adapter: what a
 * recorded answer says (read from its final Response object: the whole body, or the `response` of the stream's last
 * event), and the {@link ChatRequest} that makes the adapter send a recorded request. Recordings come from OpenAI,
 * from Azure OpenAI's v1 API (`/openai/v1/responses`) and, with a built-in web search tool sent as a provider option,
 * from the web search corpus.
 *
 * <p>The router always calls statelessly: a recorded request that did not say so is compared as if it had asked for
 * `store: false` and, from a reasoning model, `include: ["reasoning.encrypted_content"]`. Reasoning items go back
 * with their encrypted content only (no id, an empty summary), and an empty assistant message is not sent.
 */
public final class OpenAiResponsesWire implements ProviderWire {

  /** The credential the test deployments are configured with: the reasoning they produce is tagged with it. */
  private static final String CREDENTIAL = "TEST_API_KEY";
  /** OpenAI's reasoning models: o-series and the gpt-5 family but gpt-5-chat. */
  private static final Pattern REASONING_MODEL = Pattern.compile("o\\d.*|gpt-5(?!-chat).*");
  private static final List<String> ENCRYPTED_REASONING = List.of("reasoning.encrypted_content");
  private static final Map<String, Integer> STATUS_OF_CODE = Map.of("rate_limit_exceeded", 429,
      "insufficient_quota", 429, "invalid_request_error", 400, "server_error", 500);

  @Override
  public String type() {
    return "openai-responses";
  }

  @Override
  public List<String> folders() {
    return List.of("openai-responses", "azure-openai", "websearch-openai");
  }

  // The other folders also hold Chat Completions and embeddings.
  @Override
  public boolean speaks(WireExchange exchange) {
    return exchange.path().endsWith("/responses");
  }

  @Override
  public String providersYaml(String baseUrl) {
    return "  - { name: oair, type: openai-responses, base_url: \"" + baseUrl + "/v1\", api_key: \"${TEST_API_KEY}\" }\n"
        + "  - { name: azure-responses, type: openai-responses, base_url: \"" + baseUrl + "/openai/v1\", "
        + "api_key: \"${TEST_API_KEY}\" }\n";
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return exchange.folder().equals("azure-openai") ? "azure-responses" : "oair";
  }

  @Override
  public Answer answerOf(WireExchange exchange) {
    JsonNode response = finalResponse(exchange);
    StringBuilder text = new StringBuilder();
    StringBuilder refusal = new StringBuilder();
    List<String> reasoning = new ArrayList<>();
    List<String> encrypted = new ArrayList<>();
    List<ToolCall> calls = new ArrayList<>();
    for (JsonNode item : response.path("output")) {
      switch (item.path("type").asText()) {
        case "reasoning" -> {
          for (String field : List.of("summary", "content")) {
            item.path(field).forEach(part -> reasoning.add(part.path("text").asText("")));
          }
          encrypted.add(item.path("encrypted_content").asText(""));
        }
        case "message" -> item.path("content").forEach(part -> {
          text.append(part.path("text").asText(""));
          refusal.append(part.path("refusal").asText(""));
        });
        case "function_call" -> calls.add(ToolCall.newBuilder().setId(item.path("call_id").asText())
            .setName(item.path("name").asText()).setArgumentsJson(item.path("arguments").asText()).build());
        default -> {
        }
      }
    }
    FinishReason finish = switch (response.path("status").asText()) {
      case "completed" -> calls.isEmpty() ? FinishReason.FINISH_REASON_STOP : FinishReason.FINISH_REASON_TOOL_CALLS;
      case "incomplete" -> switch (response.path("incomplete_details").path("reason").asText()) {
        case "max_output_tokens" -> FinishReason.FINISH_REASON_LENGTH;
        case "content_filter" -> FinishReason.FINISH_REASON_CONTENT_FILTER;
        default -> FinishReason.FINISH_REASON_UNSPECIFIED;
      };
      default -> FinishReason.FINISH_REASON_UNSPECIFIED;
    };
    return new Answer(text.toString(), refusal.toString(), nonEmpty(reasoning, "\n\n"), nonEmpty(encrypted, "\n"),
        calls, usageOf(response), finish, response.path("id").asText(),
        response.path("model").asText());
  }

  private static String nonEmpty(List<String> texts, String separator) {
    return texts.stream().filter(t -> !t.isEmpty()).collect(Collectors.joining(separator));
  }

  /** The Response object an answer ends with: the body, or the `response` of the stream's last response event. */
  private static JsonNode finalResponse(WireExchange exchange) {
    if (!OpenAiWire.isStream(exchange)) {
      return OpenAiWire.read(exchange.body());
    }
    JsonNode last = null;
    for (String data : OpenAiWire.eventData(exchange)) {
      JsonNode event = OpenAiWire.read(data);
      if (event.path("response").isObject()) {
        last = event.path("response");
      }
    }
    return last;
  }

  /** The usage a response reports, and its web search calls counted (the Responses API counts none itself). */
  private static Usage usageOf(JsonNode response) {
    JsonNode usage = response.path("usage");
    if (!usage.isObject()) {
      return null;
    }
    Usage.Builder u = Usage.newBuilder().setInputTokens(usage.path("input_tokens").asLong())
        .setOutputTokens(usage.path("output_tokens").asLong());
    if (usage.path("input_tokens_details").has("cached_tokens")) {
      u.setCachedInputTokens(usage.path("input_tokens_details").path("cached_tokens").asLong());
    }
    if (usage.path("output_tokens_details").has("reasoning_tokens")) {
      u.setReasoningTokens(usage.path("output_tokens_details").path("reasoning_tokens").asLong());
    }
    long searches = 0;
    for (JsonNode item : response.path("output")) {
      searches += item.path("type").asText().equals("web_search_call") ? 1 : 0;
    }
    if (searches > 0) {
      u.setWebSearches(searches);
    }
    return u.build();
  }

  /** A stream that failed after its HTTP 200 amounts to the status its error code names (a server error else). */
  @Override
  public int statusOf(WireExchange exchange) {
    JsonNode error = streamError(exchange);
    return error == null ? exchange.status()
        : STATUS_OF_CODE.getOrDefault(error.path("code").asText(error.path("type").asText()), 500);
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    JsonNode error = streamError(exchange);
    return (error == null ? OpenAiWire.read(exchange.body()).path("error") : error).path("message").asText();
  }

  /** The error of a 200 stream: its `error` event's, or its failed response's; null when it has none. */
  private static JsonNode streamError(WireExchange exchange) {
    if (exchange.status() != 200 || !OpenAiWire.isStream(exchange)) {
      return null;
    }
    for (String data : OpenAiWire.eventData(exchange)) {
      JsonNode event = OpenAiWire.read(data);
      switch (event.path("type").asText()) {
        case "error" -> {
          return event.path("error").isObject() ? event.path("error") : event;
        }
        case "response.failed" -> {
          return event.path("response").path("error");
        }
        default -> {
        }
      }
    }
    return null;
  }

  @Override
  public ChatRequest requestFor(WireExchange exchange) {
    JsonNode body = exchange.request();
    String provider = providerFor(exchange);
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel(provider + "/" + body.path("model").asText());
    ObjectNode providerOptions = ProtoJson.MAPPER.createObjectNode();
    if (body.path("instructions").isTextual()) {
      request.addMessages(Message.newBuilder().setRole(Role.ROLE_SYSTEM)
          .addParts(Part.newBuilder().setText(body.path("instructions").asText())));
    }
    new Input(request, provider).read(body.path("input"));
    boolean builtInTools = false;
    for (JsonNode tool : body.path("tools")) {
      builtInTools |= !tool.path("type").asText().equals("function");
    }
    if (builtInTools) {
      providerOptions.set("tools", body.path("tools"));
    } else {
      for (JsonNode t : body.path("tools")) {
        Tool.Builder tool = Tool.newBuilder().setName(t.path("name").asText())
            .setDescription(t.path("description").asText("")).setParameters(ProtoJson.toStruct(t.path("parameters")));
        if (t.path("strict").isBoolean()) {
          tool.setStrict(t.path("strict").asBoolean());
        }
        request.addTools(tool);
      }
    }
    JsonNode choice = body.path("tool_choice");
    if (choice.isTextual()) {
      request.setToolChoice(ToolChoice.newBuilder().setMode(
          ToolChoiceMode.valueOf("TOOL_CHOICE_MODE_" + choice.asText().toUpperCase(Locale.ROOT))));
    } else if (choice.isObject()) {
      request.setToolChoice(ToolChoice.newBuilder().setToolName(choice.path("name").asText()));
    }
    if (body.has("parallel_tool_calls")) {
      request.setParallelToolCalls(body.path("parallel_tool_calls").asBoolean());
    }
    JsonNode text = body.path("text");
    if (text.isObject() && text.size() == 1 && text.has("format")) {
      request.setResponseFormat(formatOf(text.path("format")));
    } else if (text.isObject()) {
      providerOptions.set("text", text);
    }
    GenerationSettings.Builder s = GenerationSettings.newBuilder();
    // A temperature the router would refuse itself reaches the provider as a caller would send it: an option.
    double temperature = body.path("temperature").asDouble(1);
    if (body.hasNonNull("temperature") && temperature >= 0 && temperature <= 2) {
      s.setTemperature(temperature);
    } else if (body.hasNonNull("temperature")) {
      providerOptions.set("temperature", body.path("temperature"));
    }
    if (body.hasNonNull("top_p")) {
      s.setTopP(body.path("top_p").asDouble());
    }
    if (body.hasNonNull("max_output_tokens")) {
      s.setMaxOutputTokens(body.path("max_output_tokens").asInt());
    }
    JsonNode reasoning = body.path("reasoning");
    if (reasoning.isObject() && reasoning.size() == 1 && reasoning.has("effort")) {
      s.setReasoningEffort(ReasoningEffort.valueOf("REASONING_EFFORT_"
          + reasoning.path("effort").asText().toUpperCase(Locale.ROOT)));
    } else if (reasoning.isObject()) {
      providerOptions.set("reasoning", reasoning);
    }
    Set<String> mapped = Set.of("model", "instructions", "input", "stream", "tools", "tool_choice",
        "parallel_tool_calls", "text", "temperature", "top_p", "max_output_tokens", "reasoning");
    body.fields().forEachRemaining(field -> {
      boolean stateless = field.getKey().equals("store") && !field.getValue().asBoolean(true)
          || field.getKey().equals("include") && field.getValue().equals(ProtoJson.MAPPER.valueToTree(
              ENCRYPTED_REASONING));
      if (!mapped.contains(field.getKey()) && !stateless && !field.getValue().isNull()) {
        providerOptions.set(field.getKey(), field.getValue());
      }
    });
    if (!providerOptions.isEmpty()) {
      s.setProviderOptions(ProtoJson.toStruct(providerOptions));
    }
    return request.setSettings(s).build();
  }

  private static ResponseFormat formatOf(JsonNode format) {
    ResponseFormat.Builder f = ResponseFormat.newBuilder();
    switch (format.path("type").asText()) {
      case "json_object" -> f.setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_OBJECT);
      case "json_schema" -> {
        f.setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA).setSchemaName(format.path("name").asText())
            .setSchema(ProtoJson.toStruct(format.path("schema")));
        if (format.path("strict").isBoolean()) {
          f.setStrict(format.path("strict").asBoolean());
        }
      }
      default -> f.setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_TEXT);
    }
    return f.build();
  }

  /** The `input` items as messages: the assistant-side items between two others make one assistant message. */
  private static final class Input {

    private final ChatRequest.Builder request;
    private final String provider;
    private Message.Builder assistant;

    Input(ChatRequest.Builder request, String provider) {
      this.request = request;
      this.provider = provider;
    }

    void read(JsonNode input) {
      if (input.isTextual()) {
        request.addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
            .addParts(Part.newBuilder().setText(input.asText())));
        return;
      }
      for (JsonNode item : input) {
        switch (item.path("type").asText("message")) {
          case "reasoning" -> {
            List<String> texts = new ArrayList<>();
            item.path("summary").forEach(part -> texts.add(part.path("text").asText()));
            assistantTurn().addParts(Part.newBuilder().setReasoning(Reasoning.newBuilder()
                .setText(String.join("\n\n", texts)).setSignature(item.path("encrypted_content").asText())
                .setProvider("openai-responses").setDeployment(provider).setCredential(CREDENTIAL)));
          }
          case "function_call" -> assistantTurn().addToolCalls(ToolCall.newBuilder()
              .setId(item.path("call_id").asText()).setName(item.path("name").asText())
              .setArgumentsJson(item.path("arguments").asText()));
          case "function_call_output" -> add(Message.newBuilder().setRole(Role.ROLE_TOOL)
              .setToolCallId(item.path("call_id").asText())
              .addParts(Part.newBuilder().setText(item.path("output").asText())));
          default -> message(item);
        }
      }
      endAssistantTurn();
    }

    private void message(JsonNode item) {
      String role = item.path("role").asText();
      Message.Builder message = role.equals("assistant") ? assistantTurn() : Message.newBuilder()
          .setRole(role.equals("system") || role.equals("developer") ? Role.ROLE_SYSTEM : Role.ROLE_USER);
      JsonNode content = item.path("content");
      if (content.isTextual()) {
        if (!content.asText().isEmpty() || !role.equals("assistant")) {
          message.addParts(Part.newBuilder().setText(content.asText()));
        }
      }
      for (JsonNode part : content.isArray() ? content : ProtoJson.MAPPER.createArrayNode()) {
        message.addParts(partOf(part));
      }
      if (!role.equals("assistant")) {
        add(message);
      }
    }

    private static Part partOf(JsonNode part) {
      return switch (part.path("type").asText()) {
        case "input_image" -> {
          String url = part.path("image_url").asText();
          Image.Builder image = Image.newBuilder();
          if (url.startsWith("data:")) {
            image.setMimeType(url.substring(5, url.indexOf(';'))).setData(dataOf(url));
          } else {
            image.setUrl(url);
          }
          yield Part.newBuilder().setImage(image).build();
        }
        case "input_file" -> {
          String url = part.path("file_data").asText();
          yield Part.newBuilder().setDocument(Document.newBuilder().setMimeType(url.substring(5, url.indexOf(';')))
              .setData(dataOf(url)).setTitle(part.path("filename").asText())).build();
        }
        default -> Part.newBuilder().setText(part.path("text").asText()).build();
      };
    }

    private static ByteString dataOf(String dataUrl) {
      return ByteString.copyFrom(Base64.getDecoder().decode(dataUrl.substring(dataUrl.indexOf(',') + 1)));
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
      if (assistant != null) {
        request.addMessages(assistant);
        assistant = null;
      }
    }
  }

  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent, boolean streamed) {
    assertEquals(exchange.path(), sent.uri());
    assertEquals("Bearer " + RunningRouter.TEST_KEY, sent.headers().get("authorization"));
    JsonNode body = OpenAiWire.read(sent.body());
    assertEquals(streamed, body.path("stream").asBoolean());
    assertEquals(comparable(exchange.request()), comparable(body), "the adapter sends the recorded request");
  }

  /**
   * A request body reduced to what must match between a recorded request and the adapter's (see the class comment):
   * without the stream flag (it follows the RPC), null fields and empty tool descriptions, the stateless fields as
   * the router sends them, a text input as the user message it stands for, and items without what the router does
   * not send back (ids, statuses, reasoning summaries, `type: message`, empty assistant messages).
   */
  private static JsonNode comparable(JsonNode recorded) {
    ObjectNode body = recorded.deepCopy();
    body.remove("stream");
    body.putIfAbsent("store", body.booleanNode(false));
    if (REASONING_MODEL.matcher(body.path("model").asText()).matches()) {
      body.putIfAbsent("include", ProtoJson.MAPPER.valueToTree(ENCRYPTED_REASONING));
    }
    JsonNode items = recorded.path("input").isTextual() ? ProtoJson.MAPPER.createArrayNode()
        .add(ProtoJson.MAPPER.createObjectNode().put("role", "user").put("content", recorded.path("input").asText()))
        : recorded.path("input");
    ArrayNode input = body.putArray("input");
    for (JsonNode item : items) {
      ObjectNode copy = item.deepCopy();
      copy.remove(List.of("id", "status"));
      switch (copy.path("type").asText()) {
        case "reasoning" -> copy.putArray("summary");
        case "message" -> copy.remove("type");
        default -> {
        }
      }
      if (!(copy.path("role").asText().equals("assistant") && copy.path("content").asText("x").isEmpty())) {
        input.add(copy);
      }
    }
    for (JsonNode tool : body.path("tools")) {
      if (tool.path("description").asText("x").isEmpty()) {
        ((ObjectNode) tool).remove("description");
      }
    }
    return withoutNulls(body);
  }

  private static JsonNode withoutNulls(JsonNode node) {
    if (node.isObject()) {
      ObjectNode copy = ProtoJson.MAPPER.createObjectNode();
      node.fields().forEachRemaining(f -> {
        if (!f.getValue().isNull()) {
          copy.set(f.getKey(), withoutNulls(f.getValue()));
        }
      });
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = ProtoJson.MAPPER.createArrayNode();
      node.forEach(element -> copy.add(withoutNulls(element)));
      return copy;
    }
    return node;
  }
}
