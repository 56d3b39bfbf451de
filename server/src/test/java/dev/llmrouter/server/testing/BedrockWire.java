package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Document;
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
import dev.llmrouter.server.provider.bedrock.BedrockAdapter;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Test-side reading of AWS Bedrock Converse wire data (`POST /model/{modelId}/converse` and `/converse-stream`),
 * written independently of the adapter: what a recorded answer says (text, cited text, reasoning with its signature,
 * tool calls, usage with the cache counts added to the input), and the {@link ChatRequest} that makes the adapter send
 * a recorded request. InvokeModel exchanges with Anthropic's Messages body (`/invoke`,
 * `/invoke-with-response-stream`) go to a second deployment, `bedrock_api: invoke`, and are read as Anthropic's wire
 * ({@link AnthropicWire}) once each streamed `chunk` frame is unwrapped into the server-sent event it carries.
 * CountTokens, and InvokeModel with other models' native bodies (embeddings), are other endpoints.
 */
public final class BedrockWire implements ProviderWire {

  /** The access key id the tests' router finds in its environment (`AWS_ACCESS_KEY_ID`): never a real one. */
  public static final String TEST_ACCESS_KEY_ID = "AKIDEXAMPLETESTONLY0";
  /** Its secret (`AWS_SECRET_ACCESS_KEY`). */
  public static final String TEST_SECRET_KEY = "test-secret-never-a-real-one-0123456789ab";

  /** The request fields the router maps from a {@link ChatRequest}; the others a caller sends as provider options. */
  private static final Set<String> MAPPED_FIELDS = Set.of("messages", "system", "inferenceConfig", "toolConfig",
      "outputConfig");

  /** The status each Bedrock exception stands for, by its lower-cased name: those a test sample or recording has. */
  private static final Map<String, Integer> STATUS_OF_EXCEPTION = Map.of("throttlingexception", 429,
      "servicequotaexceededexception", 429, "modelstreamerrorexception", 502, "expiredtokenexception", 403,
      "validationexception", 400);

  private static final Map<String, String> MIME_OF_FORMAT = Map.of("png", "image/png", "jpeg", "image/jpeg",
      "gif", "image/gif", "webp", "image/webp", "pdf", "application/pdf", "txt", "text/plain", "csv", "text/csv",
      "md", "text/markdown", "html", "text/html");

  /** The deployment that calls InvokeModel. */
  private static final String INVOKE_PROVIDER = "bedrock-invoke";
  /** The Messages API version Bedrock speaks. */
  private static final String ANTHROPIC_VERSION = "bedrock-2023-05-31";

  private final AnthropicWire anthropic = new AnthropicWire();

  @Override
  public String type() {
    return "bedrock";
  }

  @Override
  public List<String> folders() {
    return List.of("bedrock");
  }

  /** Converse and ConverseStream, and InvokeModel with Anthropic's Messages body; not CountTokens. */
  @Override
  public boolean speaks(WireExchange exchange) {
    return exchange.path().endsWith("/converse") || exchange.path().endsWith("/converse-stream")
        || isInvoke(exchange) && exchange.request().has("anthropic_version");
  }

  private static boolean isInvoke(WireExchange exchange) {
    return exchange.path().endsWith("/invoke") || exchange.path().endsWith("/invoke-with-response-stream");
  }

  @Override
  public String requiredSettings() {
    return "region: us-east-1";
  }

  @Override
  public String providersYaml(String baseUrl) {
    return "  - { name: bedrock, type: bedrock, region: us-east-1, base_url: \"" + baseUrl + "\" }\n"
        + "  - { name: " + INVOKE_PROVIDER + ", type: bedrock, region: us-east-1, bedrock_api: invoke, base_url: \""
        + baseUrl + "\" }\n";
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return isInvoke(exchange) ? INVOKE_PROVIDER : "bedrock";
  }

  @Override
  public Capabilities capabilitiesOf(ChatRequest request) {
    String model = request.getModel().substring(request.getModel().indexOf('/') + 1);
    return request.getModel().startsWith(INVOKE_PROVIDER + "/") ? BedrockAdapter.invokeCapabilities(model)
        : BedrockAdapter.capabilities(model);
  }

