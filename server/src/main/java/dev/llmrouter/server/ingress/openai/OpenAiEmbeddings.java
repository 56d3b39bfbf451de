package dev.llmrouter.server.ingress.openai;

import static dev.llmrouter.server.ingress.JsonFields.array;
import static dev.llmrouter.server.ingress.JsonFields.integer;
import static dev.llmrouter.server.ingress.JsonFields.invalid;
import static dev.llmrouter.server.ingress.JsonFields.object;
import static dev.llmrouter.server.ingress.JsonFields.onlyKnown;
import static dev.llmrouter.server.ingress.JsonFields.requiredText;
import static dev.llmrouter.server.ingress.JsonFields.text;
import static dev.llmrouter.server.ingress.JsonFields.typeOf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.Embedding;
import dev.llmrouter.cassettes.Float32Base64;
import dev.llmrouter.server.answer.ProtoJson;
import java.util.List;
import java.util.Set;

/**
 * OpenAI's embeddings (`POST /v1/embeddings`), as the `openai` SDKs speak it: a request body read into an
 * {@link EmbedRequest} (so an SDK call and the same gRPC call share a cassette), and the answer written back with
 * each vector as numbers (`encoding_format: float`, the default) or as base64 of little-endian float32 (`base64`,
 * what the SDKs ask for and decode themselves). Errors take the shape of the Chat Completions dialect.
 */
public final class OpenAiEmbeddings {

  private static final Set<String> KNOWN = Set.of("model", "input", "encoding_format", "dimensions", "user");

  private OpenAiEmbeddings() {
  }

  /** A request read, and how its vectors are to be written. */
  public record Call(EmbedRequest request, boolean base64) {
  }

  /**
   * @throws dev.llmrouter.server.answer.CallError INVALID_ARGUMENT naming the field, when the body is no valid
   *     embeddings request (token arrays are refused: the router embeds text)
   */
  public static Call read(JsonNode json) {
    ObjectNode body = object(json, "body");
    onlyKnown(body, "", KNOWN);
    EmbedRequest.Builder request = EmbedRequest.newBuilder().setModel(requiredText(body, "model", ""));
    JsonNode input = body.get("input");
    if (input == null || input.isNull()) {
      throw invalid("input", "is required: a string, or an array of strings");
    }
    List<JsonNode> texts = input.isArray() ? array(body, "input", "") : List.of(input);
    if (texts.isEmpty()) {
      throw invalid("input", "is an empty array: give at least one string");
    }
    for (int i = 0; i < texts.size(); i++) {
      String at = input.isArray() ? "input[" + i + "]" : "input";
      JsonNode text = texts.get(i);
      if (!text.isTextual()) {
        throw invalid(at, (text.isArray() || text.isNumber() ? "is a token array; the router embeds text" : "must be "
            + "a string, not " + typeOf(text)) + ": send the text as a string");
      }
      if (text.textValue().isEmpty()) {
        throw invalid(at, "is an empty string: there is nothing to embed");
      }
      request.addInputs(EmbedInput.newBuilder().setText(text.textValue()));
    }
    integer(body, "dimensions", "", 1, Integer.MAX_VALUE).ifPresent(dimensions -> request.setDimensions(
        (int) dimensions));
    String format = text(body, "encoding_format", "").orElse("float");
    if (!format.equals("float") && !format.equals("base64")) {
      throw invalid("encoding_format", "must be \"float\" or \"base64\", not \"" + format + "\"");
    }
    return new Call(request.build(), format.equals("base64"));
  }

  /** The answer: `{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}`. */
  public static ObjectNode answer(EmbedResponse response, boolean base64) {
    ObjectNode list = ProtoJson.MAPPER.createObjectNode().put("object", "list");
    ArrayNode data = list.putArray("data");
    for (int i = 0; i < response.getEmbeddingsCount(); i++) {
      Embedding embedding = response.getEmbeddings(i);
      ObjectNode item = data.addObject().put("object", "embedding").put("index", i);
      if (base64) {
        item.put("embedding", Float32Base64.encode(embedding));
      } else {
        ArrayNode values = item.putArray("embedding");
        embedding.getValuesList().forEach(values::add);
      }
    }
    list.put("model", response.getModel());
    if (response.getUsage().hasInputTokens()) {
      list.putObject("usage").put("prompt_tokens", response.getUsage().getInputTokens())
          .put("total_tokens", response.getUsage().getInputTokens());
    }
    return list;
  }
}
