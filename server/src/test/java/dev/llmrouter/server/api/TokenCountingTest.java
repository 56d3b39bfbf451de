package dev.llmrouter.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.TokenCountMethod;
import dev.llmrouter.cassettes.CanonicalRequest;
import dev.llmrouter.server.config.ConfigException;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.testing.Conversation;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `ModelService.ListModels` with the model catalog, `ModelService.CountTokens` (a local count, and a provider's count
 * recorded then replayed with no key and no upstream), and the context-window pre-flight of Chat, StreamChat and
 * Converse calls: refused before any upstream request, unless the request opts out.
 */
class TokenCountingTest {

  @TempDir
  static Path cassettes;
  private static RouterWithUpstream setup;

  /** gpt-4o-mini's window is cut to 60 tokens in config; everything else about it stays the bundled entry's. */
  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("""
        cassettes: { dir: "%s", mode: auto }
        prices:
          gpt-4o-mini: { context_window: 60 }
          house-model: { input: 1, output: 2, context_window: 4096, max_output_tokens: 512, modalities: [text] }
        models:
          - alias: roomy
            targets: [{ model: openai/gpt-4o-mini }, { model: openai/gpt-4o }]
          - alias: cramped
            targets: [{ model: openai/gpt-4o-mini }, { model: openai/gpt-4o-mini-2024-07-18 }]
        providers:
          - { name: openai, type: openai, base_url: "%%1$s/v1", api_key: "${TEST_API_KEY}",
              models: [gpt-4o-mini, gpt-4o, house-model, unlisted-model] }
          - { name: anthropic, type: anthropic, base_url: "%%1$s", api_key: "${TEST_API_KEY}", models: [claude-haiku-4-5] }
        """.formatted(cassettes));
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  @BeforeEach
  void answerLikeOpenAi() {
    setup.upstream().reply(200, "application/json", """
        {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18",
         "choices":[{"index":0,"message":{"role":"assistant","content":"Fine."},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":70,"completion_tokens":2}}""");
  }

  @Test
  void listModelsShowsTheCatalogWithConfigOverrides() {
    Map<String, Model> models = setup.router().models().listModels(ListModelsRequest.getDefaultInstance())
        .getModelsList().stream().collect(Collectors.toMap(Model::getName, model -> model));
    Model mini = models.get("openai/gpt-4o-mini");
    assertEquals(60, mini.getContextWindow(), "the config's window");
    assertEquals(16384, mini.getMaxOutputTokens(), "the bundled output limit, which the config left as it was");
    assertEquals(List.of("text", "image", "pdf"), mini.getModalitiesList());
    assertEquals(128000, models.get("openai/gpt-4o").getContextWindow(), "the bundled window");
    Model house = models.get("openai/house-model");
    assertEquals(4096, house.getContextWindow());
    assertEquals(512, house.getMaxOutputTokens());
    assertEquals(List.of("text"), house.getModalitiesList());
    Model unknown = models.get("openai/unlisted-model");
    assertEquals(0, unknown.getContextWindow(), "not in the catalog: unknown, not zero tokens");
    assertTrue(unknown.getModalitiesList().isEmpty());
    assertEquals(200000, models.get("anthropic/claude-haiku-4-5").getContextWindow());
    assertTrue(models.get("anthropic/claude-haiku-4-5").getCapabilities().getCountTokens(), "Anthropic counts");
    assertFalse(mini.getCapabilities().getCountTokens(), "OpenAI has no count endpoint: the router counts");
  }

  @Test
  void countsLocallyWhenTheHostHasNoCountEndpoint() {
    int before = setup.upstream().received().size();
    CountTokensResponse count = setup.router().models().countTokens(ask("openai/gpt-4o-mini", "hello world"));
    // 3 per message + "user" (1) + "hello world" (2) + 3 to prime the answer, in o200k_base
    assertEquals(9, count.getInputTokens());
    assertEquals(TokenCountMethod.TOKEN_COUNT_METHOD_LOCAL, count.getMethod());
    assertEquals("o200k_base", count.getEncoding());
    assertEquals("gpt-4o-mini", count.getModel());
    assertEquals("openai", count.getProvider());
    assertEquals(before, setup.upstream().received().size(), "no upstream request");
  }

