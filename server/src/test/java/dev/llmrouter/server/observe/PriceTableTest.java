package dev.llmrouter.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.ObservabilityConfig.ModelPrice;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class PriceTableTest {

  private static final ModelPrice MINI = new ModelPrice(0.15, 0.60, OptionalDouble.of(0.075));
  private static final ModelPrice FULL = new ModelPrice(2.50, 10.00, OptionalDouble.empty());
  private static final ModelPrice GROQ = new ModelPrice(0.59, 0.79, OptionalDouble.empty());

  private final PriceTable prices = new PriceTable(Map.of("gpt-4o-mini", MINI, "gpt-4o", FULL,
      "groq/llama-3.3-70b-versatile", GROQ));

  @Test
  void aNamePricesItsDatedAndVersionedVariantsTheLongestNameWinning() {
    assertEquals(MINI, prices.priceOf("openai", "gpt-4o-mini").orElseThrow());
    assertEquals(MINI, prices.priceOf("openai", "gpt-4o-mini-2024-07-18").orElseThrow());
    assertEquals(FULL, prices.priceOf("openai", "gpt-4o-2024-08-06").orElseThrow());
    assertEquals(FULL, prices.priceOf("openai", "gpt-4o-latest").orElseThrow());
    assertTrue(prices.priceOf("openai", "gpt-4o-audio-preview").isEmpty(), "another model, not a variant");
    assertTrue(prices.priceOf("openai", "gpt-4").isEmpty());
  }

  @Test
  void aVertexAiVersionIsPricedAsItsModel() {
    assertEquals(MINI, prices.priceOf("vertex", "gpt-4o-mini@20240718").orElseThrow());
    assertEquals(MINI, prices.priceOf("vertex", "gpt-4o-mini-2024-07-18@001").orElseThrow());
  }

  @Test
  void aBedrockModelIdIsPricedWithoutItsProfilesGeographyAndItsVersion() {
    PriceTable table = new PriceTable(ConfigLoader.embeddedDefault(name -> null).observability().prices());
    ModelPrice sonnet = table.priceOf("bedrock", "anthropic.claude-sonnet-4").orElseThrow();
    assertEquals(sonnet, table.priceOf("bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0").orElseThrow());
    assertEquals(sonnet, table.priceOf("bedrock", "global.anthropic.claude-sonnet-4-20250514-v1:0").orElseThrow());
    assertEquals(table.priceOf("bedrock", "anthropic.claude-sonnet-4-5").orElseThrow(),
        table.priceOf("bedrock", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0").orElseThrow(), "the longer name");
    assertEquals(0.035, table.priceOf("bedrock", "us.amazon.nova-micro-v1:0").orElseThrow().input());
    assertEquals(0.15, table.priceOf("bedrock", "openai.gpt-oss-120b-1:0").orElseThrow().input());
    assertTrue(table.priceOf("bedrock", "us.amazon.nova-sonic-v1:0").isEmpty(), "another model");
    assertEquals(0.02, table.priceOf("bedrock", "amazon.titan-embed-text-v2:0").orElseThrow().input());
    assertEquals(0.10, table.priceOf("bedrock", "amazon.titan-embed-text-v1").orElseThrow().input(),
        "Titan's versions have their own prices");
  }

  @Test
  void aProviderQualifiedNameIsOnlyThatProvidersPrice() {
    assertEquals(GROQ, prices.priceOf("groq", "llama-3.3-70b-versatile").orElseThrow());
    assertTrue(prices.priceOf("together", "llama-3.3-70b-versatile").isEmpty());
  }

  @Test
  void webSearchesArePricedPerThousandOnTopOfTheTokens() {
    PriceTable table = new PriceTable(Map.of("claude-sonnet-4-5",
        new ModelPrice(3.00, 15.00, OptionalDouble.empty(), OptionalDouble.of(10.00)), "gpt-4o", FULL));
    Usage usage = Usage.newBuilder().setInputTokens(1_000).setOutputTokens(100).setWebSearches(2).build();
    assertEquals((1_000 * 3.00 + 100 * 15.00) / 1_000_000 + 2 * 10.00 / 1_000,
        table.withCost("anthropic", "claude-sonnet-4-5-20250929", usage).getCostUsd(), 1e-12);
    assertEquals((1_000 * 2.50 + 100 * 10.00) / 1_000_000, table.withCost("openai", "gpt-4o", usage).getCostUsd(),
        1e-12, "no search price: the searches cost nothing");
    PriceTable bundled = new PriceTable(ConfigLoader.embeddedDefault(name -> null).observability().prices());
    assertEquals(10.00, bundled.priceOf("anthropic", "claude-sonnet-4-5").orElseThrow().webSearch().orElseThrow());
    assertEquals(35.00, bundled.priceOf("gemini", "gemini-2.5-flash").orElseThrow().webSearch().orElseThrow());
  }

  @Test
  void costIsUncachedInputCachedInputAndOutputEachAtItsPrice() {
    Usage usage = Usage.newBuilder().setInputTokens(1_000).setCachedInputTokens(400).setOutputTokens(200).build();
    assertEquals((600 * 0.15 + 400 * 0.075 + 200 * 0.60) / 1e6,
        prices.withCost("openai", "gpt-4o-mini", usage).getCostUsd(), 1e-15);
    // No cached price: cached input costs what input does.
    assertEquals((1_000 * 2.50 + 200 * 10.00) / 1e6, prices.withCost("openai", "gpt-4o", usage).getCostUsd(), 1e-15);
  }

  @Test
  void withoutAPriceOrTokensTheCostStaysUnset() {
    Usage usage = Usage.newBuilder().setInputTokens(10).setOutputTokens(5).build();
    assertFalse(prices.withCost("openai", "o9-ultra", usage).hasCostUsd());
    assertFalse(prices.withCost("openai", "gpt-4o", Usage.getDefaultInstance()).hasCostUsd());
  }

  @Test
  void theBundledTablePricesTheWellKnownModelsAndConfigOverridesIt() {
    Map<String, ModelPrice> bundled = ConfigLoader.embeddedDefault(name -> null).observability().prices();
    PriceTable table = new PriceTable(bundled);
    for (String model : new String[] {"gpt-4o-mini-2024-07-18", "gpt-4.1", "o3-mini", "claude-haiku-4-5-20251001",
        "claude-sonnet-4-5-20250929", "claude-3-5-haiku-20241022", "gemini-2.5-flash", "gemini-2.5-pro",
        "models/gemini-2.0-flash", "o3-pro-2025-06-10", "gpt-5-codex", "codex-mini-latest", "gpt-5.1-2025-11-13",
        "claude-sonnet-4@20250514", "claude-3-5-sonnet-v2@20241022",
        "gemini-2.0-flash-001"}) {
      assertTrue(table.priceOf("any", model).isPresent(), model + " has a bundled price");
    }
    Map<String, ModelPrice> configured = ConfigLoader.parse("prices: { gpt-4o-mini: { input: 1, output: 2 } }",
        name -> null).observability().prices();
    ModelPrice mini = bundled.get("gpt-4o-mini");
    assertEquals(new ModelPrice(1, 2, OptionalDouble.empty(), OptionalDouble.empty(), mini.contextWindow(),
        mini.maxOutputTokens(), mini.modalities()), configured.get("gpt-4o-mini"),
        "the prices replaced together, the limits kept");
    assertEquals(bundled.get("gpt-4o"), configured.get("gpt-4o"), "the other bundled prices stay");
  }
}
