package dev.llmrouter.server.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.rpc.BadRequest;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ResponseFormatType;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.route.RoutePlanner;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a request before anything is sent upstream, and plans its targets on the way. Every problem is reported at
 * once, each naming its field (`messages[2].tool_call_id`), in a `google.rpc.BadRequest` under INVALID_ARGUMENT.
 */
public final class ChatRequestValidator {

  private final LiveSettings settings;

  public ChatRequestValidator(LiveSettings settings) {
    this.settings = settings;
  }

  /**
   * Checks a request against the routes of the moment (a Converse session's settings, which no call runs on yet).
   *
   * @return the targets of the request's model, in the order to try them
   * @throws CallError INVALID_ARGUMENT listing every violation
   */
  public List<RoutePlanner.Target> validate(ChatRequest request) {
    return validate(request, settings.current().routes());
  }

  /** As above, against the routes a call runs on. */
  List<RoutePlanner.Target> validate(ChatRequest request, RoutePlanner routes) {
    BadRequest.Builder violations = BadRequest.newBuilder();
    Optional<List<RoutePlanner.Target>> plan = model(request.getModel(), routes, violations);
    if (request.getMessagesCount() == 0) {
      add(violations, "messages", "at least one message is required");
    }
    Set<String> toolCallIds = new HashSet<>();
    for (int i = 0; i < request.getMessagesCount(); i++) {
      Message message = request.getMessages(i);
      message(message, "messages[" + i + "]", violations);
      message.getToolCallsList().forEach(call -> toolCallIds.add(call.getId()));
      if (message.getRole() == Role.ROLE_TOOL && !message.getToolCallId().isEmpty()
          && !toolCallIds.contains(message.getToolCallId())) {
        add(violations, "messages[" + i + "].tool_call_id", CallError.quote(message.getToolCallId())
            + " answers no tool call of an earlier assistant message");
      }
    }
    Set<String> toolNames = new HashSet<>();
    for (int i = 0; i < request.getToolsCount(); i++) {
      Tool tool = request.getTools(i);
      String at = "tools[" + i + "]";
      if (!tool.getName().matches("[a-zA-Z0-9_-]{1,64}")) {
        add(violations, at + ".name", "must be 1 to 64 letters, digits, '_' or '-', not "
            + CallError.quote(tool.getName()));
      } else if (!toolNames.add(tool.getName())) {
        add(violations, at + ".name", CallError.quote(tool.getName()) + " is declared twice");
      }
      if (tool.hasParameters()) {
        JsonSchemaCheck.problem(tool.getParameters(), at + ".parameters")
            .ifPresent(violations::addFieldViolations);
      }
    }
    if (request.getToolChoice().hasToolName() && !toolNames.contains(request.getToolChoice().getToolName())) {
      add(violations, "tool_choice.tool_name", "names no declared tool: "
          + CallError.quote(request.getToolChoice().getToolName()));
    }
    if (request.getResponseFormat().getType() == ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA) {
      if (!request.getResponseFormat().hasSchema()) {
        add(violations, "response_format.schema", "is required with RESPONSE_FORMAT_TYPE_JSON_SCHEMA");
      } else {
        JsonSchemaCheck.problem(request.getResponseFormat().getSchema(), "response_format.schema")
            .ifPresent(violations::addFieldViolations);
      }
    }
    settings(request.getSettings(), violations);
    if (violations.getFieldViolationsCount() > 0) {
      throw CallError.badRequest(violations.build());
    }
    return plan.orElseThrow();
  }

  /** The targets of a model name; a violation of `model` when it is empty or names no provider or alias. */
  static Optional<List<RoutePlanner.Target>> model(String model, RoutePlanner routes,
      BadRequest.Builder violations) {
    if (model.isEmpty()) {
      add(violations, "model", "is required, as <provider>/<model> (for example openai/gpt-4o-mini)");
      return Optional.empty();
    }
    Optional<List<RoutePlanner.Target>> plan = routes.plan(model);
    if (plan.isEmpty()) {
      add(violations, "model", CallError.quote(model) + " names no configured provider or alias; use <provider>/<model> or an "
          + "alias, with one of " + routes.names());
    }
    return plan;
  }

