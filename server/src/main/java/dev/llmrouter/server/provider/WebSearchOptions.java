package dev.llmrouter.server.provider;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.UserLocation;
import dev.llmrouter.api.v1.WebSearch;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ProtoJson;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The options of {@link ChatRequest#getWebSearch()} in the spellings the providers share: OpenAI (both APIs) and
 * Anthropic take the same approximate user location and (OpenAI) the same context size names.
 */
public final class WebSearchOptions {

  /** The option a provider without a domain filter refuses, named as in the request. */
  public static final String ALLOWED_DOMAINS = "web_search.allowed_domains";

  private WebSearchOptions() {
  }

  /** `low`, `medium` or `high`; empty when the request leaves it to the provider. */
  public static Optional<String> contextSize(WebSearch search) {
    return switch (search.getContextSize()) {
      case WEB_SEARCH_CONTEXT_SIZE_LOW, WEB_SEARCH_CONTEXT_SIZE_MEDIUM, WEB_SEARCH_CONTEXT_SIZE_HIGH ->
          Optional.of(search.getContextSize().name().substring("WEB_SEARCH_CONTEXT_SIZE_".length())
              .toLowerCase(Locale.ROOT));
      default -> Optional.empty();
    };
  }

  /** `{"type": "approximate", "city": ..., "region": ..., "country": ..., "timezone": ...}`, the fields set only. */
  public static ObjectNode approximateLocation(UserLocation location) {
    ObjectNode json = ProtoJson.MAPPER.createObjectNode().put("type", "approximate");
    putIfSet(json, "city", location.getCity());
    putIfSet(json, "region", location.getRegion());
    putIfSet(json, "country", location.getCountry());
    putIfSet(json, "timezone", location.getTimezone());
    return json;
  }

  /**
   * Refuses a search limited to some domains on a provider that can only search the whole web (OpenAI Chat, Gemini,
   * Vertex AI), since its answer would cite pages the caller excluded.
   *
   * @throws CallError INVALID_ARGUMENT naming {@link #ALLOWED_DOMAINS}, the provider and the model
   */
  public static void refuseDomainFilter(ChatRequest request, String provider, String model) {
    if (request.getWebSearch().getAllowedDomainsCount() > 0) {
      throw CapabilityCheck.refusal(provider, model, List.of(ALLOWED_DOMAINS), false);
    }
  }

  private static void putIfSet(ObjectNode json, String field, String value) {
    if (!value.isEmpty()) {
      json.put(field, value);
    }
  }
}