  @Test
  void countsThroughTheProviderThenReplaysWithNoKeyAndNoUpstream() throws Exception {
    setup.upstream().reply(200, "application/json", "{\"input_tokens\":14}");
    ChatRequest request = ask("anthropic/claude-haiku-4-5", "Hello, Claude");
    CountTokensResponse live = setup.router().models().countTokens(request);
    assertEquals(14, live.getInputTokens());
    assertEquals(TokenCountMethod.TOKEN_COUNT_METHOD_PROVIDER, live.getMethod());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, live.getOrigin().getCassette());
    assertEquals("/v1/messages/count_tokens", setup.upstream().lastRequest().uri());
    Path file = cassettes.resolve("default").resolve(live.getOrigin().getCassetteKey().substring(0, 16) + ".json");
    assertTrue(Files.readString(file).contains("\"token_count\""), "a cassette of its own kind");

    Vertx vertx = Vertx.vertx();
    try (RunningRouter replaying = RunningRouter.start(vertx, """
        cassettes: { dir: "%s", mode: replay }
        providers:
          - { name: anthropic, type: anthropic, base_url: "http://127.0.0.1:9" }
        """.formatted(cassettes))) {
      CountTokensResponse replayed = replaying.models().countTokens(request);
      assertEquals(14, replayed.getInputTokens());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, replayed.getOrigin().getCassette());
      assertEquals(live.getOrigin().getCassetteKey(), replayed.getOrigin().getCassetteKey());
      StatusRuntimeException chat = assertThrows(StatusRuntimeException.class,
          () -> replaying.chat().chat(request));
      assertEquals(Status.Code.FAILED_PRECONDITION, chat.getStatus().getCode(),
          "a count and the chat call of the same request never share a cassette");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  @Test
  void chatOverTheContextWindowIsRefusedBeforeAnyUpstreamRequest() throws InvalidProtocolBufferException {
    int before = setup.upstream().received().size();
    ChatRequest tooLong = ask("openai/gpt-4o-mini", "word ".repeat(100));
    StatusRuntimeException unary = assertThrows(StatusRuntimeException.class, () -> setup.router().chat().chat(tooLong));
    ErrorInfo info = contextLengthExceeded(unary);
    assertEquals("60", info.getMetadataOrThrow("context_window"));
    int estimate = Integer.parseInt(info.getMetadataOrThrow("estimated_input_tokens"));
    assertTrue(estimate > 60, "the estimate: " + estimate);
    assertTrue(unary.getStatus().getDescription().contains(estimate + " input")
        && unary.getStatus().getDescription().contains("context window of 60 tokens"), unary.getMessage());

    StatusRuntimeException streamed = assertThrows(StatusRuntimeException.class,
        () -> setup.router().chat().streamChat(tooLong).forEachRemaining(event -> { }));
    contextLengthExceeded(streamed);
    assertEquals(before, setup.upstream().received().size(), "no upstream request");
  }

  @Test
  void aConverseTurnOverTheWindowIsATurnErrorBeforeAnyUpstreamRequest() throws Exception {
    int before = setup.upstream().received().size();
    Conversation session = Conversation.open(setup.router()).send(ConverseRequest.newBuilder()
        .setStart(ConverseStart.newBuilder().setModel("openai/gpt-4o-mini")).build());
    session.until(ConverseEvent::hasSessionStarted);
    session.user("word ".repeat(100));
    ConverseEvent error = session.until(ConverseEvent::hasTurnError);
    assertEquals(Status.Code.INVALID_ARGUMENT.value(), error.getTurnError().getCode());
    assertTrue(error.getTurnError().getMessage().contains("over the context window of 60 tokens of "
        + "openai/gpt-4o-mini"), error.getTurnError().getMessage());
    session.requests.onCompleted();
    assertEquals(before, setup.upstream().received().size(), "no upstream request");
  }

  @Test
  void aConverseSessionMayOptOutOfTheCheck() throws Exception {
    int before = setup.upstream().received().size();
    Conversation session = Conversation.open(setup.router()).send(ConverseRequest.newBuilder()
        .setStart(ConverseStart.newBuilder().setModel("openai/gpt-4o-mini").setSkipContextCheck(true)).build());
    session.until(ConverseEvent::hasSessionStarted);
    session.user("term ".repeat(100)); // not the Chat tests' text: a cassette of theirs would answer it
    session.until(ConverseEvent::hasTurnCompleted);
    session.requests.onCompleted();
    assertEquals(before + 1, setup.upstream().received().size(), "sent upstream");
  }

