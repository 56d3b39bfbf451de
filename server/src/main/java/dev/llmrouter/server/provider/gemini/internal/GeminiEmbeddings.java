package dev.llmrouter.server.provider.gemini.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.EmbedTaskType;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.provider.EmbeddingDecoder;
import java.util.List;
import java.util.Map;

/**
 * Gemini's batch embeddings (`POST /v1beta/models/{model}:batchEmbedContents`): one request per input (its text as
 * the content, `taskType`, `outputDimensionality`), one `embeddings[].values` per request in their order. Gemini
 * reports no token counts for embeddings.
 */
public final class GeminiEmbeddings {

  /** Gemini's names of the task types. */
  private static final Map<EmbedTaskType, String> TASK_TYPES = Map.of(
      EmbedTaskType.EMBED_TASK_TYPE_SEARCH_QUERY, "RETRIEVAL_QUERY",
      EmbedTaskType.EMBED_TASK_TYPE_SEARCH_DOCUMENT, "RETRIEVAL_DOCUMENT",
      EmbedTaskType.EMBED_TASK_TYPE_CLASSIFICATION, "CLASSIFICATION",
      EmbedTaskType.EMBED_TASK_TYPE_CLUSTERING, "CLUSTERING");

  private GeminiEmbeddings() {
  }

  /** Google's name of a task type; null when unspecified. */
  public static String taskType(EmbedTaskType taskType) {
    return TASK_TYPES.get(taskType);
  }

  public static ObjectNode requestBody(EmbedRequest request, String upstreamModel) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    ArrayNode requests = body.putArray("requests");
    for (EmbedInput input : request.getInputsList()) { // images are refused before mapping
      ObjectNode one = requests.addObject().put("model", "models/" + upstreamModel);
      one.putObject("content").putArray("parts").addObject().put("text", input.getText());
      String taskType = taskType(request.getTaskType());
      if (taskType != null) {
        one.put("taskType", taskType);
      }
      if (request.hasDimensions()) {
        one.put("outputDimensionality", request.getDimensions());
      }
    }
    return body;
  }

  /** Reads the answer to {@code request}; its errors as the generateContent decoder reads them. */
  public static EmbeddingDecoder decoder(String provider, EmbedRequest request, String upstreamModel,
      AnswerStream<EmbedResponse> answer) {
    return new EmbeddingDecoder(provider, request, answer, new GeminiAnswerDecoder(provider, new ChatEventStream(), List.of())) {
      @Override
      protected EmbedResponse read(JsonNode body) {
        EmbedResponse.Builder response = EmbedResponse.newBuilder().setModel(upstreamModel);
        body.path("embeddings").forEach(embedding -> response.addEmbeddings(vector(embedding.path("values"))));
        return response.build();
      }
    };
  }
}
