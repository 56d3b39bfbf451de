package dev.llmrouter.server.provider.openai.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.Embedding;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.provider.EmbeddingDecoder;
import dev.llmrouter.server.provider.UpstreamErrors;
import java.util.List;

/**
 * OpenAI's embeddings (`POST /embeddings`), which the OpenAI-compatible hosts (Mistral...) and Azure's deployments
 * share: the request body (text inputs, `dimensions`), and the answer (`data[].embedding`, base64 or numbers, placed
 * by `index`; `usage.prompt_tokens`).
 */
public final class OpenAiEmbeddings {

  private OpenAiEmbeddings() {
  }

  public static ObjectNode requestBody(EmbedRequest request, String upstreamModel) {
    ObjectNode body = ProtoJson.MAPPER.createObjectNode().put("model", upstreamModel);
    ArrayNode input = body.putArray("input");
    request.getInputsList().forEach(text -> input.add(text.getText())); // images are refused before mapping
    if (request.hasDimensions()) {
      body.put("dimensions", request.getDimensions());
    }
    // Exact to the bit and smaller than decimal text; the openai SDKs ask for it too, so compatible hosts take it.
    body.put("encoding_format", "base64");
    return body;
  }

  /** Reads the answer to {@code request}; its errors as the Chat Completions decoder reads them. */
  public static EmbeddingDecoder decoder(String provider, EmbedRequest request, String upstreamModel,
      AnswerStream<EmbedResponse> answer) {
    return new Decoder(provider, request, upstreamModel, answer);
  }

  private static final class Decoder extends EmbeddingDecoder {

    private final String upstreamModel;

    Decoder(String provider, EmbedRequest request, String upstreamModel, AnswerStream<EmbedResponse> answer) {
      super(provider, request, answer, new OpenAiAnswerDecoder(provider, new ChatEventStream()));
      this.upstreamModel = upstreamModel;
    }

    @Override
    protected EmbedResponse read(JsonNode body) {
      JsonNode data = body.path("data");
      Embedding[] vectors = new Embedding[data.size()];
      for (int position = 0; position < data.size(); position++) {
        JsonNode item = data.get(position);
        int index = item.path("index").asInt(position);
        if (index < 0 || index >= vectors.length || vectors[index] != null) {
          throw UpstreamErrors.malformed(provider, "data[" + position + "] has index " + index + " among "
              + vectors.length + " vectors");
        }
        vectors[index] = vector(item.path("embedding"));
      }
      EmbedResponse.Builder response = EmbedResponse.newBuilder()
          .setModel(body.path("model").asText(upstreamModel)).addAllEmbeddings(List.of(vectors));
      JsonNode promptTokens = body.path("usage").path("prompt_tokens");
      if (promptTokens.isIntegralNumber()) {
        response.setUsage(Usage.newBuilder().setInputTokens(promptTokens.longValue()));
      }
      return response.build();
    }
  }
}