  private static void message(Message message, String at, BadRequest.Builder violations) {
    if (message.getRole() == Role.ROLE_UNSPECIFIED || message.getRole() == Role.UNRECOGNIZED) {
      add(violations, at + ".role", "is required: ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT or ROLE_TOOL");
    }
    if (message.getRole() == Role.ROLE_TOOL && message.getToolCallId().isEmpty()) {
      add(violations, at + ".tool_call_id", "is required on a tool message: the id of the tool call it answers");
    }
    if (message.getRole() != Role.ROLE_ASSISTANT && message.getToolCallsCount() > 0) {
      add(violations, at + ".tool_calls", "only assistant messages carry tool calls");
    }
    if (message.getPartsCount() == 0 && message.getToolCallsCount() == 0) {
      add(violations, at + ".parts", "a message needs at least one part (or, for the assistant, a tool call)");
    }
    for (int j = 0; j < message.getPartsCount(); j++) {
      part(message.getParts(j), at + ".parts[" + j + "]", violations);
    }
    for (int j = 0; j < message.getToolCallsCount(); j++) {
      ToolCall call = message.getToolCalls(j);
      String callAt = at + ".tool_calls[" + j + "]";
      if (call.getId().isEmpty()) {
        add(violations, callAt + ".id", "is required: tool messages answer the call by this id");
      }
      if (call.getName().isEmpty()) {
        add(violations, callAt + ".name", "is required");
      }
      if (!call.getArgumentsJson().isEmpty()) {
        try {
          JsonNode arguments = ProtoJson.MAPPER.readTree(call.getArgumentsJson());
          if (!arguments.isObject()) {
            add(violations, callAt + ".arguments_json", "must be a JSON object, like {\"city\":\"Paris\"}");
          }
        } catch (JsonProcessingException e) {
          add(violations, callAt + ".arguments_json", "is not valid JSON: " + e.getOriginalMessage());
        }
      }
    }
  }

  private static void part(Part part, String at, BadRequest.Builder violations) {
    switch (part.getKindCase()) {
      case KIND_NOT_SET -> add(violations, at, "is empty: set text, image, document, reasoning or refusal");
      case IMAGE -> {
        if (!part.getImage().hasData() && !part.getImage().hasUrl()) {
          add(violations, at + ".image", "needs data or url");
        } else if (part.getImage().hasData() && !part.getImage().getMimeType().startsWith("image/")) {
          add(violations, at + ".image.mime_type", "is required with data, for example image/png");
        }
      }
      case DOCUMENT -> {
        if (part.getDocument().getData().isEmpty()) {
          add(violations, at + ".document.data", "is required");
        }
        if (part.getDocument().getMimeType().isEmpty()) {
          add(violations, at + ".document.mime_type", "is required, for example application/pdf");
        }
      }
      default -> {
      }
    }
  }

  private static void settings(GenerationSettings s, BadRequest.Builder violations) {
    if (s.hasTemperature() && !(s.getTemperature() >= 0 && s.getTemperature() <= 2)) {
      add(violations, "settings.temperature", "must be from 0 to 2, not " + s.getTemperature());
    }
    if (s.hasTopP() && !(s.getTopP() >= 0 && s.getTopP() <= 1)) {
      add(violations, "settings.top_p", "must be from 0 to 1, not " + s.getTopP());
    }
    if (s.hasMaxOutputTokens() && s.getMaxOutputTokens() < 1) {
      add(violations, "settings.max_output_tokens", "must be at least 1, not " + s.getMaxOutputTokens());
    }
    if (s.hasPresencePenalty() && !(s.getPresencePenalty() >= -2 && s.getPresencePenalty() <= 2)) {
      add(violations, "settings.presence_penalty", "must be from -2 to 2, not " + s.getPresencePenalty());
    }
    if (s.hasFrequencyPenalty() && !(s.getFrequencyPenalty() >= -2 && s.getFrequencyPenalty() <= 2)) {
      add(violations, "settings.frequency_penalty", "must be from -2 to 2, not " + s.getFrequencyPenalty());
    }
  }

  static void add(BadRequest.Builder violations, String field, String description) {
    violations.addFieldViolations(BadRequest.FieldViolation.newBuilder().setField(field).setDescription(description));
  }
}
