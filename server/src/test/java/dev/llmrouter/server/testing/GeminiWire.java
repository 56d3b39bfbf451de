package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
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
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Test-side reading of Gemini generateContent wire data, written independently of the adapter: what a recorded
 * response says the answer is, and the {@link ChatRequest} that makes the adapter send a recorded request body.
 *
 * <p>The rules the router follows where Gemini leaves a choice: a function call's id is its own `id` when Gemini
 * sends one, otherwise `call_<n>` with n its position among the answer's function calls; the reasoning signature is
 * the `thoughtSignature` of the first functionCall part that has one, otherwise the last one in the answer.
 */
public final class GeminiWire implements ProviderWire {

  private static final Set<String> BLOCKED = Set.of("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
      "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "MODEL_ARMOR");
  private static final Map<Integer, ReasoningEffort> EFFORT_OF_BUDGET = Map.of(
      512, ReasoningEffort.REASONING_EFFORT_MINIMAL, 1024, ReasoningEffort.REASONING_EFFORT_LOW,
      8192, ReasoningEffort.REASONING_EFFORT_MEDIUM, 24576, ReasoningEffort.REASONING_EFFORT_HIGH);

  @Override
  public String type() {
    return "gemini";
  }

  @Override
  public List<String> folders() {
    return List.of("gemini");
  }

  @Override
  public boolean speaks(WireExchange exchange) {
    return exchange.path().endsWith(":generateContent") || exchange.path().endsWith(":streamGenerateContent");
  }

  @Override
  public String providersYaml(String baseUrl) {
    return "  - { name: gemini, type: gemini, base_url: \"%s\", api_key: \"${TEST_API_KEY}\" }\n".formatted(baseUrl);
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return "gemini";
  }

  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent, boolean streamed) {
    assertEquals("/v1beta/models/" + modelOf(exchange)
        + (streamed ? ":streamGenerateContent?alt=sse" : ":generateContent"), sent.uri());
    assertEquals(RunningRouter.TEST_KEY, sent.headers().get("x-goog-api-key"));
    assertEquals(comparable(exchange.request()), comparable(OpenAiWire.read(sent.body())),
        "the adapter sends the recorded request");
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    return OpenAiWire.read(exchange.body()).path("error").path("message").asText();
  }

  @Override
  public Answer answerOf(WireExchange exchange) {
    StringBuilder text = new StringBuilder();
    StringBuilder reasoning = new StringBuilder();
    List<ToolCall> calls = new ArrayList<>();
    String signature = "";
    boolean signatureFromCall = false;
    JsonNode usage = null;
    String finish = "";
    boolean promptBlocked = false;
    String id = "";
    String model = "";
    for (JsonNode response : responsesOf(exchange)) {
      id = id.isEmpty() ? response.path("responseId").asText() : id;
      model = model.isEmpty() ? response.path("modelVersion").asText() : model;
      JsonNode candidate = response.path("candidates").path(0);
      for (JsonNode part : candidate.path("content").path("parts")) {
        if (part.has("thoughtSignature") && !signatureFromCall) {
          signature = part.get("thoughtSignature").asText();
          signatureFromCall = part.has("functionCall");
        }
        if (part.has("functionCall")) {
          JsonNode call = part.get("functionCall");
          calls.add(ToolCall.newBuilder().setId(call.path("id").asText("call_" + calls.size()))
              .setName(call.path("name").asText())
              .setArgumentsJson(call.has("args") ? call.get("args").toString() : "{}").build());
        } else if (part.path("thought").asBoolean()) {
          reasoning.append(part.path("text").asText());
        } else {
          text.append(part.path("text").asText());
        }
      }
      finish = candidate.path("finishReason").asText(finish);
      promptBlocked |= response.path("promptFeedback").has("blockReason");
      usage = response.has("usageMetadata") ? response.get("usageMetadata") : usage;
    }
    FinishReason finishReason = promptBlocked || BLOCKED.contains(finish)
        ? FinishReason.FINISH_REASON_CONTENT_FILTER
        : switch (finish) {
          case "STOP" -> calls.isEmpty() ? FinishReason.FINISH_REASON_STOP : FinishReason.FINISH_REASON_TOOL_CALLS;
          case "MAX_TOKENS" -> FinishReason.FINISH_REASON_LENGTH;
          default -> FinishReason.FINISH_REASON_UNSPECIFIED;
        };
    return new Answer(text.toString(), "", reasoning.toString(), signature, calls,
        usage == null ? null : usageOf(usage), finishReason, id, model);
  }

