package dev.llmrouter.server.converse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Compaction;
import dev.llmrouter.api.v1.Conversation;
import dev.llmrouter.api.v1.ConversationServiceGrpc;
import dev.llmrouter.api.v1.ConversationServiceGrpc.ConversationServiceBlockingStub;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.CreateConversationRequest;
import dev.llmrouter.api.v1.DeleteConversationRequest;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.GetConversationRequest;
import dev.llmrouter.api.v1.ListConversationsRequest;
import dev.llmrouter.api.v1.ListConversationsResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.PromptReference;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.SendMessageRequest;
import dev.llmrouter.api.v1.SendMessageResponse;
import dev.llmrouter.api.v1.StreamSendMessageResponse;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.PostgresServer;
import dev.llmrouter.server.testing.RouterProcess;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.ScriptedChatModel;
import dev.llmrouter.server.testing.TestCallLog;
import com.google.protobuf.util.JsonFormat;
import dev.llmrouter.server.config.ConfigLoader;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * `ConversationService` through grpc-java against the real router and a {@link ScriptedChatModel} upstream: the five
 * RPCs, the store across restarts (SQLite, and PostgreSQL when installed), a `Converse` session driving a stored
 * conversation, record then replay with the upstream gone, compaction, and the statuses of bad requests.
 */
class ConversationServiceTest {

  private static final String MODEL = "openai/gpt-test";
  private static final Struct OBJECT_SCHEMA = Struct.newBuilder()
      .putFields("type", Value.newBuilder().setStringValue("object").build()).build();

