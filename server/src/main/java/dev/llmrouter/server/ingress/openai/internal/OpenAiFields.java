package dev.llmrouter.server.ingress.openai.internal;

import static dev.llmrouter.server.ingress.JsonFields.bool;
import static dev.llmrouter.server.ingress.JsonFields.invalid;
import static dev.llmrouter.server.ingress.JsonFields.optionalObject;
import static dev.llmrouter.server.ingress.JsonFields.present;
import static dev.llmrouter.server.ingress.JsonFields.requiredText;
import static dev.llmrouter.server.ingress.JsonFields.text;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.Document;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.ReasoningEffort;
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.ResponseFormatType;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolChoice;
import dev.llmrouter.api.v1.ToolChoiceMode;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.ingress.DialectValues;

/**
 * The pieces of a request that OpenAI's Chat Completions and Responses APIs spell the same way, though at different
 * places: a function's declaration, a JSON schema format, a reasoning effort, a tool choice mode, a file's data.
 */
final class OpenAiFields {

  private OpenAiFields() {
  }

  /** A function tool from the object holding its `name`, `description`, `parameters` and `strict`. */
  static Tool function(ObjectNode function, String at) {
    Tool.Builder tool = Tool.newBuilder().setName(requiredText(function, "name", at));
    text(function, "description", at).ifPresent(tool::setDescription);
    optionalObject(function, "parameters", at).ifPresent(p -> tool.setParameters(ProtoJson.toStruct(p)));
    bool(function, "strict", at).ifPresent(tool::setStrict);
    return tool.build();
  }

  /** A JSON schema format from the object holding its `name`, `schema` and `strict`. */
  static ResponseFormat jsonSchema(ObjectNode format, String at) {
    ResponseFormat.Builder built = ResponseFormat.newBuilder()
        .setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA).setSchemaName(requiredText(format, "name", at));
    optionalObject(format, "schema", at).ifPresent(s -> built.setSchema(ProtoJson.toStruct(s)));
    bool(format, "strict", at).ifPresent(built::setStrict);
    return built.build();
  }

  static ReasoningEffort reasoningEffort(String effort, String field) {
    return switch (effort) {
      case "minimal" -> ReasoningEffort.REASONING_EFFORT_MINIMAL;
      case "low" -> ReasoningEffort.REASONING_EFFORT_LOW;
      case "medium" -> ReasoningEffort.REASONING_EFFORT_MEDIUM;
      case "high" -> ReasoningEffort.REASONING_EFFORT_HIGH;
      default -> throw invalid(field, "must be minimal, low, medium or high, not '" + effort + "'");
    };
  }

  /** `auto`, `none` or `required`; {@code namedForm} is how this API names one tool, for the error message. */
  static ToolChoice toolChoiceMode(String mode, String field, String namedForm) {
    return ToolChoice.newBuilder().setMode(switch (mode) {
      case "auto" -> ToolChoiceMode.TOOL_CHOICE_MODE_AUTO;
      case "none" -> ToolChoiceMode.TOOL_CHOICE_MODE_NONE;
      case "required" -> ToolChoiceMode.TOOL_CHOICE_MODE_REQUIRED;
      default -> throw invalid(field, "must be auto, none, required or " + namedForm + ", not '" + mode + "'");
    }).build();
  }

  /** A document from the object holding its `file_data` (a base64 data: URL) and `filename`. */
  static Document file(ObjectNode file, String at) {
    if (present(file, "file_id")) {
      throw invalid(at + ".file_id", "files uploaded to OpenAI cannot be sent to other providers: send the file as "
          + "file_data (a base64 data: URL)");
    }
    Image data = DialectValues.image(requiredText(file, "file_data", at), at + ".file_data");
    if (!data.hasData()) {
      throw invalid(at + ".file_data", "must be a base64 data: URL");
    }
    return Document.newBuilder().setData(data.getData()).setMimeType(data.getMimeType())
        .setTitle(text(file, "filename", at).orElse("")).build();
  }
}
