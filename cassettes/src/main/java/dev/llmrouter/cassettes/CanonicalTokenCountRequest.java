package dev.llmrouter.cassettes;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatRequest;

/**
 * The canonical form and cassette key of a count call (`ModelService.CountTokens`): the chat request's canonical
 * form ({@link CanonicalRequest#of(ChatRequest)}) with {@code "kind": "count_tokens"}, which no chat or embedding
 * request's form has, so a count and the chat call of the same request never share a key.
 */
public final class CanonicalTokenCountRequest {

  /** The {@code kind} of a count request's canonical form. */
  private static final String KIND = "count_tokens";

  private CanonicalTokenCountRequest() {
  }

  public static CanonicalRequest of(ChatRequest request) {
    ObjectNode json = CanonicalRequest.canonicalJson(request);
    json.put("kind", KIND);
    return new CanonicalRequest((ObjectNode) CanonicalRequest.canonical(json));
  }
}