  /** The model id of an exchange, as the path carries it percent-encoded. */
  static String modelOf(WireExchange exchange) {
    String path = exchange.path();
    String encoded = path.substring("/model/".length(), path.lastIndexOf('/'));
    return URLDecoder.decode(encoded, StandardCharsets.UTF_8);
  }

  static boolean isStream(WireExchange exchange) {
    return !exchange.bodyBase64().isEmpty();
  }

  @Override
  public Answer answerOf(WireExchange exchange) {
    if (isInvoke(exchange)) {
      return anthropic.answerOf(asMessages(exchange));
    }
    StringBuilder text = new StringBuilder();
    StringBuilder reasoning = new StringBuilder();
    StringBuilder signature = new StringBuilder();
    TreeMap<Integer, ToolCall.Builder> calls = new TreeMap<>();
    Usage usage = null;
    String stop = "";
    if (isStream(exchange)) {
      Map<Integer, Integer> callOfBlock = new TreeMap<>();
      for (BedrockEventStream.Frame frame : BedrockEventStream.decode(exchange.bodyBytes())) {
        JsonNode event = frame.json();
        int block = event.path("contentBlockIndex").asInt();
        switch (frame.type()) {
          case "contentBlockStart" -> {
            JsonNode toolUse = event.path("start").path("toolUse");
            if (toolUse.isObject()) {
              callOfBlock.put(block, callOfBlock.size());
              calls.put(callOfBlock.get(block), ToolCall.newBuilder().setId(toolUse.path("toolUseId").asText())
                  .setName(toolUse.path("name").asText()));
            }
          }
          case "contentBlockDelta" -> {
            JsonNode delta = event.path("delta");
            text.append(delta.path("text").asText(""));
            reasoning.append(delta.path("reasoningContent").path("text").asText(""));
            signature.append(delta.path("reasoningContent").path("signature").asText(""));
            if (delta.has("toolUse")) {
              ToolCall.Builder call = calls.get(callOfBlock.get(block));
              call.setArgumentsJson(call.getArgumentsJson() + delta.path("toolUse").path("input").asText());
            }
          }
          case "messageStop" -> stop = event.path("stopReason").asText();
          case "metadata" -> usage = usageOf(event.path("usage"));
          default -> {
          }
        }
      }
      // A tool call that streamed no input has the empty object for arguments.
      calls.values().stream().filter(c -> c.getArgumentsJson().isEmpty()).forEach(c -> c.setArgumentsJson("{}"));
    } else {
      JsonNode whole = OpenAiWire.read(exchange.body());
      int i = 0;
      for (JsonNode block : whole.path("output").path("message").path("content")) {
        text.append(block.path("text").asText(""));
        block.path("citationsContent").path("content").forEach(c -> text.append(c.path("text").asText("")));
        JsonNode thought = block.path("reasoningContent").path("reasoningText");
        reasoning.append(thought.path("text").asText(""));
        signature.append(thought.path("signature").asText(""));
        signature.append(block.path("reasoningContent").path("redactedContent").asText(""));
        JsonNode toolUse = block.path("toolUse");
        if (toolUse.isObject()) {
          calls.put(i++, ToolCall.newBuilder().setId(toolUse.path("toolUseId").asText())
              .setName(toolUse.path("name").asText()).setArgumentsJson(toolUse.path("input").toString()));
        }
      }
      stop = whole.path("stopReason").asText();
      usage = usageOf(whole.path("usage"));
    }
    return new Answer(text.toString(), "", reasoning.toString(), signature.toString(),
        calls.values().stream().map(ToolCall.Builder::build).toList(), usage,
        switch (stop) {
          case "end_turn", "stop_sequence" -> FinishReason.FINISH_REASON_STOP;
          case "max_tokens" -> FinishReason.FINISH_REASON_LENGTH;
          case "tool_use" -> FinishReason.FINISH_REASON_TOOL_CALLS;
          case "guardrail_intervened", "content_filtered" -> FinishReason.FINISH_REASON_CONTENT_FILTER;
          default -> FinishReason.FINISH_REASON_UNSPECIFIED;
        }, "", modelOf(exchange));
  }

