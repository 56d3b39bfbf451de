package dev.llmrouter.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.server.testing.OpenAiAnswerTable;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.TestCertificates;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against the real router (cassettes in `auto` mode) in front of a mock OpenAI upstream, over mTLS: the
 * router's certificate from a test CA the client trusts, the client's from the CA the router checks clients against.
 */
class LlmRouterClientTest {

  private static final String MODEL = "openai/gpt-4o-mini";
  private static final String PROMPT = "What is the capital of France?";
  private static final String ANSWER = "The capital of France is Paris.";

  private static TestCertificates certificates;
  private static RouterWithUpstream setup;
  private LlmRouterClient client;

  @BeforeAll
  static void startRouter(@TempDir Path cassettes, @TempDir Path certificateDir) {
    certificates = TestCertificates.create(certificateDir);
    setup = RouterWithUpstream.start("""
        cassettes: { dir: "%s", mode: auto }
        providers:
          - { name: openai, type: openai, base_url: "%%1$s/v1", api_key: "${TEST_API_KEY}", models: [gpt-4o-mini] }
        %s
        """.formatted(cassettes, certificates.tlsSection(true)));
    OpenAiAnswerTable.answer(setup.upstream(), Map.of(PROMPT, ANSWER));
  }

  @AfterAll
  static void stopRouter() throws Exception {
    setup.close();
  }

  /** A client of the router, trusting its CA and presenting a certificate the router trusts. */
  private static LlmRouterClient.Builder router() {
    return trustingTheRouter().clientCertificate(certificates.client().certificate(), certificates.client().key());
  }

  private static LlmRouterClient.Builder trustingTheRouter() {
    return LlmRouterClient.builder().target("localhost:" + setup.router().port()).trustCertificates(certificates.ca());
  }

  @BeforeEach
  void connect() {
    client = router().build();
  }

  @AfterEach
  void disconnect() {
    client.close();
  }

  @Test
  void chatReturnsTheCompleteAnswer() {
    ChatResponse response = client.chat(ChatRequests.of(MODEL, Messages.user(PROMPT)));
    assertEquals(ANSWER, response.getMessage().getParts(0).getText());
    assertEquals(FinishReason.FINISH_REASON_STOP, response.getFinishReason());
    assertEquals(4, response.getUsage().getOutputTokens());
  }

  @Test
  void streamChatIteratesTheEventsFromStartToDone() {
    List<ChatEvent> events;
    try (ChatEventStream stream = client.streamChat(ChatRequests.of(MODEL, Messages.user(PROMPT)))) {
      events = stream.stream().toList();
    }
    assertTrue(events.get(0).hasStart());
    assertEquals(ANSWER, events.stream().filter(ChatEvent::hasTextDelta).map(e -> e.getTextDelta().getText())
        .collect(Collectors.joining()));
    assertEquals(ANSWER, events.get(events.size() - 1).getDone().getResponse().getMessage().getParts(0).getText());
  }

  @Test
  void closingAStreamEarlyCancelsTheCallUpToTheUpstream() {
    try (ChatEventStream stream = client.streamChat(ChatRequests.of(MODEL,
        Messages.user(OpenAiAnswerTable.STALLING_PROMPT)))) {
      assertTrue(stream.next().hasStart());
      assertEquals("Well, ", stream.next().getTextDelta().getText());
    }
    assertTrue(setup.upstream().awaitNoRequestInFlight(10, TimeUnit.SECONDS), "the router dropped the upstream call");
  }

  @Test
  void streamChatHandsEventsToCallbacksThenSaysDone() throws Exception {
    List<ChatEvent> events = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    client.streamChat(ChatRequests.of(MODEL, Messages.user(PROMPT)),
        EventHandler.of(events::add, done::completeExceptionally, () -> done.complete(null)));
    done.get(10, TimeUnit.SECONDS);
    assertTrue(events.get(events.size() - 1).hasDone());
  }

  @Test
  void streamChatHandsTheRouterStatusToOnError() throws Exception {
    CompletableFuture<StatusRuntimeException> failure = new CompletableFuture<>();
    client.streamChat(ChatRequests.of("nope/model", Messages.user(PROMPT)),
        EventHandler.of(event -> { }, failure::complete, () -> failure.completeExceptionally(new AssertionError())));
    StatusRuntimeException error = failure.get(10, TimeUnit.SECONDS);
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("nope/model"), error::toString);
  }

  @Test
  void chatThrowsTheRouterStatus() {
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> client.chat(ChatRequests.of("", Messages.user(PROMPT))));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
  }

  @Test
  void theDefaultDeadlineBoundsEveryCall() {
    try (LlmRouterClient hasty = router()
        .defaultDeadline(Duration.ofMillis(300)).build()) {
      StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
          () -> hasty.chat(ChatRequests.of(MODEL, Messages.user(OpenAiAnswerTable.STALLING_PROMPT))));
      assertEquals(Status.Code.DEADLINE_EXCEEDED, error.getStatus().getCode());
    }
  }

  @Test
  void defaultMetadataReachesTheRouter() {
    try (LlmRouterClient scoped = router()
        .metadata("x-cassette-scope", "client-test").build()) {
      ChatResponse response = scoped.chat(ChatRequests.of(MODEL, Messages.system("Be brief."), Messages.user(PROMPT)));
      assertEquals("client-test", response.getOrigin().getCassetteScope());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, response.getOrigin().getCassette());
    }
  }

  @Test
  void modelsListsTheConfiguredModels() {
    List<Model> models = client.models();
    assertEquals(List.of(MODEL), models.stream().map(Model::getName).toList());
  }

  @Test
  void anImageTravelsWithTheUserText() {
    byte[] png = {(byte) 0x89, 'P', 'N', 'G'};
    ChatResponse response = client.chat(ChatRequests.of(MODEL, Messages.user(PROMPT, png, "image/png")));
    assertEquals(ANSWER, response.getMessage().getParts(0).getText());
  }

  @Test
  void converseRunsATurnOnALiveSession() throws Exception {
    CompletableFuture<ConverseEvent> completed = new CompletableFuture<>();
    List<ConverseEvent> events = new CopyOnWriteArrayList<>();
    ConverseSession session = client.converse(ConverseStart.newBuilder().setModel(MODEL).build(),
        EventHandler.of(event -> {
          events.add(event);
          if (event.hasTurnCompleted()) {
            completed.complete(event);
          }
        }, error -> completed.completeExceptionally(error), () -> { }));
    session.sendUser(PROMPT);
    ConverseEvent done = completed.get(10, TimeUnit.SECONDS);
    assertEquals(ANSWER, done.getTurnCompleted().getMessage().getParts(0).getText());
    assertTrue(events.get(0).hasSessionStarted(), events::toString);
    session.close();
  }

  @Test
  void withoutItsCertificateTheClientIsRefused() {
    try (LlmRouterClient anonymous = trustingTheRouter().build()) {
      StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
          () -> anonymous.chat(ChatRequests.of(MODEL, Messages.user(PROMPT))));
      assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    }
  }

  @Test
  void helpersBuildTheMessagesTheApiExpects() {
    assertEquals("call-1", Messages.toolResult("call-1", "18°C").getToolCallId());
    assertEquals(List.of("ROLE_SYSTEM", "ROLE_USER", "ROLE_ASSISTANT", "ROLE_TOOL"),
        ChatRequests.of(MODEL, Messages.system("s"), Messages.user("u"), Messages.assistant("a"),
            Messages.toolResult("call-1", "t")).getMessagesList().stream().map(m -> m.getRole().name()).toList());
  }
}
