package dev.llmrouter.server.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.BadRequest;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.GetPromptRequest;
import dev.llmrouter.api.v1.ListPromptsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.PromptReference;
import dev.llmrouter.api.v1.PromptServiceGrpc;
import dev.llmrouter.api.v1.PromptTemplate;
import dev.llmrouter.api.v1.PromptVariableType;
import dev.llmrouter.api.v1.RenderPromptRequest;
import dev.llmrouter.api.v1.RenderPromptResponse;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.PromptConfig;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.OpenAiAnswerTable;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prompt templates through the real router: `PromptService`, `ChatRequest.prompt` rendered before the cassette gate
 * (so a rendered call and the same messages sent directly share a cassette), bad variables refused before anything
 * is sent, files reloaded when they change, bad files stopping the start with their file and line.
 */
class PromptServiceTest {

  private static final String GREETING = """
      name: greeting
      version: 1
      description: Greets someone.
      model: openai/gpt-4o-mini
      variables:
        who: { type: string, required: true, max_length: 20, pattern: "[A-Za-z ]+" }
        times: { type: integer, minimum: 1, maximum: 3, default: 1 }
      messages:
        - { role: system, text: "You are brief." }
        - { role: user, text: "Say hello to {{who}}, {{times}} times." }
      """;

  private static RouterWithUpstream router(Path prompts, Path cassettes) {
    return RouterWithUpstream.start("""
        cassettes: { dir: "%s", mode: auto }
        prompts: { dir: "%s", reload_interval: 20ms }
        providers:
          - { name: openai, type: openai, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
        """.formatted(cassettes, prompts));
  }

  private static PromptReference greeting(Map<String, Value> variables) {
    return PromptReference.newBuilder().setName("greeting").setVariables(Struct.newBuilder().putAllFields(variables))
        .build();
  }

