package dev.llmrouter.cassettes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.EmbedRequest;

/**
 * The canonical form and cassette key of an {@link EmbedRequest}: the model as the caller named it, the inputs in
 * their order, and the options (dimensions, task type, dropping of unsupported settings); not the metadata. Image
 * data is replaced by its sha256, keys are sorted and numbers have one form, as for a chat request. The form holds
 * {@code "kind": "embed"}, which no chat request's form has: an embedding and a chat call never share a key.
 */
public final class CanonicalEmbedRequest {

  /** The {@code kind} of an embedding request's canonical form. */
  private static final String KIND = "embed";

  private CanonicalEmbedRequest() {
  }

  public static CanonicalRequest of(EmbedRequest request) {
    ObjectNode json = Json.toTree(request.toBuilder().clearMetadata());
    for (JsonNode input : json.path("inputs")) {
      CanonicalRequest.replaceDataByDigest(input.path("image"));
    }
    json.put("kind", KIND);
    return new CanonicalRequest((ObjectNode) CanonicalRequest.canonical(json));
  }
}
