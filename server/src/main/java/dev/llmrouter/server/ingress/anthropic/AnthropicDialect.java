package dev.llmrouter.server.ingress.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.ingress.Dialect;
import dev.llmrouter.server.ingress.DialectCall;
import dev.llmrouter.server.ingress.HttpStatuses;
import dev.llmrouter.server.ingress.anthropic.internal.MessagesRequestReader;
import dev.llmrouter.server.ingress.anthropic.internal.MessagesWriter;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;

/**
 * Anthropic Messages (`POST /v1/messages`, and `GET /v1/models` with an `anthropic-version` header), as the
 * `anthropic` SDKs speak it (base URL `http://HOST:PORT`).
 */
public final class AnthropicDialect implements Dialect {

  /** When the router lists its models: it keeps no creation date, so every model has the epoch. */
  private static final String CREATED_AT = "1970-01-01T00:00:00Z";

  @Override
  public DialectCall read(HttpServerRequest request, JsonNode body) {
    MessagesRequestReader.Read read = MessagesRequestReader.read(body);
    return new DialectCall(read.request(), read.stream(), new MessagesWriter());
  }

  /** `{"data": [{"type": "model", "id", "display_name", "created_at"}], "has_more", "first_id", "last_id"}`. */
  @Override
  public ObjectNode models(List<Model> models) {
    ObjectNode list = ProtoJson.MAPPER.createObjectNode();
    ArrayNode data = list.putArray("data");
    for (Model model : models) {
      data.addObject().put("type", "model").put("id", model.getName()).put("display_name", model.getName())
          .put("created_at", CREATED_AT);
    }
    list.put("has_more", false);
    if (models.isEmpty()) {
      list.putNull("first_id").putNull("last_id");
    } else {
      list.put("first_id", models.get(0).getName()).put("last_id", models.get(models.size() - 1).getName());
    }
    return list;
  }

  /** An overloaded upstream is Anthropic's own 529, which the SDK turns into its `OverloadedError`. */
  @Override
  public int status(CallError error) {
    return HttpStatuses.overloaded(error) ? HttpStatuses.OVERLOADED : HttpStatuses.of(error);
  }

  /** `{"type": "error", "error": {"type", "message"}}`, with the types Anthropic documents for each status. */
  @Override
  public ObjectNode error(CallError error, int httpStatus) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode().put("type", "error");
    body.putObject("error").put("type", type(httpStatus)).put("message", error.getMessage());
    return body;
  }

  private static String type(int httpStatus) {
    return switch (httpStatus) {
      case 401 -> "authentication_error";
      case 403 -> "permission_error";
      case 404 -> "not_found_error";
      case 413 -> "request_too_large";
      case 429 -> "rate_limit_error";
      case 504 -> "timeout_error";
      case HttpStatuses.OVERLOADED -> "overloaded_error";
      default -> httpStatus >= 500 ? "api_error" : "invalid_request_error";
    };
  }
}
