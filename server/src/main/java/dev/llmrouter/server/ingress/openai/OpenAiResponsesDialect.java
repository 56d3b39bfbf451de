package dev.llmrouter.server.ingress.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.ingress.Dialect;
import dev.llmrouter.server.ingress.DialectCall;
import dev.llmrouter.server.ingress.openai.internal.ResponsesRequestReader;
import dev.llmrouter.server.ingress.openai.internal.ResponsesWriter;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.function.Consumer;

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
    ResponsesWriter writer = new ResponsesWriter(read);
    return new DialectCall() {
      @Override
      public ChatRequest request() {
        return read.request();
      }

      @Override
      public boolean stream() {
        return read.stream();
      }

      @Override
      public ObjectNode answer(ChatResponse response) {
        return ResponsesWriter.response(response, read);
      }

      @Override
      public void event(ChatEvent event, Consumer<Frame> out) {
        writer.event(event, out);
      }

      @Override
      public void failure(CallError error, int httpStatus, ObjectNode errorBody, Consumer<Frame> out) {
        writer.failure(errorBody, out);
      }
    };
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