  /** The one response of a JSON body, or the partial responses of an event stream, in order. */
  private static List<JsonNode> responsesOf(WireExchange exchange) {
    String body = exchange.body().replace("\r\n", "\n").replace('\r', '\n');
    if (!exchange.headers().getOrDefault("content-type", "").startsWith("text/event-stream")) {
      return List.of(OpenAiWire.read(body));
    }
    List<JsonNode> responses = new ArrayList<>();
    for (String event : body.split("\n\n")) {
      StringBuilder data = new StringBuilder();
      for (String line : event.split("\n")) {
        if (line.startsWith("data:")) {
          data.append(data.length() > 0 ? "\n" : "").append(line.substring(5).stripLeading());
        }
      }
      if (data.length() > 0) {
        responses.add(OpenAiWire.read(data.toString()));
      }
    }
    return responses;
  }

  private static Usage usageOf(JsonNode metadata) {
    Usage.Builder usage = Usage.newBuilder();
    if (metadata.has("promptTokenCount")) {
      usage.setInputTokens(metadata.get("promptTokenCount").asLong());
    }
    if (metadata.has("candidatesTokenCount") || metadata.has("thoughtsTokenCount")) {
      usage.setOutputTokens(metadata.path("candidatesTokenCount").asLong()
          + metadata.path("thoughtsTokenCount").asLong());
    }
    if (metadata.has("thoughtsTokenCount")) {
      usage.setReasoningTokens(metadata.get("thoughtsTokenCount").asLong());
    }
    if (metadata.has("cachedContentTokenCount")) {
      usage.setCachedInputTokens(metadata.get("cachedContentTokenCount").asLong());
    }
    return usage.build();
  }

  private static String modelOf(WireExchange exchange) {
    String path = exchange.path();
    return path.substring(path.lastIndexOf('/') + 1, path.lastIndexOf(':'));
  }

