package dev.llmrouter.server.ingress.gemini;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.ingress.Dialect;
import dev.llmrouter.server.ingress.DialectCall;
import dev.llmrouter.server.ingress.HttpIngress;
import dev.llmrouter.server.ingress.JsonFields;
import dev.llmrouter.server.ingress.gemini.internal.GenerateContentReader;
import dev.llmrouter.server.ingress.gemini.internal.GenerateContentWriter;
import io.vertx.core.http.HttpServerRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;

/**
 * Gemini's generateContent API as `@google/genai` and `google-genai` speak it: `POST /{v1,v1beta}/models/{model}:
 * generateContent` and `:streamGenerateContent` (server-sent events with `alt=sse`, else one JSON array streamed
 * element by element), and `GET /{v1,v1beta}/models`. The model is the path's, `/` included
 * (`models/openai/gpt-4o-mini:generateContent`). The caller's key (`x-goog-api-key`, `?key=`) is not read.
 */
public final class GeminiDialect implements Dialect {

  private static final JsonFormat.Printer ERROR_DETAILS = JsonFormat.printer().omittingInsignificantWhitespace()
      .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder().add(List.of(BadRequest.getDescriptor(),
          ErrorInfo.getDescriptor(), RetryInfo.getDescriptor())).build());

  @Override
  public DialectCall read(HttpServerRequest request, JsonNode body) {
    Matcher path = HttpIngress.geminiCall(request.path())
        .orElseThrow(() -> new IllegalStateException("not a Gemini call: " + request.path()));
    String model = model(path.group(2));
    boolean stream = path.group(3).equals("streamGenerateContent");
    String alt = request.getParam("alt", "json");
    if (!alt.equals("json") && !alt.equals("sse")) {
      throw JsonFields.invalid("alt", "must be sse or json, not " + CallError.quote(alt));
    }
    boolean serverSentEvents = stream && alt.equals("sse");
    ChatRequest chat = GenerateContentReader.read(model, body);
    return new DialectCall(chat, stream, serverSentEvents, new GenerateContentWriter());
  }

  /** The model named by the path, percent-decoded (a `/` may come as `%2F`). */
  private static String model(String encoded) {
    try {
      return URLDecoder.decode(encoded.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw JsonFields.invalid("model", "the path's model " + CallError.quote(encoded) + " is not well "
          + "percent-encoded: " + e.getMessage());
    }
  }

  @Override
  public ObjectNode models(List<Model> models) {
    ObjectNode list = ProtoJson.MAPPER.createObjectNode();
    ArrayNode array = list.putArray("models");
    for (Model model : models) {
      ObjectNode entry = array.addObject().put("name", "models/" + model.getName())
          .put("displayName", model.getName())
          .put("description", model.getTargetsCount() > 0
              ? "alias (" + model.getStrategy() + ") for " + String.join(", ", model.getTargetsList())
              : model.getUpstreamModel() + " on " + model.getProvider() + " (" + model.getProviderType() + ")");
      entry.putArray("supportedGenerationMethods").add("generateContent").add("streamGenerateContent");
      entry.put("thinking", model.getCapabilities().getReasoning());
    }
    return list;
  }

  /**
   * `{"error": {"code", "message", "status", "details"}}` as Google's APIs send it: the HTTP status, the gRPC
   * status's name, and the router's BadRequest, ErrorInfo and RetryInfo details with their `@type`.
   */
  @Override
  public ObjectNode error(CallError error, int httpStatus) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    ObjectNode inner = body.putObject("error").put("code", httpStatus).put("message", error.getMessage())
        .put("status", error.status().name());
    ArrayNode details = ProtoJson.MAPPER.createArrayNode();
    for (Any detail : error.details()) {
      try {
        details.add(ProtoJson.MAPPER.readTree(ERROR_DETAILS.print(detail)));
      } catch (InvalidProtocolBufferException | JsonProcessingException unknownType) {
        // a detail of another type is left out
      }
    }
    if (!details.isEmpty()) {
      inner.set("details", details);
    }
    return body;
  }
}
