package dev.llmrouter.server.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.config.ConfigException;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * What the shared conformance suite does not show of `type: azure-openai`: the Entra ID token in place of the API
 * key, the config checks of its own fields, and how ListModels presents Azure and Cohere deployments.
 */
class AzureOpenAiTest {

  private static final String ANSWER = "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"message\":"
      + "{\"content\":\"Hello!\",\"role\":\"assistant\"}}],\"created\":1769200000,\"id\":\"chatcmpl-entra\","
      + "\"model\":\"gpt-4o-mini-2024-07-18\",\"object\":\"chat.completion\"}";

  @Test
  void anEntraIdTokenIsSentAsABearerTokenInsteadOfAnApiKey() throws Exception {
    try (RouterWithUpstream setup = RouterWithUpstream.start("""
        cassettes: { mode: "off" }
        providers:
          - { name: azure, type: azure-openai, base_url: "%1$s", azure_ad_token: "${TEST_API_KEY}", api_version: "2024-10-21" }
        """)) {
      setup.upstream().reply(200, "application/json", ANSWER);
      ChatResponse answer = setup.router().chat().chat(ChatRequest.newBuilder().setModel("azure/gpt-4o-mini")
          .addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hi")))
          .build());
      assertEquals("Hello!", answer.getMessage().getParts(0).getText());
      MockUpstream.Received sent = setup.upstream().lastRequest();
      assertEquals("/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21", sent.uri());
      assertEquals("Bearer " + RunningRouter.TEST_KEY, sent.headers().get("authorization"));
      assertNull(sent.headers().get("api-key"));
    }
  }

  @Test
  void listModelsNamesTheTypesAndWhatEachModelCanHonour() throws Exception {
    try (RouterWithUpstream setup = RouterWithUpstream.start("""
        cassettes: { mode: "off" }
        providers:
          - { name: azure, type: azure-openai, base_url: "%1$s", api_key: "${TEST_API_KEY}", api_version: "2024-10-21", models: [gpt-4o, o3-mini] }
          - { name: cohere, type: cohere, base_url: "%1$s", api_key: "${TEST_API_KEY}", models: [command-a-03-2025, command-a-vision-07-2025] }
        """)) {
      Map<String, Model> models = setup.router().models().listModels(ListModelsRequest.getDefaultInstance())
          .getModelsList().stream().collect(Collectors.toMap(Model::getName, m -> m));
      assertEquals(List.of("azure/gpt-4o", "azure/o3-mini", "cohere/command-a-03-2025",
          "cohere/command-a-vision-07-2025"), models.keySet().stream().sorted().toList());
      assertEquals("azure-openai", models.get("azure/gpt-4o").getProviderType());
      assertFalse(models.get("azure/gpt-4o").getCapabilities().getPdf(), "no PDFs on Azure's stable API");
      assertFalse(models.get("azure/o3-mini").getCapabilities().getSettingsList().contains("settings.temperature"),
          "a deployment named after a reasoning model takes no temperature");
      Model command = models.get("cohere/command-a-03-2025");
      assertEquals("cohere", command.getProviderType());
      assertFalse(command.getCapabilities().getVision());
      assertFalse(command.getCapabilities().getSettingsList().contains("parallel_tool_calls"));
      assertTrue(command.getCapabilities().getSettingsList().contains("settings.seed"));
      assertTrue(models.get("cohere/command-a-vision-07-2025").getCapabilities().getVision());
    }
  }

  @Test
  void withoutApiVersionTheConfigIsRefusedNamingTheFieldAndLine() {
    String error = refused("""
        providers:
          - { name: azure, type: azure-openai, base_url: "https://r.openai.azure.com", api_key: "${KEY}" }
        """);
    assertTrue(error.contains("providers.0.api_version"), error);
    assertTrue(error.contains("is required for type azure-openai"), error);
  }

  @Test
  void aMalformedApiVersionIsRefused() {
    String error = refused("""
        providers:
          - name: azure
            type: azure-openai
            base_url: "https://r.openai.azure.com"
            api_key: "${KEY}"
            api_version: latest
        """);
    assertTrue(error.contains("providers.0.api_version (line 6): must be a dated version"), error);
  }

  @Test
  void azureFieldsOnAnotherTypeAreRefused() {
    String error = refused("""
        providers:
          - { name: openai, type: openai, base_url: "https://api.openai.com/v1", api_version: "2024-10-21", azure_ad_token: "${TOKEN}" }
        """);
    assertTrue(error.contains("providers.0.api_version (line 2): is for type azure-openai only"), error);
    assertTrue(error.contains("providers.0.azure_ad_token (line 2): is for type azure-openai only"), error);
  }

  @Test
  void theEntraIdTokenComesFromTheEnvironmentOnlyAndNotBesideAnApiKey() {
    String literal = refused("""
        providers:
          - { name: azure, type: azure-openai, base_url: "https://r.openai.azure.com", api_version: "2024-10-21", azure_ad_token: "eyJ0eXAi" }
        """);
    assertTrue(literal.contains("providers.0.azure_ad_token (line 2): must name an environment variable"), literal);
    assertFalse(literal.contains("eyJ0eXAi"), "the secret is not repeated: " + literal);
    String both = refused("""
        providers:
          - { name: azure, type: azure-openai, base_url: "https://r.openai.azure.com", api_version: "2024-10-21", api_key: "${KEY}", azure_ad_token: "${TOKEN}" }
        """);
    assertTrue(both.contains("give either api_key or azure_ad_token, not both"), both);
    String neither = refused("""
        providers:
          - { name: azure, type: azure-openai, base_url: "https://r.openai.azure.com", api_version: "2024-10-21" }
        """);
    assertTrue(neither.contains("providers.0.api_key: is required for type azure-openai"), neither);
  }

  private static String refused(String yaml) {
    return assertThrows(ConfigException.class,
        () -> ConfigLoader.parse(yaml, Map.of("KEY", "k", "TOKEN", "t")::get)).getMessage();
  }
}
