package dev.llmrouter.server.ingress.gemini.internal;

import static dev.llmrouter.server.answer.CallError.quote;
import static dev.llmrouter.server.ingress.JsonFields.array;
import static dev.llmrouter.server.ingress.JsonFields.bool;
import static dev.llmrouter.server.ingress.JsonFields.integer;
import static dev.llmrouter.server.ingress.JsonFields.invalid;
import static dev.llmrouter.server.ingress.JsonFields.number;
import static dev.llmrouter.server.ingress.JsonFields.onlyKnown;
import static dev.llmrouter.server.ingress.JsonFields.path;
import static dev.llmrouter.server.ingress.JsonFields.present;
import static dev.llmrouter.server.ingress.JsonFields.requiredText;
import static dev.llmrouter.server.ingress.JsonFields.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
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
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.ingress.DialectValues;
import dev.llmrouter.server.ingress.JsonFields;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a Gemini generateContent request body into a {@link ChatRequest}, as the exact inverse of what the Gemini
 * adapter sends for a request: the same conversation sent over gRPC and through this dialect is the same neutral
 * request, and so has the same cassette key. Field names are read in camelCase and in snake_case, as Gemini's REST
 * API takes both.
 *
 * <p>Gemini matches function results to calls by name, not by id: a `functionCall` without an `id` gets
 * `call_<content>_<n>` (its content's position, and its own among the calls of that model turn), and a
 * `functionResponse` answers the call with its `id` or else the first unanswered call of its name in the model
 * turn before it. Consecutive `model` contents are one assistant turn (the SDK's chats keep a streamed answer as one
 * content per chunk): their thoughts join in one Reasoning part, their text in one text part, as the router
 * assembles an answer.
 *
 * <p>What only Gemini understands goes through the provider options, as a gRPC caller would send it:
 * `safetySettings`, `generationConfig.topK`, and a `thinkingConfig` that is not one of the adapter's reasoning
 * efforts (its budgets with `includeThoughts`, so that effort and config map both ways). Another provider's upstream
 * refuses them.
 */
public final class GenerateContentReader {

  /** The request's fields; `labels` and `serviceTier` are Google's own bookkeeping, accepted and not sent on. */
  private static final Set<String> KNOWN = Set.of("contents", "systemInstruction", "tools", "toolConfig",
      "generationConfig", "safetySettings", "cachedContent", "labels", "serviceTier");
  private static final Set<String> GENERATION_CONFIG = Set.of("temperature", "topP", "topK", "maxOutputTokens",
      "stopSequences", "seed", "presencePenalty", "frequencyPenalty", "responseMimeType", "responseSchema",
      "responseJsonSchema", "thinkingConfig", "candidateCount", "responseModalities");
  private static final Set<String> PART = Set.of("text", "thought", "thoughtSignature", "inlineData", "fileData",
      "functionCall", "functionResponse");
  private static final List<String> PART_KINDS = List.of("text", "inlineData", "fileData", "functionCall",
      "functionResponse");
  /** The Gemini adapter's thinking budget of each effort (sent with `includeThoughts: true`), read back. */
  private static final Map<Long, ReasoningEffort> EFFORT_OF_BUDGET = Map.of(
      512L, ReasoningEffort.REASONING_EFFORT_MINIMAL, 1024L, ReasoningEffort.REASONING_EFFORT_LOW,
      8192L, ReasoningEffort.REASONING_EFFORT_MEDIUM, 24576L, ReasoningEffort.REASONING_EFFORT_HIGH);
  private static final String PROVIDER_TYPE = "gemini";

  private GenerateContentReader() {
  }

  /** The request for {@code model} (from the path) that {@code json} asks for. */
  public static ChatRequest read(String model, JsonNode json) {
    ObjectNode body = camelCase(JsonFields.object(json, "body"), "");
    onlyKnown(body, "", KNOWN);
    if (present(body, "cachedContent")) {
      throw invalid("cachedContent", "names a cache stored at Google, which the router cannot send to other "
          + "providers: send its contents instead");
    }
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel(model);
    ObjectNode providerOptions = ProtoJson.MAPPER.createObjectNode();
    systemInstruction(body).ifPresent(request::addMessages);
    new Conversation(request).read(body);
    tools(body, request);
    toolConfig(body, request);
    GenerationSettings.Builder settings = GenerationSettings.newBuilder();
    if (present(body, "generationConfig")) {
      generationConfig(camelCase(body.get("generationConfig"), "generationConfig"), settings, request,
          providerOptions);
    }
    if (present(body, "safetySettings")) {
      array(body, "safetySettings", ""); // an array, whose entries Gemini checks
      providerOptions.set("safetySettings", body.get("safetySettings"));
    }
    if (!providerOptions.isEmpty()) {
      settings.setProviderOptions(ProtoJson.toStruct(providerOptions));
    }
    if (!settings.build().equals(GenerationSettings.getDefaultInstance())) {
      request.setSettings(settings); // as a gRPC request without settings has none: the same cassette key
    }
    return request.build();
  }

  private static Optional<Message> systemInstruction(ObjectNode body) {
    if (!present(body, "systemInstruction")) {
      return Optional.empty();
    }
    ObjectNode instruction = camelCase(body.get("systemInstruction"), "systemInstruction");
    onlyKnown(instruction, "systemInstruction", Set.of("role", "parts"));
    text(instruction, "role", "systemInstruction"); // SDKs label it `user`; Gemini ignores it
    Message.Builder system = Message.newBuilder().setRole(Role.ROLE_SYSTEM);
    List<JsonNode> parts = array(instruction, "parts", "systemInstruction");
    for (int i = 0; i < parts.size(); i++) {
      String at = "systemInstruction.parts[" + i + "]";
      ObjectNode part = camelCase(parts.get(i), at);
      onlyKnown(part, at, Set.of("text"));
      system.addParts(Part.newBuilder().setText(requiredText(part, "text", at)));
    }
    if (system.getPartsCount() == 0) {
      throw invalid("systemInstruction.parts", "must hold at least one text part");
    }
    return Optional.of(system.build());
  }

  /** The contents, read in order, with the function calls of the latest model turn that await their results. */
  private static final class Conversation {

    private final ChatRequest.Builder request;
    private final Set<String> callIds = new HashSet<>();
    private final List<ToolCall> unanswered = new ArrayList<>();
    private Turn modelTurn;

    Conversation(ChatRequest.Builder request) {
      this.request = request;
    }

    void read(ObjectNode body) {
      if (!body.has("contents")) {
        throw invalid("contents", "is required: the conversation, as [{\"role\": \"user\", \"parts\": [{\"text\": "
            + "\"...\"}]}]");
      }
      List<JsonNode> contents = array(body, "contents", "");
      if (contents.isEmpty()) {
        throw invalid("contents", "must hold at least one content");
      }
      for (int c = 0; c < contents.size(); c++) {
        String at = "contents[" + c + "]";
        ObjectNode content = camelCase(contents.get(c), at);
        onlyKnown(content, at, Set.of("role", "parts"));
        String role = text(content, "role", at).orElse("user");
        List<JsonNode> parts = array(content, "parts", at);
        if (parts.isEmpty()) {
          throw invalid(at + ".parts", "must hold at least one part");
        }
        switch (role) {
          case "user" -> {
            endModelTurn();
            userContent(parts, at);
          }
          case "model" -> {
            if (modelTurn == null) {
              unanswered.clear();
              modelTurn = new Turn(c);
            }
            for (int p = 0; p < parts.size(); p++) {
              modelPart(camelCase(parts.get(p), at + ".parts[" + p + "]"), at + ".parts[" + p + "]");
            }
          }
          default -> throw invalid(at + ".role", "must be user or model, not " + quote(role));
        }
      }
      endModelTurn();
    }

    /** A user content: its runs of function responses become tool messages, the rest user messages, in order. */
    private void userContent(List<JsonNode> parts, String at) {
      Message.Builder user = null;
      for (int p = 0; p < parts.size(); p++) {
        String partAt = at + ".parts[" + p + "]";
        ObjectNode part = camelCase(parts.get(p), partAt);
        String kind = kindOf(part, partAt);
        if (present(part, "thought") || present(part, "thoughtSignature")) {
          throw invalid(partAt + (present(part, "thought") ? ".thought" : ".thoughtSignature"),
              "only model contents carry thoughts");
        }
        switch (kind) {
          case "functionResponse" -> {
            if (user != null) {
              request.addMessages(user);
              user = null;
            }
            request.addMessages(toolResult(camelCase(part.get(kind), partAt + "." + kind), partAt + "." + kind));
          }
          case "functionCall" -> throw invalid(partAt + ".functionCall", "function calls come from the model: "
              + "put them in a content of role model");
          default -> {
            if (user == null) {
              user = Message.newBuilder().setRole(Role.ROLE_USER);
            }
            user.addParts(userPart(part, kind, partAt));
          }
        }
      }
      if (user != null) {
        request.addMessages(user);
      }
    }

    private static Part userPart(ObjectNode part, String kind, String at) {
      return switch (kind) {
        case "text" -> Part.newBuilder().setText(requiredText(part, "text", at)).build();
        case "inlineData" -> {
          String dataAt = at + ".inlineData";
          ObjectNode data = camelCase(part.get(kind), dataAt);
          onlyKnown(data, dataAt, Set.of("mimeType", "data"));
          String mimeType = requiredText(data, "mimeType", dataAt);
          var bytes = DialectValues.base64(requiredText(data, "data", dataAt), dataAt + ".data");
          if (mimeType.startsWith("image/")) {
            yield Part.newBuilder().setImage(Image.newBuilder().setMimeType(mimeType).setData(bytes)).build();
          }
          if (!mimeType.equals("application/pdf")) {
            throw invalid(dataAt + ".mimeType", "must be an image type (image/png...) or application/pdf, not "
                + quote(mimeType));
          }
          yield Part.newBuilder().setDocument(Document.newBuilder().setMimeType(mimeType).setData(bytes)).build();
        }
        case "fileData" -> {
          String fileAt = at + ".fileData";
          ObjectNode file = camelCase(part.get(kind), fileAt);
          onlyKnown(file, fileAt, Set.of("mimeType", "fileUri"));
          String mimeType = text(file, "mimeType", fileAt).orElse("");
          if (!mimeType.isEmpty() && !mimeType.startsWith("image/")) {
            throw invalid(fileAt + ".mimeType", "only images are sent by URL, not " + quote(mimeType)
                + ": send a PDF as inlineData");
          }
          Image url = DialectValues.image(requiredText(file, "fileUri", fileAt), fileAt + ".fileUri");
          if (url.hasData()) {
            throw invalid(fileAt + ".fileUri", "must be an http(s) URL: send inline bytes as inlineData");
          }
          yield Part.newBuilder().setImage(url.toBuilder().setMimeType(mimeType)).build();
        }
        default -> throw new IllegalStateException(kind);
      };
    }

    /** One part of a model content: text, a thought, or a function call, any of them with a thought signature. */
    private void modelPart(ObjectNode part, String at) {
      String kind = kindOf(part, at);
      String signature = text(part, "thoughtSignature", at).orElse("");
      boolean thought = bool(part, "thought", at).orElse(false);
      if (thought && !kind.equals("text")) {
        throw invalid(at + ".thought", "marks text parts only");
      }
      switch (kind) {
        case "text" -> {
          String text = requiredText(part, "text", at);
          (thought ? modelTurn.thoughts : modelTurn.text).append(text);
        }
        case "functionCall" -> {
          ToolCall call = functionCall(camelCase(part.get(kind), at + ".functionCall"), at + ".functionCall");
          modelTurn.message.addToolCalls(call);
          unanswered.add(call);
        }
        default -> throw invalid(at + "." + kind, "a model content holds text, thoughts and function calls; "
            + (kind.equals("functionResponse") ? "function responses go in a content of role user"
            : "images and files go in a content of role user"));
      }
      // As the adapter reads an answer: the first function call's signature, or else the last one.
      if (!signature.isEmpty() && !modelTurn.signatureFromCall) {
        modelTurn.signature = signature;
        modelTurn.signatureFromCall = kind.equals("functionCall");
      }
    }

    private ToolCall functionCall(ObjectNode call, String at) {
      onlyKnown(call, at, Set.of("name", "args", "id"));
      String id = text(call, "id", at).filter(given -> !given.isEmpty())
          .orElse("call_" + modelTurn.content + "_" + modelTurn.message.getToolCallsCount());
      if (!callIds.add(id)) {
        throw invalid(at + ".id", quote(id) + " names another function call of the conversation too");
      }
      String arguments = "{}";
      if (present(call, "args")) {
        arguments = JsonFields.object(call.get("args"), at + ".args").toString();
      }
      return ToolCall.newBuilder().setId(id).setName(requiredText(call, "name", at)).setArgumentsJson(arguments)
          .build();
    }

    private Message toolResult(ObjectNode response, String at) {
      onlyKnown(response, at, Set.of("name", "response", "id"));
      String name = requiredText(response, "name", at);
      String id = text(response, "id", at).orElse("");
      ToolCall call = unanswered.stream()
          .filter(c -> id.isEmpty() ? c.getName().equals(name) : c.getId().equals(id)).findFirst()
          .orElseThrow(() -> invalid(at, (id.isEmpty() ? "answers no function call named " + quote(name)
              : "answers no function call with id " + quote(id)) + " of the model content before it"));
      if (!call.getName().equals(name)) {
        throw invalid(at + ".name", "is " + quote(name) + ", but the call with id " + quote(id) + " is to "
            + quote(call.getName()));
      }
      unanswered.remove(call);
      if (!response.has("response")) {
        throw invalid(at + ".response", "is required: the function's result, as an object such as "
            + "{\"result\": ...}");
      }
      ObjectNode result = JsonFields.object(response.get("response"), at + ".response");
      return Message.newBuilder().setRole(Role.ROLE_TOOL).setToolCallId(call.getId())
          .addParts(Part.newBuilder().setText(resultText(result))).build();
    }

    private void endModelTurn() {
      if (modelTurn != null) {
        request.addMessages(modelTurn.build());
        modelTurn = null;
      }
    }
  }

  /** The consecutive model contents of one assistant turn, as the router assembles an answer. */
  private static final class Turn {

    final int content;
    final Message.Builder message = Message.newBuilder().setRole(Role.ROLE_ASSISTANT);
    final StringBuilder thoughts = new StringBuilder();
    final StringBuilder text = new StringBuilder();
    String signature = "";
    boolean signatureFromCall;

    Turn(int content) {
      this.content = content;
    }

    Message build() {
      List<Part> parts = new ArrayList<>();
      if (thoughts.length() > 0 || !signature.isEmpty()) {
        parts.add(Part.newBuilder().setReasoning(Reasoning.newBuilder().setText(thoughts.toString())
            .setSignature(signature).setProvider(signature.isEmpty() ? "" : PROVIDER_TYPE)).build());
      }
      if (text.length() > 0) {
        parts.add(Part.newBuilder().setText(text.toString()).build());
      }
      return message.addAllParts(parts).build();
    }
  }

  /**
   * A result the adapter sent as `{"result": <value>}` is that value's text (a JSON object or array as JSON); any
   * other response object is its JSON text.
   */
  private static String resultText(ObjectNode response) {
    if (response.size() == 1 && response.has("result")) {
      JsonNode result = response.get("result");
      return result.isTextual() ? result.textValue() : result.toString();
    }
    return response.toString();
  }

  /** The one kind of content a part holds. */
  private static String kindOf(ObjectNode part, String at) {
    onlyKnown(part, at, PART);
    List<String> kinds = PART_KINDS.stream().filter(kind -> present(part, kind)).toList();
    if (kinds.size() != 1) {
      throw invalid(at, (kinds.isEmpty() ? "holds nothing" : "holds " + kinds) + ": a part holds exactly one of "
          + PART_KINDS);
    }
    return kinds.get(0);
  }

  private static void tools(ObjectNode body, ChatRequest.Builder request) {
    List<JsonNode> tools = array(body, "tools", "");
    for (int t = 0; t < tools.size(); t++) {
      String at = "tools[" + t + "]";
      ObjectNode tool = camelCase(tools.get(t), at);
      Iterator<String> names = tool.fieldNames();
      while (names.hasNext()) {
        String name = names.next();
        if (!name.equals("functionDeclarations")) {
          throw invalid(path(at, name), "Gemini's built-in tools (googleSearch, codeExecution, urlContext...) run "
              + "only at Google, and the router may send the call to any provider: it carries "
              + "functionDeclarations only");
        }
      }
      List<JsonNode> declarations = array(tool, "functionDeclarations", at);
      for (int d = 0; d < declarations.size(); d++) {
        String declarationAt = at + ".functionDeclarations[" + d + "]";
        request.addTools(functionDeclaration(camelCase(declarations.get(d), declarationAt), declarationAt));
      }
    }
  }

  private static Tool functionDeclaration(ObjectNode declaration, String at) {
    onlyKnown(declaration, at, Set.of("name", "description", "parameters", "parametersJsonSchema"));
    Tool.Builder tool = Tool.newBuilder().setName(requiredText(declaration, "name", at));
    text(declaration, "description", at).ifPresent(tool::setDescription);
    if (present(declaration, "parameters") && present(declaration, "parametersJsonSchema")) {
      throw invalid(at + ".parameters", "give either parameters or parametersJsonSchema, not both");
    }
    if (present(declaration, "parametersJsonSchema")) {
      tool.setParameters(ProtoJson.toStruct(JsonFields.object(declaration.get("parametersJsonSchema"),
          at + ".parametersJsonSchema")));
    } else if (present(declaration, "parameters")) {
      tool.setParameters(ProtoJson.toStruct(jsonSchema(JsonFields.object(declaration.get("parameters"),
          at + ".parameters"))));
    }
    return tool.build();
  }

  /**
   * A schema of Gemini's OpenAPI subset (`parameters`, `responseSchema`) as the JSON Schema the router carries: its
   * type names (`OBJECT`, `STRING`, as the SDKs' Type enum writes them) in lower case.
   */
  private static ObjectNode jsonSchema(ObjectNode openApi) {
    ObjectNode schema = openApi.deepCopy();
    lowerCaseTypes(schema);
    return schema;
  }

  private static void lowerCaseTypes(JsonNode schema) {
    if (schema instanceof ObjectNode object) {
      object.fields().forEachRemaining(field -> {
        if (field.getKey().equals("type") && field.getValue().isTextual()) {
          field.setValue(TextNode.valueOf(field.getValue().textValue().toLowerCase(Locale.ROOT)));
        } else {
          lowerCaseTypes(field.getValue());
        }
      });
    } else if (schema instanceof ArrayNode array) {
      array.forEach(GenerateContentReader::lowerCaseTypes);
    }
  }

  /**
   * `functionCallingConfig` as the tool choice: ANY with one allowed function is that tool, ANY with all of them
   * (or none named) is required; a subset of several cannot be said in the neutral request.
   */
  private static void toolConfig(ObjectNode body, ChatRequest.Builder request) {
    if (!present(body, "toolConfig")) {
      return;
    }
    ObjectNode toolConfig = camelCase(body.get("toolConfig"), "toolConfig");
    onlyKnown(toolConfig, "toolConfig", Set.of("functionCallingConfig"));
    if (!present(toolConfig, "functionCallingConfig")) {
      return;
    }
    String at = "toolConfig.functionCallingConfig";
    ObjectNode config = camelCase(toolConfig.get("functionCallingConfig"), at);
    onlyKnown(config, at, Set.of("mode", "allowedFunctionNames"));
    String mode = text(config, "mode", at).orElse("MODE_UNSPECIFIED");
    List<String> allowed = new ArrayList<>();
    for (JsonNode name : array(config, "allowedFunctionNames", at)) {
      if (!name.isTextual()) {
        throw invalid(at + ".allowedFunctionNames", "must be an array of function names");
      }
      allowed.add(name.textValue());
    }
    if (!allowed.isEmpty() && !mode.equals("ANY")) {
      throw invalid(at + ".allowedFunctionNames", "goes with mode ANY only, not " + quote(mode));
    }
    ToolChoice.Builder choice = ToolChoice.newBuilder();
    switch (mode) {
      case "MODE_UNSPECIFIED" -> {
        return;
      }
      case "AUTO" -> choice.setMode(ToolChoiceMode.TOOL_CHOICE_MODE_AUTO);
      case "NONE" -> choice.setMode(ToolChoiceMode.TOOL_CHOICE_MODE_NONE);
      case "ANY" -> {
        Set<String> declared = new TreeSet<>();
        request.getToolsList().forEach(tool -> declared.add(tool.getName()));
        if (allowed.size() == 1) {
          choice.setToolName(allowed.get(0));
        } else if (allowed.isEmpty() || new TreeSet<>(allowed).equals(declared)) {
          choice.setMode(ToolChoiceMode.TOOL_CHOICE_MODE_REQUIRED);
        } else {
          throw invalid(at + ".allowedFunctionNames", "the router can require one function or any of them, not "
              + "a choice among " + allowed.size() + " of the " + declared.size() + " declared");
        }
      }
      default -> throw invalid(at + ".mode", "must be AUTO, ANY or NONE, not " + quote(mode));
    }
    request.setToolChoice(choice);
  }

  private static void generationConfig(ObjectNode config, GenerationSettings.Builder settings,
      ChatRequest.Builder request, ObjectNode providerOptions) {
    String at = "generationConfig";
    onlyKnown(config, at, GENERATION_CONFIG);
    number(config, "temperature", at).ifPresent(settings::setTemperature);
    number(config, "topP", at).ifPresent(settings::setTopP);
    integer(config, "maxOutputTokens", at, 1, Integer.MAX_VALUE).ifPresent(max -> settings.setMaxOutputTokens(
        (int) max));
    for (JsonNode stop : array(config, "stopSequences", at)) {
      if (!stop.isTextual()) {
        throw invalid(at + ".stopSequences", "must be an array of strings");
      }
      settings.addStopSequences(stop.textValue());
    }
    integer(config, "seed", at, Integer.MIN_VALUE, Integer.MAX_VALUE).ifPresent(settings::setSeed);
    number(config, "presencePenalty", at).ifPresent(settings::setPresencePenalty);
    number(config, "frequencyPenalty", at).ifPresent(settings::setFrequencyPenalty);
    if (integer(config, "candidateCount", at, 1, Integer.MAX_VALUE).orElse(1) != 1) {
      throw invalid(at + ".candidateCount", "the router returns one candidate per call: leave it at 1");
    }
    for (JsonNode modality : array(config, "responseModalities", at)) {
      if (!modality.isTextual() || !modality.textValue().equalsIgnoreCase("TEXT")) {
        throw invalid(at + ".responseModalities", "the router answers in text only, not " + modality);
      }
    }
    responseFormat(config, request);
    // Gemini's own sampling option, which the neutral settings do not name (its range is Gemini's to check).
    if (present(config, "topK")) {
      number(config, "topK", at);
      providerOptions.putObject("generationConfig").set("topK", config.get("topK"));
    }
    if (present(config, "thinkingConfig")) {
      ObjectNode thinking = camelCase(config.get("thinkingConfig"), at + ".thinkingConfig");
      ReasoningEffort effort = effortOf(thinking);
      if (effort != null) {
        settings.setReasoningEffort(effort);
      } else {
        ObjectNode options = providerOptions.has("generationConfig")
            ? (ObjectNode) providerOptions.get("generationConfig") : providerOptions.putObject("generationConfig");
        options.set("thinkingConfig", thinking);
      }
    }
  }

  /**
   * The effort the adapter sends as this thinking config, if it is one: the reasoning efforts reach every provider,
   * while another budget (0 to switch thinking off, -1 for dynamic) or hidden thoughts are Gemini's alone.
   */
  private static ReasoningEffort effortOf(ObjectNode thinking) {
    if (thinking.size() != 2 || !thinking.path("includeThoughts").isBoolean()
        || !thinking.get("includeThoughts").booleanValue() || !thinking.path("thinkingBudget").canConvertToLong()
        || !thinking.get("thinkingBudget").isIntegralNumber()) {
      return null;
    }
    return EFFORT_OF_BUDGET.get(thinking.get("thinkingBudget").longValue());
  }

  private static void responseFormat(ObjectNode config, ChatRequest.Builder request) {
    String at = "generationConfig";
    String mimeType = text(config, "responseMimeType", at).orElse("text/plain");
    boolean schema = present(config, "responseSchema") || present(config, "responseJsonSchema");
    switch (mimeType) {
      case "text/plain" -> {
        if (schema) {
          throw invalid(at + ".responseMimeType", "must be application/json with a response schema");
        }
      }
      case "application/json" -> {
        if (present(config, "responseSchema") && present(config, "responseJsonSchema")) {
          throw invalid(at + ".responseSchema", "give either responseSchema or responseJsonSchema, not both");
        }
        ResponseFormat.Builder format = ResponseFormat.newBuilder();
        if (present(config, "responseJsonSchema")) {
          format.setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA).setSchema(ProtoJson.toStruct(
              JsonFields.object(config.get("responseJsonSchema"), at + ".responseJsonSchema")));
        } else if (present(config, "responseSchema")) {
          format.setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA).setSchema(ProtoJson.toStruct(
              jsonSchema(JsonFields.object(config.get("responseSchema"), at + ".responseSchema"))));
        } else {
          format.setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_OBJECT);
        }
        request.setResponseFormat(format);
      }
      default -> throw invalid(at + ".responseMimeType", "must be text/plain or application/json, not "
          + quote(mimeType));
    }
  }

  /**
   * The object with its snake_case field names in camelCase, as Gemini's REST API reads both; the values (schemas,
   * arguments) are left as they are.
   */
  private static ObjectNode camelCase(JsonNode node, String at) {
    ObjectNode object = JsonFields.object(node, at);
    Iterator<String> names = object.fieldNames();
    boolean snake = false;
    while (names.hasNext() && !snake) {
      snake = names.next().indexOf('_') > 0;
    }
    if (!snake) {
      return object;
    }
    ObjectNode camel = object.objectNode();
    object.fields().forEachRemaining(field -> {
      String name = camelCase(field.getKey());
      if (camel.has(name)) {
        throw invalid(path(at, field.getKey()), "is given twice, as " + name + " and " + field.getKey());
      }
      camel.set(name, field.getValue());
    });
    return camel;
  }

  private static String camelCase(String name) {
    StringBuilder camel = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '_' && i > 0 && i + 1 < name.length()) {
        camel.append(Character.toUpperCase(name.charAt(++i)));
      } else {
        camel.append(c);
      }
    }
    return camel.toString();
  }

}
