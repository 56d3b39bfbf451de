package dev.llmrouter.server.provider.vertex.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.provider.EmbeddingDecoder;
import dev.llmrouter.server.provider.gemini.GeminiFormat;
import java.util.List;

/**
 * Vertex AI's text embeddings (`POST .../publishers/google/models/{model}:predict`): one instance per input (its text
 * as `content`, the task type as `task_type`), `parameters.outputDimensionality`; one
 * `predictions[].embeddings.values` per instance in their order, each with its `statistics.token_count`, whose sum is
 * the input tokens. Errors are Google's, read as the generateContent decoder reads them. Vertex AI has documented
 * `gemini-embedding-001` as taking one instance per request: a call with more gets the host's own refusal.
 */
public final class VertexEmbeddings {

  private VertexEmbeddings() {
  }

  public static ObjectNode requestBody(EmbedRequest request) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode();
    ArrayNode instances = body.putArray("instances");
    String taskType = GeminiFormat.embeddingTaskType(request.getTaskType());
    request.getInputsList().forEach(input -> { // images are refused before mapping
      ObjectNode instance = instances.addObject().put("content", input.getText());
      if (taskType != null) {
        instance.put("task_type", taskType);
      }
    });
    if (request.hasDimensions()) {
      body.putObject("parameters").put("outputDimensionality", request.getDimensions());
    }
    return body;
  }

  /** Reads the answer to {@code request}. */
  public static EmbeddingDecoder decoder(String provider, EmbedRequest request, String upstreamModel,
      AnswerStream<EmbedResponse> answer) {
    return new EmbeddingDecoder(provider, request, answer,
        GeminiFormat.answerDecoder(provider, new ChatEventStream(), List.of())) {
      @Override
      protected EmbedResponse read(JsonNode body) {
        EmbedResponse.Builder response = EmbedResponse.newBuilder().setModel(upstreamModel);
        long tokens = 0;
        boolean counted = false;
        for (JsonNode prediction : body.path("predictions")) {
          JsonNode embeddings = prediction.path("embeddings");
          response.addEmbeddings(vector(embeddings.path("values")));
          JsonNode count = embeddings.path("statistics").path("token_count");
          if (count.isNumber()) {
            tokens += count.asLong();
            counted = true;
          }
        }
        if (counted) {
          response.setUsage(Usage.newBuilder().setInputTokens(tokens));
        }
        return response.build();
      }
    };
  }
}
