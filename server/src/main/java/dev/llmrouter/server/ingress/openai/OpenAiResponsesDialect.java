package dev.llmrouter.server.ingress.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.ingress.Dialect;
import dev.llmrouter.server.ingress.DialectCall;
import dev.llmrouter.server.ingress.openai.internal.ResponsesRequestReader;
import dev.llmrouter.server.ingress.openai.internal.ResponsesWriter;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;

/**
 * OpenAI Responses (`POST /v1/responses`), as the `openai` SDKs' `responses.create` and `responses.stream` speak it,
 * statelessly: the caller sends the whole conversation in `input` every time. Its errors and model list are those
 * of {@link OpenAiChatDialect}, as OpenAI's are.
 */
public final class OpenAiResponsesDialect implements Dialect {

  private final OpenAiChatDialect chat = new OpenAiChatDialect();

  @Override
  public DialectCall read(HttpServerRequest request, JsonNode body) {
    ResponsesRequestReader.Read read = ResponsesRequestReader.read(body);
    return new DialectCall(read.request(), read.stream(), new ResponsesWriter(read));
  }

  @Override
  public ObjectNode models(List<Model> models) {
    return chat.models(models);
  }

  @Override
  public ObjectNode error(CallError error, int httpStatus) {
    return OpenAiChatDialect.errorBody(error, httpStatus);
  }
}
