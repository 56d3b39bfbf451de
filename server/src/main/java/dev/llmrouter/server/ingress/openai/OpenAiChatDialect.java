package dev.llmrouter.server.ingress.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.ingress.Dialect;
import dev.llmrouter.server.ingress.DialectCall;
import dev.llmrouter.server.ingress.HttpStatuses;
import dev.llmrouter.server.ingress.openai.internal.ChatCompletionsRequestReader;
import dev.llmrouter.server.ingress.openai.internal.ChatCompletionsWriter;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.Locale;

/** OpenAI Chat Completions (`POST /v1/chat/completions`, `GET /v1/models`), as the `openai` SDKs speak it. */
public final class OpenAiChatDialect implements Dialect {

  @Override
  public DialectCall read(HttpServerRequest request, JsonNode body) {
    ChatCompletionsRequestReader.Read read = ChatCompletionsRequestReader.read(body);
    return new DialectCall(read.request(), read.stream(), new ChatCompletionsWriter(read.includeUsage()));
  }

  @Override
  public ObjectNode models(List<Model> models) {
    ObjectNode list = ProtoJson.MAPPER.createObjectNode().put("object", "list");
    ArrayNode data = list.putArray("data");
    for (Model model : models) {
      data.addObject().put("id", model.getName()).put("object", "model").put("created", 0)
          .put("owned_by", model.getProvider().isEmpty() ? "llm-router" : model.getProvider());
    }
    return list;
  }

  /** `{"error": {"message", "type", "param", "code"}}`, the shape the SDK turns into its typed errors. */
  @Override
  public ObjectNode error(CallError error, int httpStatus) {
    return errorBody(error, httpStatus);
  }

  /** The error body of both OpenAI dialects. */
  public static ObjectNode errorBody(CallError error, int httpStatus) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    ObjectNode inner = body.putObject("error").put("message", error.getMessage()).put("type", type(httpStatus));
    String param = HttpStatuses.field(error).orElse(null);
    if (param == null) {
      inner.putNull("param");
    } else {
      inner.put("param", param);
    }
    inner.put("code", HttpStatuses.reason(error).orElse(error.status().name()).toLowerCase(Locale.ROOT));
    return body;
  }

  private static String type(int httpStatus) {
    return switch (httpStatus) {
      case 400, 404, 409, 413 -> "invalid_request_error";
      case 401 -> "authentication_error";
      case 403 -> "permission_error";
      case 429 -> "rate_limit_error";
      default -> httpStatus >= 500 ? "server_error" : "invalid_request_error";
    };
  }
}