  /**
   * The request a caller sends to make the adapter send the recorded body (read in its comparable form). Function
   * calls in the history get ids `call_<content>_<n>`, and each function response answers the first unanswered call
   * of its name in the latest model content. Keys the API has no field for go through the provider options.
   */
  @Override
  public ChatRequest requestFor(WireExchange exchange) {
    ObjectNode body = comparable(exchange.request());
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel("gemini/" + modelOf(exchange));
    if (body.has("systemInstruction")) {
      Message.Builder system = Message.newBuilder().setRole(Role.ROLE_SYSTEM);
      body.remove("systemInstruction").path("parts").forEach(p -> system.addParts(contentPart(p)));
      request.addMessages(system);
    }
    List<ToolCall> unanswered = new ArrayList<>();
    JsonNode contents = body.remove("contents");
    for (int c = 0; c < contents.size(); c++) {
      JsonNode content = contents.get(c);
      Message.Builder message = Message.newBuilder();
      if (content.path("role").asText().equals("model")) {
        message.setRole(Role.ROLE_ASSISTANT);
        unanswered.clear();
        for (JsonNode part : content.path("parts")) {
          if (part.has("thoughtSignature")) {
            message.addParts(0, Part.newBuilder().setReasoning(Reasoning.newBuilder()
                .setSignature(part.get("thoughtSignature").asText()).setProvider("gemini")));
          }
          if (part.has("functionCall")) {
            JsonNode call = part.get("functionCall");
            ToolCall toolCall = ToolCall.newBuilder().setId("call_" + c + "_" + message.getToolCallsCount())
                .setName(call.path("name").asText()).setArgumentsJson(call.path("args").toString()).build();
            message.addToolCalls(toolCall);
            unanswered.add(toolCall);
          } else {
            message.addParts(contentPart(part));
          }
        }
        request.addMessages(message);
      } else if (content.path("parts").path(0).has("functionResponse")) {
        for (JsonNode part : content.path("parts")) {
          JsonNode response = part.get("functionResponse");
          ToolCall call = unanswered.stream().filter(t -> t.getName().equals(response.path("name").asText()))
              .findFirst().orElseThrow();
          unanswered.remove(call);
          JsonNode result = response.path("response").path("result");
          request.addMessages(Message.newBuilder().setRole(Role.ROLE_TOOL).setToolCallId(call.getId())
              .addParts(Part.newBuilder().setText(result.isTextual() ? result.asText() : result.toString())));
        }
      } else {
        message.setRole(Role.ROLE_USER);
        content.path("parts").forEach(p -> message.addParts(contentPart(p)));
        request.addMessages(message);
      }
    }
    for (JsonNode declaration : body.path("tools").path(0).path("functionDeclarations")) {
      Tool.Builder tool = Tool.newBuilder().setName(declaration.path("name").asText())
          .setDescription(declaration.path("description").asText(""));
      if (declaration.has("parametersJsonSchema")) {
        tool.setParameters(ProtoJson.toStruct(declaration.get("parametersJsonSchema")));
      }
      request.addTools(tool);
    }
    body.remove("tools");
    JsonNode toolConfig = body.remove("toolConfig");
    if (toolConfig != null) {
      JsonNode calling = toolConfig.path("functionCallingConfig");
      request.setToolChoice(calling.has("allowedFunctionNames")
          ? ToolChoice.newBuilder().setToolName(calling.path("allowedFunctionNames").path(0).asText())
          : ToolChoice.newBuilder().setMode(switch (calling.path("mode").asText()) {
            case "ANY" -> ToolChoiceMode.TOOL_CHOICE_MODE_REQUIRED;
            case "NONE" -> ToolChoiceMode.TOOL_CHOICE_MODE_NONE;
            default -> ToolChoiceMode.TOOL_CHOICE_MODE_AUTO;
          }));
    }
    ObjectNode config = (ObjectNode) body.remove("generationConfig");
    GenerationSettings.Builder settings = GenerationSettings.newBuilder();
    if (config != null) {
      settings(config, settings, request);
      if (!config.isEmpty()) {
        body.set("generationConfig", config);
      }
    }
    request.setSettings(settings.setProviderOptions(ProtoJson.toStruct(body)));
    return request.build();
  }

