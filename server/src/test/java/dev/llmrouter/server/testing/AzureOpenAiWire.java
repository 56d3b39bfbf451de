package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.llmrouter.api.v1.ChatRequest;
import java.util.List;

/**
 * Test-side reading of Azure OpenAI wire data: the Chat Completions format (read by {@link OpenAiWire}) at a
 * deployment's URL, with the `api-key` header and no `model` in the body. The deployment named in the recorded URL is
 * the model a caller asks for.
 */
public final class AzureOpenAiWire implements ProviderWire {

  /** The `api-version` of the recordings, which the test deployment is configured with. */
  public static final String API_VERSION = "2024-12-01-preview";

  private final OpenAiWire chatCompletions = new OpenAiWire();

  @Override
  public String type() {
    return "azure-openai";
  }

  @Override
  public List<String> folders() {
    return List.of("azure-openai");
  }

  // The folder also holds embeddings and the v1 Responses API.
  @Override
  public boolean speaks(WireExchange exchange) {
    return exchange.path().matches("/openai/deployments/[^/]+/chat/completions");
  }

  @Override
  public String requiredSettings() {
    return "api_version: \"" + API_VERSION + "\"";
  }

  @Override
  public String providersYaml(String baseUrl) {
    return "  - { name: azure, type: azure-openai, base_url: \"" + baseUrl + "\", api_key: \"${TEST_API_KEY}\", "
        + requiredSettings() + " }\n";
  }

  @Override
  public String providerFor(WireExchange exchange) {
    return "azure";
  }

  @Override
  public Answer answerOf(WireExchange exchange) {
    return chatCompletions.answerOf(exchange);
  }

  @Override
  public int statusOf(WireExchange exchange) {
    return chatCompletions.statusOf(exchange);
  }

  @Override
  public String errorMessageOf(WireExchange exchange) {
    return chatCompletions.errorMessageOf(exchange);
  }

  @Override
  public ChatRequest requestFor(WireExchange exchange) {
    return OpenAiWire.requestFor(exchange.request(), "azure", deploymentOf(exchange));
  }

  @Override
  public void assertSent(WireExchange exchange, MockUpstream.Received sent, boolean streamed) {
    assertEquals(exchange.pathAndQuery(), sent.uri());
    assertEquals(RunningRouter.TEST_KEY, sent.headers().get("api-key"));
    assertNull(sent.headers().get("authorization"), "an API key, not a bearer token");
    OpenAiWire.assertSentBody(exchange.request(), OpenAiWire.read(sent.body()), streamed, streamed, false);
  }

  private static String deploymentOf(WireExchange exchange) {
    return exchange.path().split("/")[3];
  }
}