  /**
   * An InvokeModel exchange as Anthropic's API would have answered it: a streamed answer's `chunk` frames become the
   * server-sent events whose JSON their `bytes` carry in base64.
   */
  private static WireExchange asMessages(WireExchange exchange) {
    if (!isStream(exchange)) {
      return exchange;
    }
    StringBuilder events = new StringBuilder();
    for (BedrockEventStream.Frame frame : BedrockEventStream.decode(exchange.bodyBytes())) {
      if (frame.type().equals("chunk")) {
        String event = new String(Base64.getDecoder().decode(frame.json().path("bytes").asText()),
            StandardCharsets.UTF_8);
        events.append("event: ").append(OpenAiWire.read(event).path("type").asText()).append("\ndata: ")
            .append(event).append("\n\n");
      }
    }
    return new WireExchange(exchange.name(), exchange.endpoint(), exchange.request(), exchange.status(),
        Map.of("content-type", "text/event-stream"), events.toString());
  }

  /** Input counts the cache reads and writes too, which Bedrock reports apart; the cached part is the reads. */
  private static Usage usageOf(JsonNode usage) {
    if (!usage.isObject()) {
      return null;
    }
    Usage.Builder u = Usage.newBuilder().setInputTokens(usage.path("inputTokens").asLong()
        + usage.path("cacheReadInputTokens").asLong(0) + usage.path("cacheWriteInputTokens").asLong(0))
        .setOutputTokens(usage.path("outputTokens").asLong());
    if (usage.has("cacheReadInputTokens")) {
      u.setCachedInputTokens(usage.path("cacheReadInputTokens").asLong());
    }
    return u.build();
  }

  /**
   * An exception frame inside a 200 stream stands for its status; so does the `x-amzn-ErrorType` of the two error
   * types whose HTTP status says less than their name (a quota exceeded comes as a 400).
   */
  @Override
  public int statusOf(WireExchange exchange) {
    BedrockEventStream.Frame exception = exceptionFrame(exchange);
    if (exception != null) {
      return STATUS_OF_EXCEPTION.getOrDefault(exception.type().toLowerCase(), 500);
    }
    String type = exchange.headers().getOrDefault("x-amzn-ErrorType", "").replaceFirst(":.*", "");
    return type.equals("ServiceQuotaExceededException") ? 429 : exchange.status();
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    BedrockEventStream.Frame exception = exceptionFrame(exchange);
    return (exception == null ? OpenAiWire.read(exchange.body()) : exception.json()).path("message").asText();
  }

  private static BedrockEventStream.Frame exceptionFrame(WireExchange exchange) {
    if (exchange.status() != 200 || !isStream(exchange)) {
      return null;
    }
    return BedrockEventStream.decode(exchange.bodyBytes()).stream()
        .filter(frame -> frame.messageType().equals("exception")).findFirst().orElse(null);
  }

