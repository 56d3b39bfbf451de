package dev.llmrouter.server.observe;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.config.ObservabilityConfig.ModelPrice;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a call costs: its tokens times the prices (US dollars per million tokens) of the model that answered, plus
 * its web searches (US dollars per thousand), from `prices:` in config over the bundled table.
 *
 * <p>A price is looked up as {@code <provider>/<model>} first (so `groq/llama-3.3-70b-versatile` can differ from the
 * same model elsewhere), then as {@code <model>}. A name prices its dated and versioned variants too: `gpt-4o-mini`
 * prices `gpt-4o-mini-2024-07-18`, the longest such name winning (`gpt-4o-mini` over `gpt-4o`); a Vertex AI version
 * after `@` (`claude-sonnet-4@20250514`). Bedrock's model ids are priced without their inference profile's
 * geography and version: `amazon.nova-micro` prices `us.amazon.nova-micro-v1:0`.
 */
public final class PriceTable {

  /**
   * What may follow a priced name in a variant of it: a date, a version number, `latest`, a preview tag, or a Bedrock
   * model version (`-v1:0`, `-20250514-v1:0`, `-1:0`).
   */
  private static final Pattern VARIANT_SUFFIX =
      Pattern.compile("-(\\d[\\d-]*(v\\d+)?(:\\d+)?|v\\d+(:\\d+)?|latest|preview[\\w.-]*|exp[\\w.-]*)");

  /** The geography of a Bedrock cross-region inference profile (`us.anthropic...`), priced as the model itself. */
  private static final Pattern BEDROCK_GEOGRAPHY =
      Pattern.compile("^(us|us-gov|eu|apac|jp|au|ca|global)\\.(?=[a-z0-9-]+\\.)");

  private final Map<String, ModelPrice> prices;
  private final Cache<String, Optional<ModelPrice>> lookups = Caffeine.newBuilder().maximumSize(4096).build();

  public PriceTable(Map<String, ModelPrice> prices) {
    this.prices = Map.copyOf(prices);
  }

  /** The price of {@code model} as served by the provider named {@code provider}. */
  public Optional<ModelPrice> priceOf(String provider, String model) {
    return lookups.get(provider + "/" + model, key -> {
      String bare = BEDROCK_GEOGRAPHY.matcher(model.startsWith("models/") ? model.substring("models/".length())
          : model).replaceFirst("").replaceFirst("@[^@]*$", "");
      return find(provider + "/" + bare).or(() -> find(bare));
    });
  }

  /**
   * The usage with {@code cost_usd} set, when the model has a price and the usage counts tokens; otherwise as it
   * was. Input tokens read from the cache are priced as cached input, the other input tokens as input; web searches
   * at the model's price per thousand.
   */
  public Usage withCost(String provider, String model, Usage usage) {
    if (!usage.hasInputTokens() && !usage.hasOutputTokens()) {
      return usage;
    }
    Optional<ModelPrice> price = priceOf(provider, model);
    if (price.isEmpty()) {
      return usage;
    }
    ModelPrice p = price.get();
    long cached = usage.getCachedInputTokens();
    long uncached = Math.max(0, usage.getInputTokens() - cached);
    double cost = (uncached * p.input() + cached * p.cachedInput().orElse(p.input())
        + usage.getOutputTokens() * p.output()) / 1_000_000
        + usage.getWebSearches() * p.webSearch().orElse(0) / 1_000;
    return usage.toBuilder().setCostUsd(cost).build();
  }

  private Optional<ModelPrice> find(String model) {
    ModelPrice exact = prices.get(model);
    if (exact != null) {
      return Optional.of(exact);
    }
    // From the last dash backwards: the longest priced name that this model is a variant of.
    for (int dash = model.lastIndexOf('-'); dash > 0; dash = model.lastIndexOf('-', dash - 1)) {
      ModelPrice price = prices.get(model.substring(0, dash));
      if (price != null && VARIANT_SUFFIX.matcher(model.substring(dash)).matches()) {
        return Optional.of(price);
      }
    }
    return Optional.empty();
  }
}
