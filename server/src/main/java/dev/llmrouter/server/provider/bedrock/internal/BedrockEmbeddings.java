package dev.llmrouter.server.provider.bedrock.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.provider.EmbeddingCheck;
import dev.llmrouter.server.provider.EmbeddingDecoder;
import dev.llmrouter.server.provider.cohere.CohereFormat;
import io.vertx.grpc.common.GrpcStatus;
import java.util.Locale;
import java.util.Set;

/**
 * Embeddings on Bedrock, through InvokeModel (`POST /model/{modelId}/invoke`) in the model's own body, for the two
 * families Bedrock embeds with. Amazon Titan Text Embeddings (`amazon.titan-embed-text-*`) takes one text
 * (`inputText`; v2 adds `dimensions`) and answers `embedding` with `inputTextTokenCount`. Cohere Embed
 * (`cohere.embed-*`) takes Cohere's Embed body without `model` and answers `embeddings.float` (Bedrock reports no
 * token counts in it); its v3 models require an `input_type`, `search_document` when the caller names no task type.
 * Errors are Bedrock's, read as the Converse decoder reads them.
 */
public final class BedrockEmbeddings {

  /** What Cohere's v3 models on Bedrock are told when the caller names no task type (they require one). */
  private static final String DEFAULT_COHERE_INPUT_TYPE = "search_document";

  private enum Family { TITAN, COHERE }

  private BedrockEmbeddings() {
  }

  private static Family familyOf(String upstreamModel) {
    String model = upstreamModel.toLowerCase(Locale.ROOT);
    if (model.contains("amazon.titan-embed-text")) {
      return Family.TITAN;
    }
    return model.contains("cohere.embed") ? Family.COHERE : null;
  }

  /** Whether {@code upstreamModel} is a Titan Text Embeddings or Cohere Embed model. */
  public static boolean embeds(String upstreamModel) {
    return familyOf(upstreamModel) != null;
  }

  /**
   * Titan v2 shortens its vectors (256, 512 or 1024 values); v1 takes nothing but the text. Cohere's models take a
   * task type, and embed-v4 shortens its vectors too. Other models do not embed on Bedrock: they take nothing, and
   * {@link #requestBody} refuses them.
   */
  public static Set<String> options(String upstreamModel) {
    Family family = familyOf(upstreamModel);
    if (family == Family.TITAN) {
      return upstreamModel.contains("titan-embed-text-v1") ? Set.of() : Set.of(EmbeddingCheck.DIMENSIONS);
    }
    if (family == Family.COHERE) {
      return upstreamModel.contains("embed-v4") ? Set.of(EmbeddingCheck.DIMENSIONS, EmbeddingCheck.TASK_TYPE)
          : Set.of(EmbeddingCheck.TASK_TYPE);
    }
    return Set.of();
  }

  /**
   * The InvokeModel body of {@code request}.
   *
   * @throws CallError INVALID_ARGUMENT for a model that is no embedding model on Bedrock, and for several inputs to
   *     Titan, which embeds one text per call
   */
  public static ObjectNode requestBody(EmbedRequest request, String provider, String upstreamModel) {
    Family family = familyOf(upstreamModel);
    if (family == null) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, provider + " embeds with Amazon Titan Text Embeddings "
          + "(amazon.titan-embed-text-*) and Cohere Embed (cohere.embed-*) models, not " + upstreamModel);
    }
    if (family == Family.COHERE) {
      ObjectNode body = CohereFormat.embedRequestBody(request, upstreamModel);
      body.remove("model"); // the URL names it
      if (!body.has("input_type")) {
        body.put("input_type", DEFAULT_COHERE_INPUT_TYPE);
      }
      return body;
    }
    if (request.getInputsCount() != 1) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, upstreamModel + " on " + provider + " embeds one text per "
          + "call (InvokeModel takes one inputText), and this call has " + request.getInputsCount()
          + ": send one Embed call per text");
    }
    ObjectNode body = ProtoJson.MAPPER.createObjectNode().put("inputText", request.getInputs(0).getText());
    if (request.hasDimensions()) {
      body.put("dimensions", request.getDimensions());
    }
    return body;
  }

  /** Reads the answer to {@code request} (whose body {@link #requestBody} made). */
  public static EmbeddingDecoder decoder(String provider, EmbedRequest request, String upstreamModel,
      AnswerStream<EmbedResponse> answer) {
    BedrockAnswerDecoder errors = new BedrockAnswerDecoder(provider, upstreamModel, new ChatEventStream());
    if (familyOf(upstreamModel) == Family.COHERE) {
      return CohereFormat.embedDecoder(provider, request, upstreamModel, answer, errors);
    }
    return new EmbeddingDecoder(provider, request, answer, errors) {
      @Override
      protected EmbedResponse read(JsonNode body) {
        EmbedResponse.Builder response = EmbedResponse.newBuilder().setModel(upstreamModel);
        if (body.has("embedding")) {
          response.addEmbeddings(vector(body.path("embedding")));
        }
        if (body.path("inputTextTokenCount").isNumber()) {
          response.setUsage(Usage.newBuilder().setInputTokens(body.path("inputTextTokenCount").asLong()));
        }
        return response.build();
      }
    };
  }
}
