package dev.llmrouter.server.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The README's `catalog.yaml` starts as written (over the shipped demo set, no key set) and `ListModels` shows what
 * the README says; the question it sends with 100 max output tokens is refused as the README shows.
 */
class ReadmeCatalogConfigTest {

  @Test
  void theReadmeCatalogShowsItsOverridesAndRefusesTheReadmeCall() throws Exception {
    String yaml = ReadmeUpstreamsConfigTest.readmeBlock("# catalog.yaml")
        .replace("dir: cassettes/recorded", "dir: ../cassettes/recorded");
    Vertx vertx = Vertx.vertx();
    try (RunningRouter router = RunningRouter.start(vertx, ConfigLoader.parse(yaml, name -> null))) {
      Map<String, Model> models = router.models().listModels(ListModelsRequest.getDefaultInstance()).getModelsList()
          .stream().collect(Collectors.toMap(Model::getName, model -> model));
      Model claude = models.get("anthropic/claude-haiku-4-5");
      assertEquals(List.of(200000, 64000), List.of(claude.getContextWindow(), claude.getMaxOutputTokens()));
      assertEquals(List.of("text", "image", "pdf"), claude.getModalitiesList());
      assertTrue(claude.getCapabilities().getCountTokens());
      Model mini = models.get("openai/gpt-4o-mini");
      assertEquals(List.of(64, 16384), List.of(mini.getContextWindow(), mini.getMaxOutputTokens()));
      Model mine = models.get("openai/my-finetune");
      assertEquals(List.of(16384, 4096), List.of(mine.getContextWindow(), mine.getMaxOutputTokens()));
      assertEquals(List.of("text"), mine.getModalitiesList());

      ChatRequest question = ChatRequest.newBuilder().setModel("openai/gpt-4o-mini")
          .addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
              .addParts(Part.newBuilder().setText("What is the capital of France?")))
          .setSettings(GenerationSettings.newBuilder().setMaxOutputTokens(100)).build();
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> router.chat().chat(question));
      assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
      assertTrue(refused.getStatus().getDescription().contains("about 114 tokens (14 input, estimated, + 100 "
          + "max_output_tokens), over the context window of 64 tokens of openai/gpt-4o-mini"), refused.getMessage());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }
}