  /** Reads the generation settings the API names out of {@code config}, leaving the others in it. */
  private static void settings(ObjectNode config, GenerationSettings.Builder s, ChatRequest.Builder request) {
    if (config.has("temperature")) {
      s.setTemperature(config.remove("temperature").asDouble());
    }
    if (config.has("topP")) {
      s.setTopP(config.remove("topP").asDouble());
    }
    if (config.has("maxOutputTokens")) {
      s.setMaxOutputTokens(config.remove("maxOutputTokens").asInt());
    }
    if (config.has("stopSequences")) {
      config.remove("stopSequences").forEach(stop -> s.addStopSequences(stop.asText()));
    }
    if (config.has("seed")) {
      s.setSeed(config.remove("seed").asLong());
    }
    if (config.has("presencePenalty")) {
      s.setPresencePenalty(config.remove("presencePenalty").asDouble());
    }
    if (config.has("frequencyPenalty")) {
      s.setFrequencyPenalty(config.remove("frequencyPenalty").asDouble());
    }
    if (config.has("thinkingConfig")) {
      s.setReasoningEffort(EFFORT_OF_BUDGET.get(config.remove("thinkingConfig").path("thinkingBudget").asInt()));
    }
    if (config.path("responseMimeType").asText().equals("application/json")) {
      config.remove("responseMimeType");
      JsonNode schema = config.remove("responseJsonSchema");
      request.setResponseFormat(schema == null
          ? ResponseFormat.newBuilder().setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_OBJECT)
          : ResponseFormat.newBuilder().setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA)
              .setSchema(ProtoJson.toStruct(schema)));
    }
  }

  private static Part contentPart(JsonNode part) {
    if (part.has("inlineData")) {
      JsonNode data = part.get("inlineData");
      String mimeType = data.path("mimeType").asText();
      ByteString bytes = ByteString.copyFrom(Base64.getDecoder().decode(data.path("data").asText()));
      return mimeType.startsWith("image/")
          ? Part.newBuilder().setImage(Image.newBuilder().setMimeType(mimeType).setData(bytes)).build()
          : Part.newBuilder().setDocument(Document.newBuilder().setMimeType(mimeType).setData(bytes)).build();
    }
    if (part.has("fileData")) {
      JsonNode file = part.get("fileData");
      return Part.newBuilder().setImage(Image.newBuilder().setUrl(file.path("fileUri").asText())
          .setMimeType(file.path("mimeType").asText(""))).build();
    }
    return Part.newBuilder().setText(part.path("text").asText()).build();
  }

  /**
   * A request body reduced to what must match between a recorded request and the adapter's. Each difference is one
   * a client SDK adds without changing the request's meaning:
   * <ul>
   *   <li>`systemInstruction.role`: SDKs label the instruction `user`; the API ignores its role.</li>
   *   <li>`generationConfig.responseModalities: ["TEXT"]`: text is the default output; an empty `generationConfig`
   *       is none.</li>
   *   <li>`parameters_json_schema` is the snake_case spelling of `parametersJsonSchema` (the API reads both);
   *       `parameters` is the OpenAPI-subset form of the same schema, with upper-case type names.</li>
   *   <li>`allowedFunctionNames` naming every declared function allows no less than leaving it out.</li>
   * </ul>
   */
  static ObjectNode comparable(JsonNode body) {
    ObjectNode copy = body.deepCopy();
    if (copy.path("systemInstruction").isObject()) {
      ((ObjectNode) copy.get("systemInstruction")).remove("role");
    }
    if (copy.path("generationConfig").isObject()) {
      ObjectNode config = (ObjectNode) copy.get("generationConfig");
      if (config.path("responseModalities").equals(OpenAiWire.read("[\"TEXT\"]"))) {
        config.remove("responseModalities");
      }
      if (config.isEmpty()) {
        copy.remove("generationConfig");
      }
    }
    Set<String> declared = new HashSet<>();
    for (JsonNode tool : copy.path("tools")) {
      for (JsonNode declaration : tool.path("functionDeclarations")) {
        ObjectNode d = (ObjectNode) declaration;
        declared.add(d.path("name").asText());
        if (d.has("parameters_json_schema")) {
          d.set("parametersJsonSchema", d.remove("parameters_json_schema"));
        } else if (d.has("parameters")) {
          d.set("parametersJsonSchema", lowerCaseTypes(d.remove("parameters")));
        }
      }
    }
    JsonNode allowed = copy.path("toolConfig").path("functionCallingConfig").path("allowedFunctionNames");
    Set<String> allowedNames = new HashSet<>();
    allowed.forEach(name -> allowedNames.add(name.asText()));
    if (allowed.size() > 1 && allowedNames.equals(declared)) {
      ((ObjectNode) copy.get("toolConfig").get("functionCallingConfig")).remove("allowedFunctionNames");
    }
    return copy;
  }

  private static JsonNode lowerCaseTypes(JsonNode schema) {
    if (schema instanceof ObjectNode object) {
      object.fields().forEachRemaining(field -> field.setValue(
          field.getKey().equals("type") && field.getValue().isTextual()
              ? TextNode.valueOf(field.getValue().asText().toLowerCase(Locale.ROOT))
              : lowerCaseTypes(field.getValue())));
    } else if (schema instanceof ArrayNode array) {
      array.forEach(GeminiWire::lowerCaseTypes);
    }
    return schema;
  }
}