  @Test
  void anAliasSkipsTheTargetsWithoutRoomAndIsRefusedWhenNoneHas() throws InvalidProtocolBufferException {
    int before = setup.upstream().received().size();
    String text = "many words ".repeat(40);
    assertEquals("Fine.", setup.router().chat().chat(ask("roomy", text)).getMessage().getParts(0).getText());
    assertEquals(before + 1, setup.upstream().received().size());
    assertTrue(setup.upstream().lastRequest().body().contains("\"model\":\"gpt-4o\""),
        "gpt-4o-mini's window is too small, gpt-4o's is not: the alias goes straight to gpt-4o");
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> setup.router().chat().chat(ask("cramped", text)));
    assertEquals("60", contextLengthExceeded(refused).getMetadataOrThrow("context_window"), "the first target's");
    assertEquals(before + 1, setup.upstream().received().size(), "no upstream request");
  }

  @Test
  void maxOutputTokensCountsAgainstTheWindow() throws InvalidProtocolBufferException {
    int before = setup.upstream().received().size();
    ChatRequest request = ask("openai/gpt-4o-mini", "Hi").toBuilder()
        .setSettings(GenerationSettings.newBuilder().setMaxOutputTokens(100)).build();
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> setup.router().chat().chat(request));
    assertEquals("100", contextLengthExceeded(error).getMetadataOrThrow("max_output_tokens"));
    assertEquals(before, setup.upstream().received().size(), "no upstream request");
  }

  @Test
  void skipContextCheckLetsTheProviderJudge() {
    int before = setup.upstream().received().size();
    ChatRequest request = ask("openai/gpt-4o-mini", "word ".repeat(100)).toBuilder().setSkipContextCheck(true)
        .build();
    ChatResponse answer = setup.router().chat().chat(request);
    assertEquals("Fine.", answer.getMessage().getParts(0).getText());
    assertEquals(before + 1, setup.upstream().received().size(), "sent upstream");
    assertEquals(CanonicalRequest.of(request.toBuilder().setSkipContextCheck(false).build()).key(),
        answer.getOrigin().getCassetteKey(), "the opt-out is not part of the cassette key");
  }

  @Test
  void aRequestWithinTheWindowGoesUpstream() {
    int before = setup.upstream().received().size();
    assertEquals("Fine.", setup.router().chat().chat(ask("openai/gpt-4o-mini", "Hi there"))
        .getMessage().getParts(0).getText());
    assertEquals(before + 1, setup.upstream().received().size());
  }

  @Test
  void badCountRequestsAreRefusedNamingTheField() throws InvalidProtocolBufferException {
    StatusRuntimeException empty = assertThrows(StatusRuntimeException.class,
        () -> setup.router().models().countTokens(ChatRequest.newBuilder().setModel("openai/gpt-4o-mini").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, empty.getStatus().getCode());
    BadRequest violations = StatusProto.fromThrowable(empty).getDetails(0).unpack(BadRequest.class);
    assertEquals("messages", violations.getFieldViolations(0).getField());

    StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
        () -> setup.router().models().countTokens(ask("nowhere/some-model", "Hi")));
    assertEquals(Status.Code.INVALID_ARGUMENT, unknown.getStatus().getCode());
    assertTrue(unknown.getStatus().getDescription().contains("nowhere"), unknown.getMessage());
  }

  @Test
  void badCatalogEntriesAreReportedWithTheirField() {
    String message = assertThrows(ConfigException.class, () -> ConfigLoader.parse("""
        prices:
          gpt-4o-mini: { context_window: 0, modalities: [text, smell] }
          new-model: { context_window: 1000 }
        providers:
          - { name: openai, type: openai, base_url: "http://127.0.0.1:9/v1" }
        """, name -> null)).getMessage();
    assertTrue(message.contains("prices.gpt-4o-mini.context_window (line 2): must be a number of tokens"), message);
    assertTrue(message.contains("prices.gpt-4o-mini.modalities (line 2): must list what the model takes"), message);
    assertTrue(message.contains("prices.new-model.input"), "a model not in the bundled table needs its prices: "
        + message);
  }

  private static ErrorInfo contextLengthExceeded(StatusRuntimeException error) throws InvalidProtocolBufferException {
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode(), error.getMessage());
    ErrorInfo info = StatusProto.fromThrowable(error).getDetails(0).unpack(ErrorInfo.class);
    assertEquals("CONTEXT_LENGTH_EXCEEDED", info.getReason());
    assertEquals("openai", info.getMetadataOrThrow("provider"));
    assertEquals("gpt-4o-mini", info.getMetadataOrThrow("model"));
    return info;
  }

  private static ChatRequest ask(String model, String text) {
    return ChatRequest.newBuilder().setModel(model).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText(text))).build();
  }
}
