package dev.llmrouter.server.ingress;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.server.answer.CallError;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;

/**
 * One provider API's HTTP dialect, as SDKs speak it: its requests read into the neutral `ChatRequest`, and its
 * answers, streams, model lists and errors written back in its own shapes. A dialect only maps: the call itself
 * runs through the one pipeline.
 */
public interface Dialect {

  /**
   * Reads one chat request.
   *
   * @param request the HTTP request (its path and query may carry the model and the stream flag)
   * @param body the parsed JSON body
   * @throws CallError INVALID_ARGUMENT naming the field, when the body is not a valid request of this dialect
   */
  DialectCall read(HttpServerRequest request, JsonNode body);

  /** The dialect's list of models. */
  ObjectNode models(List<Model> models);

  /** The HTTP status {@code error} is sent with: google.rpc's mapping, unless the dialect's API has its own. */
  default int status(CallError error) {
    return HttpStatuses.of(error);
  }

  /** The dialect's error body for {@code error}, sent with {@code httpStatus}. */
  ObjectNode error(CallError error, int httpStatus);
}
