package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.llmrouter.api.v1.EmbedRequest;
import java.util.List;
import java.util.Map;

/**
 * Test-side reading of Azure OpenAI embeddings: OpenAI's embeddings format (read by {@link OpenAiEmbeddingWire}) at a
 * deployment's URL (`/openai/deployments/{deployment}/embeddings?api-version=...`), with the `api-key` header; the
 * deployment named in the recorded URL is the model a caller asks for. One deployment per `api-version` the
 * recordings use.
 */
public final class AzureOpenAiEmbeddingWire implements EmbeddingWire {

  /** The provider name configured for each `api-version` of the recordings. */
  private static final Map<String, String> PROVIDER_OF_API_VERSION = Map.of(
      "2023-07-01-preview", "azure", AzureOpenAiWire.API_VERSION, "azure-current");

  private final OpenAiEmbeddingWire embeddings = new OpenAiEmbeddingWire();

  @Override
  public String type() {
    return "azure-openai";
  }

  // Azure's chat folder holds an embeddings exchange too.
  @Override
  public List<String> folders() {
    return List.of("embeddings-azure", "azure-openai");
  }

  @Override
  public boolean speaks(WireExchange exchange) {
    return exchange.path().matches("/openai/deployments/[^/]+/embeddings");
  }

  @Override
  public String providersYaml(String baseUrl) {
    StringBuilder yaml = new StringBuilder();
    PROVIDER_OF_API_VERSION.forEach((version, name) -> yaml.append("  - { name: ").append(name)
        .append(", type: azure-openai, base_url: \"").append(baseUrl).append("\", api_key: \"${TEST_API_KEY}\", ")
        .append("api_version: \"").append(version).append("\" }\n"));
    return yaml.toString();
  }

  @Override
  public String providerFor(WireExchange exchange) {
    String version = exchange.pathAndQuery().replaceFirst(".*[?&]api-version=([^&]+).*", "$1");
    String provider = PROVIDER_OF_API_VERSION.get(version);
    if (provider == null) {
      throw new IllegalStateException(exchange + " uses api-version " + version + ": add a deployment for it");
    }
    return provider;
  }

  @Override
  public EmbeddingWire.Answer answerOf(WireExchange exchange) {
    return embeddings.answerOf(exchange);
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    return embeddings.errorMessageOf(exchange);
  }

  @Override
  public EmbedRequest requestFor(WireExchange exchange) {
    return OpenAiEmbeddingWire.requestFor(exchange.request(),
        providerFor(exchange) + "/" + exchange.path().split("/")[3]);
  }

  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent) {
    assertEquals(exchange.pathAndQuery(), sent.uri());
    assertEquals(RunningRouter.TEST_KEY, sent.headers().get("api-key"));
    assertNull(sent.headers().get("authorization"), "an API key, not a bearer token");
    OpenAiEmbeddingWire.assertSentBody(exchange.request(), OpenAiWire.read(sent.body()), true);
  }
}