  @Override
  public ChatRequest requestFor(WireExchange exchange) {
    if (isInvoke(exchange)) {
      // Anthropic's request names the model the URL names here, and no version.
      ObjectNode messages = exchange.request().deepCopy();
      messages.remove("anthropic_version");
      messages.put("model", modelOf(exchange));
      return anthropic.requestFor(new WireExchange(exchange.name(), exchange.endpoint(), messages, exchange.status(),
          exchange.headers(), exchange.body(), exchange.bodyBase64())).toBuilder()
          .setModel(INVOKE_PROVIDER + "/" + modelOf(exchange)).build();
    }
    JsonNode body = exchange.request();
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel("bedrock/" + modelOf(exchange));
    if (!body.path("system").isEmpty()) {
      Message.Builder system = Message.newBuilder().setRole(Role.ROLE_SYSTEM);
      body.path("system").forEach(block -> system.addParts(Part.newBuilder().setText(block.path("text").asText())));
      request.addMessages(system);
    }
    for (JsonNode m : body.path("messages")) {
      boolean assistant = m.path("role").asText().equals("assistant");
      Message.Builder message = Message.newBuilder().setRole(assistant ? Role.ROLE_ASSISTANT : Role.ROLE_USER);
      for (JsonNode block : m.path("content")) {
        if (block.has("toolResult")) {
          Message.Builder result = Message.newBuilder().setRole(Role.ROLE_TOOL)
              .setToolCallId(block.path("toolResult").path("toolUseId").asText());
          block.path("toolResult").path("content").forEach(c -> result.addParts(Part.newBuilder()
              .setText(c.path("text").asText())));
          request.addMessages(result);
        } else if (block.has("toolUse")) {
          JsonNode toolUse = block.path("toolUse");
          message.addToolCalls(ToolCall.newBuilder().setId(toolUse.path("toolUseId").asText())
              .setName(toolUse.path("name").asText()).setArgumentsJson(toolUse.path("input").toString()));
        } else {
          message.addParts(partOf(block));
        }
      }
      if (message.getPartsCount() > 0 || message.getToolCallsCount() > 0) {
        request.addMessages(message);
      }
    }
    JsonNode toolConfig = body.path("toolConfig");
    for (JsonNode t : toolConfig.path("tools")) {
      JsonNode spec = t.path("toolSpec");
      request.addTools(Tool.newBuilder().setName(spec.path("name").asText())
          .setDescription(spec.path("description").asText(""))
          .setParameters(ProtoJson.toStruct(spec.path("inputSchema").path("json"))));
    }
    JsonNode choice = toolConfig.path("toolChoice");
    if (choice.has("auto")) {
      request.setToolChoice(ToolChoice.newBuilder().setMode(ToolChoiceMode.TOOL_CHOICE_MODE_AUTO));
    } else if (choice.has("any")) {
      request.setToolChoice(ToolChoice.newBuilder().setMode(ToolChoiceMode.TOOL_CHOICE_MODE_REQUIRED));
    } else if (choice.has("tool")) {
      request.setToolChoice(ToolChoice.newBuilder().setToolName(choice.path("tool").path("name").asText()));
    }
    JsonNode jsonSchema = body.path("outputConfig").path("textFormat").path("structure").path("jsonSchema");
    if (jsonSchema.isObject()) {
      request.setResponseFormat(ResponseFormat.newBuilder().setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA)
          .setSchemaName(jsonSchema.path("name").asText()).setSchema(ProtoJson.toStruct(OpenAiWire.read(
              jsonSchema.path("schema").asText()))));
    }
    JsonNode inference = body.path("inferenceConfig");
    GenerationSettings.Builder s = GenerationSettings.newBuilder();
    if (inference.has("maxTokens")) {
      s.setMaxOutputTokens(inference.path("maxTokens").asInt());
    }
    if (inference.has("temperature")) {
      s.setTemperature(inference.path("temperature").asDouble());
    }
    if (inference.has("topP")) {
      s.setTopP(inference.path("topP").asDouble());
    }
    inference.path("stopSequences").forEach(stop -> s.addStopSequences(stop.asText()));
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

  /** A content block as a part; a cited passage is its text (where it points has no place in a part). */
  private static Part partOf(JsonNode block) {
    Part.Builder part = Part.newBuilder();
    if (block.has("image")) {
      JsonNode image = block.path("image");
      part.setImage(Image.newBuilder().setMimeType(MIME_OF_FORMAT.get(image.path("format").asText()))
          .setData(ByteString.copyFrom(Base64.getDecoder().decode(image.path("source").path("bytes").asText()))));
    } else if (block.has("document")) {
      JsonNode document = block.path("document");
      JsonNode source = document.path("source");
      part.setDocument(Document.newBuilder().setMimeType(MIME_OF_FORMAT.get(document.path("format").asText()))
          .setTitle(document.path("name").asText())
          .setData(source.has("text") ? ByteString.copyFromUtf8(source.path("text").asText())
              : ByteString.copyFrom(Base64.getDecoder().decode(source.path("bytes").asText()))));
    } else if (block.has("reasoningContent")) {
      JsonNode reasoning = block.path("reasoningContent");
      part.setReasoning(reasoning.has("redactedContent")
          ? Reasoning.newBuilder().setSignature(reasoning.path("redactedContent").asText()).setRedacted(true)
              .setProvider("bedrock").build()
          : Reasoning.newBuilder().setText(reasoning.path("reasoningText").path("text").asText())
              .setSignature(reasoning.path("reasoningText").path("signature").asText()).setProvider("bedrock")
              .build());
    } else if (block.has("citationsContent")) {
      StringBuilder cited = new StringBuilder();
      block.path("citationsContent").path("content").forEach(c -> cited.append(c.path("text").asText()));
      part.setText(cited.toString());
    } else {
      part.setText(block.path("text").asText());
    }
    return part.build();
  }