  @TempDir
  Path dir;
  private Vertx vertx;
  private MockUpstream upstream;
  private final List<RunningRouter> routers = new ArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = ScriptedChatModel.answer(MockUpstream.start(vertx));
  }

  @AfterEach
  void stop() throws Exception {
    for (RunningRouter router : routers) {
      router.close();
    }
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  /** The router's config: cassettes in {@code mode} under dir/cassettes, conversations in {@code store}. */
  private String config(String mode, String baseUrl, String store) {
    return """
        cassettes: { dir: "%s", mode: "%s" }
        conversations: { compaction: { model: %s, prompt: "%s" } }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        %s
        """.formatted(dir.resolve("cassettes"), mode, MODEL, ScriptedChatModel.SUMMARY_PROMPT, baseUrl, store);
  }

  private RunningRouter router(String mode) {
    return routerOf(config(mode, upstream.baseUrl(), "data_dir: \"" + dir.resolve("data") + "\""));
  }

  private RunningRouter routerOf(String yaml) {
    RunningRouter router = RunningRouter.start(vertx, yaml);
    routers.add(router);
    return router;
  }

  private static ConversationServiceBlockingStub conversations(Channel channel) {
    return ConversationServiceGrpc.newBlockingStub(channel);
  }

  private static Conversation create(ConversationServiceBlockingStub stub, CreateConversationRequest.Builder request) {
    return stub.createConversation(request.build()).getConversation();
  }

  private static CreateConversationRequest.Builder newConversation() {
    return CreateConversationRequest.newBuilder().setModel(MODEL).setSystemPrompt("Be brief.");
  }

  private static SendMessageResponse say(ConversationServiceBlockingStub stub, String id, String text) {
    return stub.sendMessage(SendMessageRequest.newBuilder().setConversationId(id).setMessage(user(text)).build());
  }

  private static Message user(String text) {
    return Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText(text)).build();
  }

  private static String text(ChatResponse response) {
    return response.getMessage().getParts(0).getText();
  }

  private static Conversation get(ConversationServiceBlockingStub stub, String id) {
    return stub.getConversation(GetConversationRequest.newBuilder().setConversationId(id).build()).getConversation();
  }

  /** The texts of the messages the upstream's request {@code index} carried, as `role: text`. */
  private List<String> sent(int index) {
    JsonArray messages = new JsonObject(upstream.received().get(index).body()).getJsonArray("messages");
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      JsonObject message = messages.getJsonObject(i);
      Object content = message.getValue("content");
      lines.add(message.getString("role") + ": " + (content instanceof JsonArray parts
          ? parts.getJsonObject(0).getString("text") : content));
    }
    return lines;
  }

  private static void assertStatus(Status.Code code, String inMessage, Executable call) {
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, refused.getStatus().getCode(), refused.getStatus().toString());
    assertTrue(refused.getStatus().getDescription().contains(inMessage), refused.getStatus().getDescription());
  }

  @Test
  void createSendStreamGetListDelete() {
    ConversationServiceBlockingStub stub = conversations(router("off").channel());
    Conversation created = create(stub, newConversation().putMetadata("team", "a"));
    assertTrue(created.getId().startsWith("conv_"), created.getId());
    assertEquals(1, created.getRevision());

    SendMessageResponse first = say(stub, created.getId(), "Hello");
    assertEquals("You said: Hello", text(first.getResponse()));
    assertFalse(first.hasCompaction());
    assertEquals(List.of("system: Be brief.", "user: Hello"), sent(0));

    Iterator<StreamSendMessageResponse> streamed = stub.streamSendMessage(SendMessageRequest.newBuilder()
        .setConversationId(created.getId()).setMessage(user("Again")).build());
    List<StreamSendMessageResponse> events = new ArrayList<>();
    streamed.forEachRemaining(events::add);
    assertTrue(events.stream().anyMatch(e -> e.getChatEvent().hasTextDelta()), events.toString());
    StreamSendMessageResponse done = events.get(events.size() - 1);
    assertEquals("You said: Again", text(done.getChatEvent().getDone().getResponse()));
    // The history so far, as a client keeping it would have sent it.
    assertEquals(List.of("system: Be brief.", "user: Hello", "assistant: You said: Hello", "user: Again"), sent(1));

    Conversation stored = get(stub, created.getId());
    assertEquals(List.of("Hello", "You said: Hello", "Again", "You said: Again"),
        stored.getMessagesList().stream().map(m -> m.getParts(0).getText()).toList());
    assertEquals(3, stored.getRevision());
    assertEquals(20 + 40, stored.getUsage().getInputTokens()); // 10 per message sent: 2, then 4
    assertEquals(40 + 5, stored.getHistoryTokens());
    assertEquals(Map.of("team", "a"), stored.getMetadataMap());

    Conversation second = create(stub, newConversation().putMetadata("team", "a"));
    Conversation other = create(stub, newConversation().putMetadata("team", "b"));
    ListConversationsResponse page1 = stub.listConversations(ListConversationsRequest.newBuilder()
        .putMetadata("team", "a").setPageSize(1).build());
    assertEquals(1, page1.getConversationsCount());
    assertEquals(0, page1.getConversations(0).getMessagesCount(), "a list leaves the messages out");
    ListConversationsResponse page2 = stub.listConversations(ListConversationsRequest.newBuilder()
        .putMetadata("team", "a").setPageSize(1).setPageToken(page1.getNextPageToken()).build());
    assertEquals("", page2.getNextPageToken());
    assertEquals(Set.of(created.getId(), second.getId()), Set.of(
        page1.getConversations(0).getId(), page2.getConversations(0).getId()));
    assertEquals(3, stub.listConversations(ListConversationsRequest.getDefaultInstance()).getConversationsCount());
    assertEquals(other.getId(), stub.listConversations(ListConversationsRequest.newBuilder()
        .putMetadata("team", "b").build()).getConversations(0).getId());

    stub.deleteConversation(DeleteConversationRequest.newBuilder().setConversationId(created.getId()).build());
    assertStatus(Status.Code.NOT_FOUND, created.getId(), () -> get(stub, created.getId()));
    assertStatus(Status.Code.NOT_FOUND, created.getId(), () -> stub.deleteConversation(
        DeleteConversationRequest.newBuilder().setConversationId(created.getId()).build()));
    assertEquals(1, stub.listConversations(ListConversationsRequest.newBuilder().putMetadata("team", "a").build())
        .getConversationsCount());
  }

  @Test
  void toolCallsWaitForTheirResults() {
    ConversationServiceBlockingStub stub = conversations(router("off").channel());
    Conversation created = create(stub, newConversation().addTools(Tool.newBuilder().setName("get_weather")
        .setDescription("The weather in a city").setParameters(OBJECT_SCHEMA)));
    SendMessageResponse asked = say(stub, created.getId(), "What is the weather in Paris?");
    assertEquals(FinishReason.FINISH_REASON_TOOL_CALLS, asked.getResponse().getFinishReason());
    String callId = asked.getResponse().getMessage().getToolCalls(0).getId();

    assertStatus(Status.Code.FAILED_PRECONDITION, "tool_results", () -> say(stub, created.getId(), "Hello?"));
    assertStatus(Status.Code.INVALID_ARGUMENT, "exactly the calls", () -> stub.sendMessage(SendMessageRequest
        .newBuilder().setConversationId(created.getId()).addToolResults(toolResult("call_other", "Sunny")).build()));

    SendMessageResponse answered = stub.sendMessage(SendMessageRequest.newBuilder()
        .setConversationId(created.getId()).addToolResults(toolResult(callId, "Sunny, 21 C")).build());
    assertEquals("Tool said: Sunny, 21 C", text(answered.getResponse()));
    assertEquals(List.of(Role.ROLE_USER, Role.ROLE_ASSISTANT, Role.ROLE_TOOL, Role.ROLE_ASSISTANT),
        get(stub, created.getId()).getMessagesList().stream().map(Message::getRole).toList());
  }

  private static Message toolResult(String callId, String text) {
    return Message.newBuilder().setRole(Role.ROLE_TOOL).setToolCallId(callId)
        .addParts(Part.newBuilder().setText(text)).build();
  }

  @Test
  void oneMessageAtATimeAndACancelledOneIsNotStored() throws Exception {
    RunningRouter router = router("off");
    ConversationServiceBlockingStub stub = conversations(router.channel());
    String id = create(stub, newConversation()).getId();
    Context.CancellableContext call = Context.current().withCancellation();
    call.run(() -> ConversationServiceGrpc.newStub(router.channel()).sendMessage(SendMessageRequest.newBuilder()
        .setConversationId(id).setMessage(user(ScriptedChatModel.STALLING_PROMPT)).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(SendMessageResponse value) {
          }

          @Override
          public void onError(Throwable t) {
          }

          @Override
          public void onCompleted() {
          }
        }));
    assertTrue(Await.until(Duration.ofSeconds(10),
        () -> upstream.received().size() == 1));
    assertStatus(Status.Code.FAILED_PRECONDITION, "answering another message", () -> say(stub, id, "Hello"));
    call.cancel(null);
    assertTrue(upstream.awaitNoRequestInFlight(10, TimeUnit.SECONDS), "the model call stops");
    // Nothing of the cancelled turn was kept, and the conversation takes the next message.
    assertTrue(Await.until(Duration.ofSeconds(10), () -> {
      try {
        return say(stub, id, "Hello").getResponse().getMessage().getParts(0).getText().equals("You said: Hello");
      } catch (StatusRuntimeException stillAnswering) {
        return false;
      }
    }));
    assertEquals(List.of("system: Be brief.", "user: Hello"), sent(upstream.received().size() - 1));
  }

  @Test
  void aPromptTemplateOpensTheConversation() throws Exception {
    Path prompts = Files.createDirectories(dir.resolve("prompts"));
    Files.writeString(prompts.resolve("guide.yaml"), """
        name: guide
        model: openai/gpt-test
        variables:
          city: { type: string, required: true }
        messages:
          - role: system
            text: "You are a guide to {{city}}."
          - role: user
            text: "I am visiting {{city}}."
        """);
    RunningRouter router = routerOf(config("off", upstream.baseUrl(), "prompts: { dir: \"" + prompts + "\" }"));
    ConversationServiceBlockingStub stub = conversations(router.channel());
    Conversation created = create(stub, CreateConversationRequest.newBuilder().setPrompt(
        PromptReference.newBuilder().setName("guide").setVariables(Struct.newBuilder()
            .putFields("city", Value.newBuilder().setStringValue("Rome").build()))));
    assertEquals("openai/gpt-test", created.getModel());
    assertEquals("You are a guide to Rome.", created.getSystemPrompt());
    assertEquals(1, created.getPrompt().getVersion());
    say(stub, created.getId(), "Where do I start?");
    assertEquals(List.of("system: You are a guide to Rome.", "user: I am visiting Rome.", "user: Where do I start?"),
        sent(0));
    assertStatus(Status.Code.INVALID_ARGUMENT, "prompt.variables.city", () -> create(stub,
        CreateConversationRequest.newBuilder().setPrompt(PromptReference.newBuilder()
            .setName("guide"))));
  }

  @Test
  void badRequestsGetClearStatuses() {
    ConversationServiceBlockingStub stub = conversations(router("off").channel());
    assertStatus(Status.Code.NOT_FOUND, "conv_nope", () -> get(stub, "conv_nope"));
    assertStatus(Status.Code.NOT_FOUND, "conv_nope", () -> say(stub, "conv_nope", "Hi"));
    assertStatus(Status.Code.INVALID_ARGUMENT, "conversation_id", () -> say(stub, "", "Hi"));
    assertStatus(Status.Code.INVALID_ARGUMENT, "conversation_id", () -> stub.deleteConversation(
        DeleteConversationRequest.getDefaultInstance()));
    Conversation created = create(stub, newConversation());
    assertStatus(Status.Code.INVALID_ARGUMENT, "not both", () -> stub.sendMessage(SendMessageRequest.newBuilder()
        .setConversationId(created.getId()).setMessage(user("Hi")).addToolResults(toolResult("c", "r")).build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "at least one part", () -> stub.sendMessage(SendMessageRequest
        .newBuilder().setConversationId(created.getId()).setMessage(Message.getDefaultInstance()).build()));
    assertStatus(Status.Code.FAILED_PRECONDITION, "no tool calls wait", () -> stub.sendMessage(SendMessageRequest
        .newBuilder().setConversationId(created.getId()).addToolResults(toolResult("c", "r")).build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "history_token_budget", () -> create(stub,
        newConversation().setHistoryTokenBudget(-1)));
    assertStatus(Status.Code.INVALID_ARGUMENT, "exclusive", () -> create(stub, newConversation()
        .setPrompt(PromptReference.newBuilder().setName("any"))));
    assertStatus(Status.Code.INVALID_ARGUMENT, "model", () -> create(stub, CreateConversationRequest.newBuilder()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "page_size", () -> stub.listConversations(ListConversationsRequest
        .newBuilder().setPageSize(5000).build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "page_token", () -> stub.listConversations(ListConversationsRequest
        .newBuilder().setPageToken("not-a-token").build()));
    assertEquals(0, upstream.received().size(), "no bad request reached the model");
  }

  @Test
  void aBudgetNeedsACompactionModel() {
    RunningRouter router = routerOf("""
        cassettes: { mode: "off" }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        """.formatted(upstream.baseUrl()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "conversations: { compaction: { model", () -> create(
        conversations(router.channel()), newConversation().setHistoryTokenBudget(100)));
  }

  @Test
  void conversationsOutliveTheRouterProcess() throws Exception {
    Path config = dir.resolve("router.yaml");
    Files.writeString(config, config("off", upstream.baseUrl(), "data_dir: \"" + dir.resolve("data") + "\""));
    Map<String, String> environment = Map.of("TEST_API_KEY", RunningRouter.TEST_KEY);
    String id;
    try (RouterProcess first = RouterProcess.start(config, environment)) {
      ConversationServiceBlockingStub stub = conversations(first.channel());
      id = create(stub, newConversation()).getId();
      say(stub, id, "Remember me");
    } // killed, not drained: what was answered was already stored
    try (RouterProcess second = RouterProcess.start(config, environment)) {
      ConversationServiceBlockingStub stub = conversations(second.channel());
      assertEquals(2, get(stub, id).getMessagesCount());
      assertEquals("You said: Later", text(say(stub, id, "Later").getResponse()));
      assertEquals(List.of("system: Be brief.", "user: Remember me", "assistant: You said: Remember me",
          "user: Later"), sent(1));
    }
  }

  @Test
  void aConverseSessionDrivesAStoredConversation() throws Exception {
    RunningRouter router = router("off");
    ConversationServiceBlockingStub stub = conversations(router.channel());
    String id = create(stub, newConversation()).getId();
    say(stub, id, "Hello");

    dev.llmrouter.server.testing.Conversation live = dev.llmrouter.server.testing.Conversation.open(router);
    live.send(ConverseRequest.newBuilder().setStart(ConverseStart.newBuilder().setConversationId(id)).build());
    live.until(ConverseEvent::hasSessionStarted);
    live.user("From the live page");
    assertEquals("You said: From the live page",
        live.until(ConverseEvent::hasTurnCompleted).getTurnCompleted().getMessage().getParts(0).getText());
    assertEquals(List.of("system: Be brief.", "user: Hello", "assistant: You said: Hello",
        "user: From the live page"), sent(1));
    live.requests.onCompleted();
    assertEquals(Status.Code.OK, live.closed.get().getCode());

    // The live turn was written back, measured by the estimate (4 characters a token, 75 characters in all): the
    // conversation goes on from it.
    Conversation written = get(stub, id);
    assertEquals(4, written.getMessagesCount());
    assertEquals(19, written.getHistoryTokens());
    say(stub, id, "And now?");
    assertEquals("user: And now?", sent(2).get(5));

    dev.llmrouter.server.testing.Conversation unknown = dev.llmrouter.server.testing.Conversation.open(router);
    unknown.send(ConverseRequest.newBuilder().setStart(ConverseStart.newBuilder().setConversationId("conv_nope"))
        .build());
    Status refused = unknown.closed.get();
    assertEquals(Status.Code.NOT_FOUND, refused.getCode(), refused.toString());
    assertTrue(refused.getDescription().contains("conv_nope"), refused.getDescription());
  }

  /**
   * A conversation of three turns under a budget its history outgrows: the third message first compacts the first
   * turn, with its tool call and result, into a summary; then everything replays with the upstream gone.
   */
  @Test
  void compactionIsRecordedAndReplaysTheSameHistory() throws Exception {
    Conversation recorded = compactedConversation(router("record"));
    assertEquals(5, upstream.received().size(), "three answers, one tool round-trip and one summary call");
    assertEquals("Summary of 1 user turns.", recorded.getSummary());
    assertEquals(1, recorded.getCompactionsCount());
    Compaction compaction = recorded.getCompactions(0);
    assertEquals(1, compaction.getTurnsCompacted());
    assertEquals(4, compaction.getMessagesCompacted()); // user, tool call, tool result, answer: never split
    assertEquals(65, compaction.getTokensBefore()); // the tool answer: 6 messages in, 5 out
    assertEquals(50, compaction.getTokensAfter()); // system, summary, 2 kept, the new user turn
    assertEquals(List.of("Second", "You said: Second", "Third", "You said: Third"),
        recorded.getMessagesList().stream().map(m -> m.getParts(0).getText()).toList());
    // The summary model read the whole first turn, the tool call with its result.
    String transcript = sent(3).get(1);
    assertTrue(transcript.contains("[assistant calls get_weather as ") && transcript.contains("]\nSunny"),
        transcript);
    assertEquals(List.of("system: Be brief.", "system: Summary of the earlier conversation:\nSummary of 1 user "
        + "turns.", "user: Second", "assistant: You said: Second", "user: Third"), sent(4));

    String gone = upstream.baseUrl();
    upstream.close();
    RunningRouter replaying = routerOf(config("replay", gone, "data_dir: \"" + dir.resolve("replay-data") + "\""));
    Conversation replayed = compactedConversation(replaying);
    assertEquals(strip(recorded), strip(replayed));
  }

  /** What the conversation holds that a replay must reproduce: all but its id and times. */
  private static Conversation strip(Conversation conversation) {
    Conversation.Builder stripped = conversation.toBuilder().clearId().clearCreateTime().clearUpdateTime();
    for (int i = 0; i < stripped.getCompactionsCount(); i++) {
      stripped.setCompactions(i, stripped.getCompactions(i).toBuilder().clearTime());
    }
    return stripped.build();
  }

  private Conversation compactedConversation(RunningRouter router) {
    ConversationServiceBlockingStub stub = conversations(router.channel());
    String id = create(stub, newConversation().setHistoryTokenBudget(40).addTools(Tool.newBuilder()
        .setName("get_weather").setDescription("The weather in a city")
        .setParameters(OBJECT_SCHEMA))).getId();
    SendMessageResponse asked = say(stub, id, "What is the weather in Paris?");
    stub.sendMessage(SendMessageRequest.newBuilder().setConversationId(id).addToolResults(
        toolResult(asked.getResponse().getMessage().getToolCalls(0).getId(), "Sunny")).build());
    SendMessageResponse second = say(stub, id, "Second"); // the history is over budget, but one turn is kept
    assertFalse(second.hasCompaction());
    Iterator<StreamSendMessageResponse> third = stub.streamSendMessage(SendMessageRequest.newBuilder()
        .setConversationId(id).setMessage(user("Third")).build());
    StreamSendMessageResponse firstEvent = third.next();
    assertTrue(firstEvent.hasCompaction(), firstEvent.toString());
    third.forEachRemaining(event -> { });
    return get(stub, id);
  }

  /** The README's conversation, on the embedded default: replayed from `cassettes/recorded/conversation/`. */
  @Test
  void theReadmeConversationReplaysOnTheEmbeddedDefault() throws Exception {
    var defaults = ConfigLoader.embeddedDefault(name -> null);
    RunningRouter router = RunningRouter.start(vertx, defaults.withCassettes(defaults.cassettes()
        .withDir("../cassettes/recorded")));
    routers.add(router);
    Metadata scope = new Metadata();
    scope.put(Metadata.Key.of("x-cassette-scope", Metadata.ASCII_STRING_MARSHALLER), "conversation");
    ConversationServiceBlockingStub stub = conversations(router.channel())
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(scope));
    CreateConversationRequest.Builder create = CreateConversationRequest.newBuilder();
    JsonFormat.parser().merge("""
        {"model": "openai/gpt-4o-mini", "systemPrompt": "You are a concise travel guide.",
         "metadata": {"app": "readme"}, "historyTokenBudget": 60}""", create);
    String id = create(stub, create).getId();
    assertEquals("The capital of France is Paris.", text(say(stub, id, "What is the capital of France?")
        .getResponse()));
    assertFalse(say(stub, id, "And how many people live there?").hasCompaction());
    SendMessageResponse third = say(stub, id, "What should I see there first?");
    assertTrue(text(third.getResponse()).startsWith("Start with the Louvre"), third.toString());
    assertEquals(70, third.getCompaction().getTokensBefore());
    Conversation stored = get(stub, id);
    assertEquals("The user asked for the capital of France; the answer was Paris.", stored.getSummary());
    assertEquals(71, stored.getCompactions(0).getTokensAfter());
    assertEquals(4, stored.getMessagesCount());
  }

  @Test
  void postgresKeepsConversationsForTheFleet() throws Exception {
    Assumptions.assumeTrue(PostgresServer.installed(), PostgresServer.NOT_INSTALLED);
    try (PostgresServer postgres = PostgresServer.start()) {
      String store = TestCallLog.postgres(postgres).yaml("");
      RunningRouter first = routerOf(config("off", upstream.baseUrl(), store));
      RunningRouter second = routerOf(config("off", upstream.baseUrl(), store));
      ConversationServiceBlockingStub one = conversations(first.channel());
      ConversationServiceBlockingStub other = conversations(second.channel());
      String id = create(one, newConversation().putMetadata("team", "a")).getId();
      say(one, id, "Hello");
      // Another replica goes on with it.
      assertEquals("You said: Again", text(say(other, id, "Again").getResponse()));
      assertEquals(4, get(one, id).getMessagesCount());
      assertEquals(id, other.listConversations(ListConversationsRequest.newBuilder().putMetadata("team", "a")
          .build()).getConversations(0).getId());
      other.deleteConversation(DeleteConversationRequest.newBuilder().setConversationId(id).build());
      assertStatus(Status.Code.NOT_FOUND, id, () -> get(one, id));
      for (RunningRouter router : routers) {
        router.close();
      }
      routers.clear();
    }
  }
}
