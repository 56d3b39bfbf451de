package dev.llmrouter.cassettes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.Embedding;

/**
 * The take of an embedding call in a cassette file: the response's protobuf JSON (model, provider, usage) with its
 * vectors under {@code vectors}, one base64 string of little-endian float32 per input ({@link Float32Base64}), so a
 * replayed vector is the recorded one to the bit.
 */
final class EmbeddingTakeJson {

  private static final String VECTORS = "vectors";

  private EmbeddingTakeJson() {
  }

  static ObjectNode write(EmbedResponse response) {
    ObjectNode node = Json.toTree(response.toBuilder().clearEmbeddings());
    ArrayNode vectors = node.putArray(VECTORS);
    response.getEmbeddingsList().forEach(embedding -> vectors.add(Float32Base64.encode(embedding)));
    return node;
  }

  /** @throws IllegalArgumentException naming what is wrong, when the node is no embedding take */
  static EmbedResponse read(JsonNode node) {
    if (!node.isObject() || !node.path(VECTORS).isArray()) {
      throw new IllegalArgumentException("it is not an object with a \"" + VECTORS + "\" array");
    }
    ObjectNode fields = ((ObjectNode) node).deepCopy();
    JsonNode vectors = fields.remove(VECTORS);
    EmbedResponse.Builder response;
    try {
      response = Json.fromTree(fields, EmbedResponse.newBuilder());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    for (int i = 0; i < vectors.size(); i++) {
      if (!vectors.get(i).isTextual()) {
        throw new IllegalArgumentException(VECTORS + "[" + i + "] is not a base64 string");
      }
      Embedding embedding = Float32Base64.decode(vectors.get(i).textValue());
      response.addEmbeddings(embedding);
    }
    return response.build();
  }
}