  private static Value text(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  private static Value number(double d) {
    return Value.newBuilder().setNumberValue(d).build();
  }

  private static Message message(Role role, String text) {
    return Message.newBuilder().setRole(role).addParts(Part.newBuilder().setText(text)).build();
  }

  private static Map<String, String> violations(StatusRuntimeException e) {
    return StatusProto.fromThrowable(e).getDetailsList().stream().filter(d -> d.is(BadRequest.class))
        .flatMap(d -> {
          try {
            return d.unpack(BadRequest.class).getFieldViolationsList().stream();
          } catch (com.google.protobuf.InvalidProtocolBufferException bad) {
            throw new IllegalStateException(bad);
          }
        }).collect(Collectors.toMap(BadRequest.FieldViolation::getField, BadRequest.FieldViolation::getDescription,
            (a, b) -> a, TreeMap::new));
  }

  @Test
  void aRenderedCallSharesTheCassetteOfTheSameMessagesSentDirectly(@TempDir Path prompts, @TempDir Path cassettes)
      throws Exception {
    Files.writeString(prompts.resolve("greeting.yaml"), GREETING);
    try (RouterWithUpstream setup = router(prompts, cassettes)) {
      OpenAiAnswerTable.answer(setup.upstream(), Map.of("Say hello to Ada, 2 times.", "Hello Ada! Hello Ada!"));
      ChatResponse rendered = setup.router().chat().chat(ChatRequest.newBuilder()
          .setPrompt(greeting(Map.of("who", text("Ada"), "times", number(2)))).build());
      assertEquals("Hello Ada! Hello Ada!", rendered.getMessage().getParts(0).getText());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, rendered.getOrigin().getCassette());
      assertEquals(1, setup.upstream().received().size());
      String sent = setup.upstream().lastRequest().body();
      assertTrue(sent.contains("\"model\":\"gpt-4o-mini\""), sent);
      assertTrue(sent.contains("You are brief.") && sent.contains("Say hello to Ada, 2 times."), sent);

      // The same messages sent directly: the same key, answered from the cassette the rendered call recorded.
      ChatRequest direct = ChatRequest.newBuilder().setModel("openai/gpt-4o-mini")
          .addMessages(message(Role.ROLE_SYSTEM, "You are brief."))
          .addMessages(message(Role.ROLE_USER, "Say hello to Ada, 2 times.")).build();
      ChatResponse replayed = setup.router().chat().chat(direct);
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, replayed.getOrigin().getCassette());
      assertEquals(rendered.getOrigin().getCassetteKey(), replayed.getOrigin().getCassetteKey());
      assertEquals(1, setup.upstream().received().size(), "nothing more was sent upstream");

      // StreamChat renders alike, and messages given after the prompt follow its own.
      List<ChatEvent> events = new ArrayList<>();
      setup.router().chat().streamChat(ChatRequest.newBuilder().setModel("openai/gpt-4o-mini")
          .setPrompt(greeting(Map.of("who", text("Ada"), "times", number(2)))).build()).forEachRemaining(events::add);
      ChatResponse streamed = events.get(events.size() - 1).getDone().getResponse();
      assertEquals(rendered.getOrigin().getCassetteKey(), streamed.getOrigin().getCassetteKey());
      ChatResponse followed = setup.router().chat().chat(ChatRequest.newBuilder()
          .setPrompt(greeting(Map.of("who", text("Bob")))).addMessages(message(Role.ROLE_ASSISTANT, "Hello Bob!"))
          .addMessages(message(Role.ROLE_USER, "Once more.")).build());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, followed.getOrigin().getCassette());
      assertTrue(setup.upstream().lastRequest().body().contains("Say hello to Bob, 1 times.\"},{\"role\":"
          + "\"assistant\",\"content\":\"Hello Bob!\"}"), setup.upstream().lastRequest().body());
    }
  }

  @Test
  void badVariablesAreRefusedEachByNameBeforeAnythingIsSent(@TempDir Path prompts, @TempDir Path cassettes)
      throws Exception {
    Files.writeString(prompts.resolve("greeting.yaml"), GREETING);
    try (RouterWithUpstream setup = router(prompts, cassettes)) {
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> setup.router().chat()
          .chat(ChatRequest.newBuilder().setPrompt(greeting(Map.of("who", text("R2-D2"), "times", number(9),
              "mood", text("happy")))).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
      assertEquals(Map.of(
          "prompt.variables.who", "must match the pattern [A-Za-z ]+",
          "prompt.variables.times", "must be at most 3, not 9",
          "prompt.variables.mood", "template greeting version 1 has no such variable; it has [who, times]"),
          violations(refused));
      StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class, () -> setup.router().chat()
          .streamChat(ChatRequest.newBuilder().setPrompt(PromptReference.newBuilder().setName("farewell")).build())
          .forEachRemaining(e -> { }));
      assertEquals(Map.of("prompt.name", "no template is named 'farewell'; there are [greeting]"),
          violations(unknown));
      StatusRuntimeException noVersion = assertThrows(StatusRuntimeException.class, () -> prompts(setup)
          .renderPrompt(RenderPromptRequest.newBuilder().setPrompt(greeting(Map.of("who", text("Ada"))).toBuilder()
              .setVersion(7)).build()));
      assertEquals(Map.of("prompt.version", "template greeting has no version 7; it has [1]"),
          violations(noVersion));
      assertEquals(0, setup.upstream().received().size());
    }
  }

  private static PromptServiceGrpc.PromptServiceBlockingStub prompts(RouterWithUpstream setup) {
    return PromptServiceGrpc.newBlockingStub(setup.router().channel());
  }

  @Test
  void listGetAndRenderShowTheTemplates(@TempDir Path prompts, @TempDir Path cassettes) throws Exception {
    Files.writeString(prompts.resolve("greeting.yaml"), GREETING);
    Files.writeString(prompts.resolve("greeting-2.yml"), GREETING.replace("version: 1", "version: 2")
        .replace("You are brief.", "You are very brief."));
    Files.writeString(prompts.resolve("notes.txt"), "not a template");
    try (RouterWithUpstream setup = router(prompts, cassettes)) {
      List<PromptTemplate> listed = prompts(setup).listPrompts(ListPromptsRequest.getDefaultInstance())
          .getPromptsList();
      assertEquals(List.of("greeting.yaml", "greeting-2.yml"), listed.stream().map(PromptTemplate::getFile).toList());
      PromptTemplate latest = prompts(setup).getPrompt(GetPromptRequest.newBuilder().setName("greeting").build())
          .getPrompt();
      assertEquals(2, latest.getVersion());
      assertEquals("Say hello to {{who}}, {{times}} times.", latest.getMessages(1).getParts(0).getText());
      assertEquals(PromptVariableType.PROMPT_VARIABLE_TYPE_INTEGER, latest.getVariables(1).getType());
      assertEquals(1, latest.getVariables(1).getDefaultValue().getNumberValue());
      assertTrue(latest.getVariables(0).getRequired());
      assertEquals(20, latest.getVariables(0).getMaxLength());
      RenderPromptResponse first = prompts(setup).renderPrompt(RenderPromptRequest.newBuilder()
          .setPrompt(greeting(Map.of("who", text("Ada"))).toBuilder().setVersion(1)).build());
      assertEquals(List.of(message(Role.ROLE_SYSTEM, "You are brief."),
          message(Role.ROLE_USER, "Say hello to Ada, 1 times.")), first.getMessagesList());
      assertEquals("openai/gpt-4o-mini", first.getModel());
      assertEquals(Status.Code.NOT_FOUND, assertThrows(StatusRuntimeException.class, () -> prompts(setup)
          .getPrompt(GetPromptRequest.newBuilder().setName("greeting").setVersion(3).build())).getStatus().getCode());
      assertEquals(0, prompts(setup).listPrompts(ListPromptsRequest.newBuilder().setNamePrefix("x").build())
          .getPromptsCount());
    }
  }

  @Test
  void filesAreReloadedWhenTheyChangeAndABrokenEditKeepsTheLastGoodTemplate(@TempDir Path prompts,
      @TempDir Path cassettes) throws Exception {
    Path file = prompts.resolve("greeting.yaml");
    Files.writeString(file, GREETING);
    try (RouterWithUpstream setup = router(prompts, cassettes)) {
      RenderPromptRequest ada = RenderPromptRequest.newBuilder().setPrompt(greeting(Map.of("who", text("Ada"))))
          .build();
      Files.writeString(file, GREETING.replace("You are brief.", "You are terse and kind."));
      assertTrue(Await.until(Duration.ofSeconds(10), () -> prompts(setup).renderPrompt(ada).getMessages(0)
          .getParts(0).getText().equals("You are terse and kind.")), "the changed file is read again");

      Files.writeString(prompts.resolve("farewell.yaml"), GREETING.replace("name: greeting", "name: farewell"));
      assertTrue(Await.until(Duration.ofSeconds(10), () -> prompts(setup)
          .listPrompts(ListPromptsRequest.getDefaultInstance()).getPromptsCount() == 2), "an added file is read");

      Files.writeString(file, GREETING.replace("type: integer", "type: integr") + "# broken\n");
      Files.delete(prompts.resolve("farewell.yaml"));
      assertTrue(Await.until(Duration.ofSeconds(10), () -> prompts(setup)
          .listPrompts(ListPromptsRequest.getDefaultInstance()).getPromptsCount() == 1), "a removed file is gone");
      assertEquals("You are terse and kind.", prompts(setup).renderPrompt(ada).getMessages(0).getParts(0).getText(),
          "the broken edit is not applied: the last good version stays");
    }
  }

  @Test
  void aBadTemplateFileStopsTheStartNamingItsFileAndLine(@TempDir Path prompts) throws IOException {
    Files.writeString(prompts.resolve("greeting.yaml"), GREETING.replace("{{times}}", "{{count}}"));
    RouterConfig config = ConfigLoader.parse("prompts: { dir: \"" + prompts + "\" }\n", name -> null).withPort(0);
    Vertx vertx = Vertx.vertx();
    try {
      Throwable failure = RouterServer.start(vertx, config).toCompletionStage().toCompletableFuture()
          .handle((server, error) -> error).get();
      assertTrue(failure.getMessage().contains("greeting.yaml (line 10): messages.1.text: {{count}} names no variable "
          + "of the template; it has [who, times]"), failure.getMessage());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      Await.result(vertx.close());
    }
  }

  @Test
  void theReadmeTemplateIsAnsweredByTheDemoCassetteOfTheEmbeddedDefault(@TempDir Path dataDir) throws Exception {
    RouterConfig defaults = ConfigLoader.embeddedDefault(name -> null);
    assertEquals(PromptConfig.DEFAULT, defaults.prompts());
    Vertx vertx = Vertx.vertx();
    // The README runs from the repository's root; the tests run from server/.
    try (RunningRouter router = RunningRouter.start(vertx, defaults
        .withCassettes(defaults.cassettes().withDir("../cassettes/recorded"))
        .withObservability(defaults.observability().withDataDir(dataDir.toString()))
        .withPrompts(new PromptConfig("../prompts", PromptConfig.DEFAULT.reloadInterval())))) {
      ChatResponse paris = router.chat().chat(ChatRequest.newBuilder().setPrompt(PromptReference.newBuilder()
          .setName("capital").setVariables(Struct.newBuilder().putFields("country", text("France")))).build());
      assertEquals("The capital of France is Paris.", paris.getMessage().getParts(0).getText());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, paris.getOrigin().getCassette());
      RenderPromptResponse review = PromptServiceGrpc.newBlockingStub(router.channel()).renderPrompt(
          RenderPromptRequest.newBuilder().setPrompt(PromptReference.newBuilder().setName("review")
              .setVariables(Struct.newBuilder().putFields("code", text("x = 1")))).build());
      assertEquals(2, review.getMessagesCount());
    } finally {
      Await.result(vertx.close());
    }
  }
}
