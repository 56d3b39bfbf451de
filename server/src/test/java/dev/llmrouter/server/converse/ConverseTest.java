package dev.llmrouter.server.converse;

import static dev.llmrouter.server.testing.OpenAiStreams.answerText;
import static dev.llmrouter.server.testing.OpenAiStreams.answerToolCall;
import static dev.llmrouter.server.testing.OpenAiStreams.chunk;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.Interrupt;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.TurnCompleted;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.Conversation;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Metadata;
import io.grpc.Status;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Live sessions over `Converse`, through a real grpc-java bidirectional stream and the real router. */
class ConverseTest {

  private static final String FINAL_PROMPT = "Out of tools: sum up.";

  @TempDir
  Path cassettes;
  private Vertx vertx;
  private MockUpstream upstream;
  private final List<RunningRouter> routers = new ArrayList<>();
  private final ManualClock clock = new ManualClock();

  @BeforeEach
  void startUpstream() {
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx);
  }

  @AfterEach
  void stopAll() throws Exception {
    for (RunningRouter router : routers) {
      router.close();
    }
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private RunningRouter router(String mode) {
    RunningRouter router = RunningRouter.start(vertx, """
        event_loops: 2
        cassettes: { dir: "%s", mode: "%s" }
        converse: { idle_timeout: 10m, max_steps: 6, final_prompt: "%s" }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        """.formatted(cassettes, mode, FINAL_PROMPT, upstream.baseUrl()), clock);
    routers.add(router);
    return router;
  }

  // ---- a scripted OpenAI upstream: it reads the conversation it is sent and answers accordingly

  private static int toolResultsIn(HttpServerRequest r, MockUpstream upstream) {
    int count = 0;
    for (var message : OpenAiWire.read(upstream.lastRequest().body()).path("messages")) {
      if (message.path("role").asText().equals("tool")) {
        count++;
      }
    }
    return count;
  }

  private static ConverseRequest start(String... toolNames) {
    ConverseStart.Builder start = ConverseStart.newBuilder().setModel("openai/gpt-4o-mini")
        .setSystemPrompt("You are a weather assistant.");
    for (String name : toolNames) {
      start.addTools(Tool.newBuilder().setName(name).setParameters(Struct.newBuilder().putFields("type",
          Value.newBuilder().setStringValue("object").build())));
    }
    return ConverseRequest.newBuilder().setStart(start).build();
  }

  // ---- the tests

  /** Two tool round-trips in turn 1, then a second turn. */
  private List<ConverseEvent> weatherConversation(RunningRouter router) throws InterruptedException {
    Conversation c = Conversation.open(router).send(start("get_weather"));
    c.until(ConverseEvent::hasSessionStarted);
    c.user("Weather in Paris and Rome?");
    c.answer(c.until(ConverseEvent::hasToolCalls), "18C");
    c.answer(c.until(ConverseEvent::hasToolCalls), "24C");
    c.until(ConverseEvent::hasTurnCompleted);
    c.user("Thanks!");
    c.until(ConverseEvent::hasTurnCompleted);
    c.requests.onCompleted();
    return c.all;
  }

  @Test
  void aConversationWithToolRoundTripsRecordsAndReplaysEventForEvent() throws Exception {
    upstream.answer(r -> {
      int results = toolResultsIn(r, upstream);
      boolean secondTurn = upstream.lastRequest().body().contains("Thanks!");
      if (secondTurn) {
        answerText(r, "You're ", "welcome.");
      } else if (results < 2) {
        answerToolCall(r, "get_weather", results == 0 ? "Paris" : "Rome");
      } else {
        answerText(r, "Paris: 18C, ", "Rome: 24C.");
      }
    });
    List<ConverseEvent> recorded = weatherConversation(router("record"));
    assertEquals(4, upstream.received().size(), "three model calls in turn 1, one in turn 2");
    ConverseEvent last = recorded.get(recorded.size() - 1);
    assertEquals("You're welcome.", last.getTurnCompleted().getMessage().getParts(0).getText());

    upstream.close(); // replay needs no upstream
    List<ConverseEvent> replayed = weatherConversation(router("replay"));
    assertEquals(recorded.size(), replayed.size());
    for (int i = 0; i < recorded.size(); i++) {
      assertArrayEquals(recorded.get(i).toByteArray(), replayed.get(i).toByteArray(), "event " + i + ": "
          + replayed.get(i));
    }
  }

  @Test
  void anInterruptStopsTheUpstreamKeepsThePartialTextAndTheNextTurnWorks() throws Exception {
    upstream.answer(r -> {
      if (upstream.received().size() == 1) {
        HttpServerResponse response = r.response().setChunked(true).putHeader("content-type", "text/event-stream");
        response.write(chunk("{\"content\":\"Once upon a time\"}", null)); // ...and then nothing more
      } else {
        answerText(r, "Sure.");
      }
    });
    RunningRouter router = router("off");
    Conversation c = Conversation.open(router).send(start());
    c.until(ConverseEvent::hasSessionStarted);
    c.user("Tell me a long story.");
    assertEquals("Once upon a time", c.until(ConverseEvent::hasTextDelta).getTextDelta().getText());
    long interruptedAt = System.nanoTime();
    c.send(ConverseRequest.newBuilder().setInterrupt(Interrupt.getDefaultInstance()).build());
    ConverseEvent done = c.until(ConverseEvent::hasTurnCompleted);
    assertTrue(done.getTurnCompleted().getInterrupted());
    assertEquals("Once upon a time", done.getTurnCompleted().getMessage().getParts(0).getText());
    assertTrue(upstream.awaitAllConnectionsClosed(1, TimeUnit.SECONDS), "the upstream request was closed");
    assertTrue(System.nanoTime() - interruptedAt < TimeUnit.SECONDS.toNanos(1));

    c.user("Shorter, please.");
    assertEquals("Sure.", c.until(ConverseEvent::hasTurnCompleted).getTurnCompleted().getMessage().getParts(0)
        .getText());
    assertTrue(upstream.lastRequest().body().contains("Once upon a time"), "the partial answer is in the history");
    c.requests.onCompleted();
    assertEquals(Status.Code.OK, c.closed.get(5, TimeUnit.SECONDS).getCode(), "a half-close ends the session");
  }

  @Test
  void aUserMessageDuringARunningTurnIsATurnErrorAndTheStreamStaysOpen() throws Exception {
    CompletableFuture<HttpServerRequest> held = new CompletableFuture<>();
    upstream.answer(held::complete); // the first turn runs until the test has seen the second message refused
    Conversation c = Conversation.open(router("off")).send(start());
    c.until(ConverseEvent::hasSessionStarted);
    c.user("First");
    c.user("Second, too early");
    ConverseEvent error = c.until(ConverseEvent::hasTurnError);
    assertEquals(Status.Code.FAILED_PRECONDITION.value(), error.getTurnError().getCode());
    answerText(held.get(10, TimeUnit.SECONDS), "Done.");
    assertEquals("Done.", c.until(ConverseEvent::hasTurnCompleted).getTurnCompleted().getMessage().getParts(0)
        .getText());
    assertFalse(c.closed.isDone());
    c.requests.onCompleted();
  }

  @Test
  void anExhaustedToolBudgetTriggersTheFinalPrompt() throws Exception {
    upstream.answer(r -> {
      if (upstream.lastRequest().body().contains(FINAL_PROMPT)) {
        answerText(r, "I searched once; the rest is left.");
      } else {
        answerToolCall(r, "search", "x");
      }
    });
    Conversation c = Conversation.open(router("off")).send(ConverseRequest.newBuilder().setStart(
        start("search").getStart().toBuilder().putToolBudgets("search", 1)).build());
    c.until(ConverseEvent::hasSessionStarted);
    c.user("Research this.");
    c.answer(c.until(ConverseEvent::hasToolCalls), "a result");
    ConverseEvent done = c.until(ConverseEvent::hasTurnCompleted);
    assertEquals("I searched once; the rest is left.", done.getTurnCompleted().getMessage().getParts(0).getText());
    assertEquals(2, upstream.received().size());
    var last = OpenAiWire.read(upstream.lastRequest().body());
    assertEquals("none", last.path("tool_choice").asText(), "the final call may not use tools");
    c.requests.onCompleted();
  }

  @Test
  void runningOutOfStepsTriggersTheFinalPrompt() throws Exception {
    upstream.answer(r -> {
      if (upstream.lastRequest().body().contains(FINAL_PROMPT)) {
        answerText(r, "Summary after two steps.");
      } else {
        answerToolCall(r, "search", "x");
      }
    });
    Conversation c = Conversation.open(router("off")).send(ConverseRequest.newBuilder().setStart(
        start("search").getStart().toBuilder().setMaxSteps(2)).build());
    c.until(ConverseEvent::hasSessionStarted);
    c.user("Research this.");
    c.answer(c.until(ConverseEvent::hasToolCalls), "r1");
    c.answer(c.until(ConverseEvent::hasToolCalls), "r2");
    ConverseEvent done = c.until(ConverseEvent::hasTurnCompleted);
    assertEquals("Summary after two steps.", done.getTurnCompleted().getMessage().getParts(0).getText());
    assertEquals(3, upstream.received().size(), "two steps, then the final call");
    c.requests.onCompleted();
  }

  @Test
  void aSessionResumesAfterItsStreamDropsAndExpiresWhenLeftIdle() throws Exception {
    upstream.answer(r -> answerText(r, upstream.lastRequest().body().contains("my name is Ada") ? "Hello Ada."
        : "Hi."));
    RunningRouter router = router("off");
    Conversation first = Conversation.open(router).send(start());
    String id = first.until(ConverseEvent::hasSessionStarted).getSessionStarted().getSessionId();
    first.user("Hi, my name is Ada.");
    first.until(ConverseEvent::hasTurnCompleted);
    first.requests.onError(new RuntimeException("the client's network dropped"));

    Conversation second = Conversation.open(router).send(ConverseRequest.newBuilder().setStart(
        ConverseStart.newBuilder().setResumeSessionId(id)).build());
    ConverseEvent resumed = second.until(ConverseEvent::hasSessionStarted);
    assertTrue(resumed.getSessionStarted().getResumed());
    assertEquals(id, resumed.getSessionStarted().getSessionId());
    second.user("What is my name?");
    second.until(ConverseEvent::hasTurnCompleted);
    assertTrue(upstream.lastRequest().body().contains("my name is Ada"), "the history came along");
    second.requests.onError(new RuntimeException("dropped again"));
    // The idle time runs from when the router let the session go: once it has seen the stream drop.
    assertTrue(Await.until(Duration.ofSeconds(10), () -> router.openStreams("Converse") == 0));

    clock.advance(Duration.ofMinutes(10).plusSeconds(1));
    Conversation late = Conversation.open(router).send(ConverseRequest.newBuilder().setStart(
        ConverseStart.newBuilder().setResumeSessionId(id)).build());
    assertEquals(Status.Code.NOT_FOUND, late.closed.get(5, TimeUnit.SECONDS).getCode());
  }

  @Test
  void aSessionResumedOverAnotherConnectionAndEventLoopFinishesItsTurnThere() throws Exception {
    String[] pieces = IntStream.range(0, 500).mapToObj(i -> "w" + i + " ").toArray(String[]::new);
    upstream.answer(r -> {
      if (toolResultsIn(r, upstream) == 0) {
        answerToolCall(r, "get_weather", "Paris");
      } else {
        answerText(r, pieces);
      }
    });
    RunningRouter router = router("off");
    Conversation first = Conversation.open(router).send(start("get_weather"));
    String id = first.until(ConverseEvent::hasSessionStarted).getSessionStarted().getSessionId();
    first.user("Weather in Paris?");
    ConverseEvent toolCalls = first.until(ConverseEvent::hasToolCalls);
    first.requests.onError(new RuntimeException("the client's network dropped"));
    // One stream drives a session at a time: the router lets it go once it has seen the stream drop.
    assertTrue(Await.until(Duration.ofSeconds(10), () -> router.openStreams("Converse") == 0));

    // A new connection goes to the router's next event loop; the session lived on the loop of the first one.
    Conversation resumed = Conversation.open(router.newConnection(), new Metadata()).send(ConverseRequest
        .newBuilder().setStart(ConverseStart.newBuilder().setResumeSessionId(id)).build());
    assertTrue(resumed.until(ConverseEvent::hasSessionStarted).getSessionStarted().getResumed());
    resumed.answer(toolCalls, "18C");
    TurnCompleted turn = resumed.until(ConverseEvent::hasTurnCompleted).getTurnCompleted();

    assertEquals(String.join("", pieces), turn.getMessage().getParts(0).getText());
    assertEquals(pieces.length, resumed.all.stream().filter(ConverseEvent::hasTextDelta).count(),
        "every delta reached the resumed stream, in order");
    resumed.requests.onCompleted();
    assertEquals(Status.Code.OK, resumed.closed.get(5, TimeUnit.SECONDS).getCode());
  }

  @Test
  void aSessionAStreamDrivesCannotBeResumedByAnother() throws Exception {
    RunningRouter router = router("off");
    Conversation driving = Conversation.open(router).send(start());
    String id = driving.until(ConverseEvent::hasSessionStarted).getSessionStarted().getSessionId();

    Conversation second = Conversation.open(router.newConnection(), new Metadata()).send(ConverseRequest.newBuilder()
        .setStart(ConverseStart.newBuilder().setResumeSessionId(id)).build());

    Status refused = second.closed.get(5, TimeUnit.SECONDS);
    assertEquals(Status.Code.FAILED_PRECONDITION, refused.getCode(), refused::toString);
    assertTrue(refused.getDescription().contains("session '" + id + "' is driven by another stream"),
        refused::toString);
    assertFalse(driving.closed.isDone(), "the first stream goes on");
    driving.requests.onCompleted();
    assertEquals(Status.Code.OK, driving.closed.get(5, TimeUnit.SECONDS).getCode());
  }

  @Test
  void aClientThatHalfClosesRightAfterItsQuestionStillGetsTheAnswer() throws Exception {
    upstream.answer(r -> vertx.setTimer(200, t -> answerText(r, "Answered.")));
    Conversation c = Conversation.open(router("off")).send(start());
    c.user("One question, then I close.");
    c.requests.onCompleted();
    assertEquals("Answered.", c.until(ConverseEvent::hasTurnCompleted).getTurnCompleted().getMessage().getParts(0)
        .getText());
    assertEquals(Status.Code.OK, c.closed.get(5, TimeUnit.SECONDS).getCode());
  }

  @Test
  void aHalfCloseEndsTheSession() throws Exception {
    RunningRouter router = router("off");
    Conversation c = Conversation.open(router).send(start());
    String id = c.until(ConverseEvent::hasSessionStarted).getSessionStarted().getSessionId();
    c.requests.onCompleted();
    assertEquals(Status.Code.OK, c.closed.get(5, TimeUnit.SECONDS).getCode());
    Conversation resumed = Conversation.open(router).send(ConverseRequest.newBuilder().setStart(
        ConverseStart.newBuilder().setResumeSessionId(id)).build());
    assertEquals(Status.Code.NOT_FOUND, resumed.closed.get(5, TimeUnit.SECONDS).getCode());
  }

  @Test
  void aUserTurnWithoutPartsOrWithAnotherRoleIsATurnError() throws Exception {
    Conversation c = Conversation.open(router("off")).send(start());
    c.until(ConverseEvent::hasSessionStarted);
    c.send(ConverseRequest.newBuilder().setUser(Message.newBuilder().setRole(Role.ROLE_USER)).build());
    ConverseEvent noParts = c.until(ConverseEvent::hasTurnError);
    assertEquals(Status.Code.INVALID_ARGUMENT.value(), noParts.getTurnError().getCode());
    assertTrue(noParts.getTurnError().getMessage().startsWith("user.parts:"), noParts::toString);
    c.send(ConverseRequest.newBuilder().setUser(Message.newBuilder().setRole(Role.ROLE_ASSISTANT)
        .addParts(Part.newBuilder().setText("I am the model now"))).build());
    ConverseEvent assistant = c.until(ConverseEvent::hasTurnError);
    assertTrue(assistant.getTurnError().getMessage().startsWith("user.role:"), assistant::toString);
    assertTrue(upstream.received().isEmpty());
    c.requests.onCompleted();
  }

  @Test
  void toolBudgetsMustNameDeclaredToolsAndBeZeroOrMore() throws Exception {
    Conversation c = Conversation.open(router("off")).send(ConverseRequest.newBuilder().setStart(
        start("search").getStart().toBuilder().putToolBudgets("search", -1).putToolBudgets("nope", 2)).build());
    Status status = c.closed.get(5, TimeUnit.SECONDS);
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertTrue(status.getDescription().contains("start.tool_budgets['search']: must be 0 or more, not -1"),
        status::toString);
    assertTrue(status.getDescription().contains("start.tool_budgets['nope']: names no tool of start.tools"),
        status::toString);
  }

  @Test
  void aHugeResumeSessionIdIsCutInTheMessage() throws Exception {
    Conversation c = Conversation.open(router("off")).send(ConverseRequest.newBuilder().setStart(
        ConverseStart.newBuilder().setResumeSessionId("s".repeat(10 * 1024))).build());
    Status status = c.closed.get(5, TimeUnit.SECONDS);
    assertEquals(Status.Code.NOT_FOUND, status.getCode(), status::toString);
    assertTrue(status.getDescription().contains("...' (10240 characters)"), status::toString);
  }

  @Test
  void aStreamMustStartWithStart() throws Exception {
    Conversation c = Conversation.open(router("off")).user("Hello?");
    assertEquals(Status.Code.INVALID_ARGUMENT, c.closed.get(5, TimeUnit.SECONDS).getCode());
  }
}
