package dev.llmrouter.server.provider.cohere.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.EmbedTaskType;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.provider.EmbeddingDecoder;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import java.util.Map;

/**
 * Cohere's Embed v2 (`POST /v2/embed`): texts as `texts`, or (when an input is an image) every input as one of
 * `inputs` whose content is a text or an `image_url`; `input_type` from the task type, `output_dimension`, and float
 * vectors asked for (`embedding_types: ["float"]`), read from `embeddings.float` in the order of the inputs. The
 * usage is `meta.tokens`, or else `meta.billed_units`, as for chat.
 */
public final class CohereEmbeddings {

  /** Cohere's names of the task types. */
  private static final Map<EmbedTaskType, String> INPUT_TYPES = Map.of(
      EmbedTaskType.EMBED_TASK_TYPE_SEARCH_QUERY, "search_query",
      EmbedTaskType.EMBED_TASK_TYPE_SEARCH_DOCUMENT, "search_document",
      EmbedTaskType.EMBED_TASK_TYPE_CLASSIFICATION, "classification",
      EmbedTaskType.EMBED_TASK_TYPE_CLUSTERING, "clustering");

  private CohereEmbeddings() {
  }

  public static ObjectNode requestBody(EmbedRequest request, String upstreamModel) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode().put("model", upstreamModel);
    if (request.getInputsList().stream().anyMatch(EmbedInput::hasImage)) {
      ArrayNode inputs = body.putArray("inputs");
      for (EmbedInput input : request.getInputsList()) {
        Part part = input.hasImage() ? Part.newBuilder().setImage(input.getImage()).build()
            : Part.newBuilder().setText(input.getText()).build();
        CohereRequestMapper.userPart(part, inputs.addObject().putArray("content"));
      }
    } else {
      ArrayNode texts = body.putArray("texts");
      request.getInputsList().forEach(input -> texts.add(input.getText()));
    }
    String inputType = INPUT_TYPES.get(request.getTaskType());
    if (inputType != null) {
      body.put("input_type", inputType);
    }
    if (request.hasDimensions()) {
      body.put("output_dimension", request.getDimensions());
    }
    body.putArray("embedding_types").add("float");
    return body;
  }

  /** Reads the answer to {@code request}; its errors as the chat decoder reads them. */
  public static EmbeddingDecoder decoder(String provider, EmbedRequest request, String upstreamModel,
      AnswerStream<EmbedResponse> answer) {
    return decoder(provider, request, upstreamModel, answer,
        new CohereAnswerDecoder(provider, upstreamModel, new ChatEventStream()));
  }

  /** Reads the answer to {@code request}; its errors with {@code errors}, the host's own error reader. */
  public static EmbeddingDecoder decoder(String provider, EmbedRequest request, String upstreamModel,
      AnswerStream<EmbedResponse> answer, UpstreamHttpCall.Decoder errors) {
    return new EmbeddingDecoder(provider, request, answer, errors) {
      @Override
      protected EmbedResponse read(JsonNode body) {
        EmbedResponse.Builder response = EmbedResponse.newBuilder().setModel(upstreamModel);
        body.path("embeddings").path("float").forEach(values -> response.addEmbeddings(vector(values)));
        JsonNode meta = body.path("meta");
        JsonNode counted = meta.path("tokens").isObject() ? meta.path("tokens") : meta.path("billed_units");
        if (counted.path("input_tokens").isNumber()) {
          response.setUsage(Usage.newBuilder().setInputTokens(counted.path("input_tokens").asLong()));
        }
        return response.build();
      }
    };
  }
}