  /**
   * The path (converse, or converse-stream when streamed), a SigV4 signature by the test key for us-east-1 and
   * service bedrock, and the recorded body as far as a {@link ChatRequest} can say it: an empty `system` or
   * `inferenceConfig` is the same as none, a JSON schema's text is compared as JSON, and a document's citation switch
   * and context, and where a cited passage points, have no place in the neutral message. InvokeModel (`invoke`, or
   * `invoke-with-response-stream` when streamed) is signed the same way, and sends the recorded Messages body: the
   * version, no model (the URL names it) and no `stream` flag (the operation says it).
   */
  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent, boolean streamed) {
    String path = exchange.path();
    String model = path.substring(0, path.lastIndexOf('/'));
    if (isInvoke(exchange)) {
      assertEquals(model + (streamed ? "/invoke-with-response-stream" : "/invoke"), sent.uri());
      assertSigned(sent);
      ObjectNode body = (ObjectNode) OpenAiWire.read(sent.body());
      assertEquals(ANTHROPIC_VERSION, body.path("anthropic_version").asText(), "the Messages version of Bedrock");
      assertFalse(body.has("model"), "the URL names the model");
      assertFalse(body.has("stream"), "the operation says whether the answer streams");
      assertEquals(withContentBlocks(exchange.request()), body, "the adapter sends the recorded request");
      return;
    }
    assertEquals(model + (streamed ? "/converse-stream" : "/converse"), sent.uri());
    assertSigned(sent);
    assertEquals(neutral(exchange.request()), neutral(OpenAiWire.read(sent.body())),
        "the adapter sends the recorded request");
  }

  /** A Messages body with each message's content as blocks: a string is Anthropic's shorthand for one text block. */
  private static JsonNode withContentBlocks(JsonNode request) {
    ObjectNode copy = request.deepCopy();
    for (JsonNode message : copy.path("messages")) {
      if (message.path("content").isTextual()) {
        String text = message.path("content").asText();
        ((ObjectNode) message).putArray("content").addObject().put("type", "text").put("text", text);
      }
    }
    return OpenAiWire.read(copy.toString());
  }

  /** A SigV4 signature by the test key, for us-east-1 and the service bedrock. */
  private static void assertSigned(MockUpstream.Received sent) {
    String authorization = sent.headers().get("authorization");
    assertNotNull(authorization, "the request is signed");
    assertTrue(authorization.matches("AWS4-HMAC-SHA256 Credential=" + TEST_ACCESS_KEY_ID
        + "/\\d{8}/us-east-1/bedrock/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}"), authorization);
    assertNotNull(sent.headers().get("x-amz-date"));
  }

  private static JsonNode neutral(JsonNode body) {
    ObjectNode copy = body.deepCopy();
    for (String field : List.of("system", "inferenceConfig")) {
      if (copy.path(field).isEmpty()) {
        copy.remove(field);
      }
    }
    for (JsonNode message : copy.path("messages")) {
      ArrayNode content = (ArrayNode) message.path("content");
      for (int i = 0; i < content.size(); i++) {
        JsonNode block = content.get(i);
        if (block.has("document")) {
          ((ObjectNode) block.get("document")).remove(List.of("context", "citations"));
        }
        if (block.has("citationsContent")) {
          StringBuilder cited = new StringBuilder();
          block.path("citationsContent").path("content").forEach(c -> cited.append(c.path("text").asText()));
          content.set(i, ProtoJson.MAPPER.createObjectNode().put("text", cited.toString()));
        }
      }
    }
    // A schema is sent as JSON text: the same schema may be spelled with its keys in another order.
    JsonNode jsonSchema = copy.path("outputConfig").path("textFormat").path("structure").path("jsonSchema");
    if (jsonSchema.path("schema").isTextual()) {
      ((ObjectNode) jsonSchema).set("schema", OpenAiWire.read(jsonSchema.path("schema").asText()));
    }
    return OpenAiWire.read(copy.toString());
  }
}
