package dev.llmrouter.server.state;

import static dev.llmrouter.server.testing.OpenAiStreams.answerText;
import static dev.llmrouter.server.testing.OpenAiStreams.answerToolCall;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.ListCallsRequest;
import dev.llmrouter.api.v1.ObservabilityServiceGrpc;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.TurnCompleted;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.Conversation;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.OpenAiAnswerTable;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.PostgresServer;
import dev.llmrouter.server.testing.RedisServer;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.TestCallLog;
import io.grpc.Status;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two routers sharing one real `redis-server` (`shared_state.redis_url`), and a real PostgreSQL for their call log
 * where it is installed, resume each other's Converse sessions: a
 * session whose stream the client cancelled on one goes on on the other with its history, its waiting tool calls and
 * its tool budgets; one stream drives a session at a time, fleet-wide; a session left idle expires; and a Redis that
 * went away makes a session's stream end with UNAVAILABLE, not hang.
 */
class SessionsAcrossReplicasTest {

  private static final String FINAL_PROMPT = "Out of tools: sum up.";

  @TempDir
  static Path dir;

  private static Vertx vertx;
  private static RedisServer redis;
  private static PostgresServer postgres;
  /** The routers' `call_log:`: one PostgreSQL database for both, or each its own SQLite file without PostgreSQL. */
  private static String callLog = "";
  private static MockUpstream upstream;
  private static RunningRouter first;
  private static RunningRouter second;

  @BeforeAll
  static void startRedisAndRouters() throws Exception {
    assumeTrue(RedisServer.installed(), "redis-server is not on the PATH (Debian: apt-get install -y redis-server; "
        + ".ci/run installs it): skipping the tests of Converse sessions shared through Redis");
    redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
    if (PostgresServer.installed()) {
      postgres = PostgresServer.start();
      callLog = TestCallLog.postgres(postgres).yaml("");
    }
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx);
    first = router(redis, "10m");
    second = router(redis, "10m");
  }

  @AfterAll
  static void stopAll() throws Exception {
    if (redis == null) {
      return;
    }
    first.close();
    second.close();
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
    redis.close();
    if (postgres != null) {
      postgres.close();
    }
  }

  /** A router with two event loops whose sessions live in {@code sharedRedis}, each kept {@code idle} without a stream. */
  private static RunningRouter router(RedisServer sharedRedis, String idle) {
    return RunningRouter.start(vertx, """
        event_loops: 2
        cassettes: { dir: "%s", mode: "off" }
        converse: { idle_timeout: %s, final_prompt: "%s" }
        shared_state: { redis_url: "%s" }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        """.formatted(dir.resolve("cassettes"), idle, FINAL_PROMPT, sharedRedis.url(), upstream.baseUrl()) + callLog);
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

  private static ConverseRequest resume(String id) {
    return ConverseRequest.newBuilder().setStart(ConverseStart.newBuilder().setResumeSessionId(id)).build();
  }

  private static String sessionId(Conversation conversation) throws InterruptedException {
    return conversation.until(ConverseEvent::hasSessionStarted).getSessionStarted().getSessionId();
  }

  /** The client's network drops; the test goes on once the router has let the session go (its stream closed). */
  private static void drop(Conversation conversation, RunningRouter router) {
    conversation.requests.onError(new RuntimeException("the client's network dropped"));
    assertTrue(Await.until(Duration.ofSeconds(10), () -> router.openStreams("Converse") == 0),
        "the router saw the stream drop");
  }

  /** The messages of the upstream's last request, each as `role: text`. */
  private static List<String> lastConversationUpstream() {
    List<String> messages = new ArrayList<>();
    for (JsonNode message : OpenAiWire.read(upstream.lastRequest().body()).path("messages")) {
      messages.add(message.path("role").asText() + ": " + message.path("content").asText());
    }
    return messages;
  }

  private static Status closed(Conversation conversation) throws Exception {
    return conversation.closed.get(15, TimeUnit.SECONDS);
  }

  /** A session on the first router, and its id. */
  private record AdaOnFirst(Conversation conversation, String sessionId) {
  }

  /** A session started on the first router whose first turn ("Hi, my name is Ada.") has been answered. */
  private static AdaOnFirst adaIntroducedOnFirst() throws InterruptedException {
    OpenAiAnswerTable.answer(upstream, Map.of("Hi, my name is Ada.", "Hello Ada.",
        "What is my name?", "Your name is Ada."));
    Conversation onFirst = Conversation.open(first).send(start());
    String id = sessionId(onFirst);
    onFirst.user("Hi, my name is Ada.");
    onFirst.until(ConverseEvent::hasTurnCompleted);
    return new AdaOnFirst(onFirst, id);
  }

  @Test
  void aSessionCancelledOnOneRouterGoesOnOnTheOtherWithItsHistory() throws Exception {
    AdaOnFirst ada = adaIntroducedOnFirst();
    Conversation onFirst = ada.conversation();
    String id = ada.sessionId();
    onFirst.requests.onError(new RuntimeException("the client cancels"));

    // At once: the second router waits for the first to let the session go.
    Conversation onSecond = Conversation.open(second).send(resume(id));
    ConverseEvent resumed = onSecond.until(ConverseEvent::hasSessionStarted);
    assertEquals(id, resumed.getSessionStarted().getSessionId());
    assertTrue(resumed.getSessionStarted().getResumed());
    onSecond.user("What is my name?");
    TurnCompleted turn = onSecond.until(ConverseEvent::hasTurnCompleted).getTurnCompleted();

    assertEquals("Your name is Ada.", turn.getMessage().getParts(0).getText());
    assertEquals(2, turn.getTurn(), "the second turn of the session");
    assertEquals(List.of("system: You are a weather assistant.", "user: Hi, my name is Ada.",
        "assistant: Hello Ada.", "user: What is my name?"), lastConversationUpstream(),
        "the history reached the upstream from the second router");

    onSecond.requests.onCompleted();
    assertEquals(Status.Code.OK, closed(onSecond).getCode(), "a half-close ends the session");
    Conversation late = Conversation.open(first).send(resume(id));
    assertEquals(Status.Code.NOT_FOUND, closed(late).getCode(), "it ended on every router");

    redis.save();
    String dump = new String(Files.readAllBytes(redis.dumpFile()), StandardCharsets.ISO_8859_1);
    assertFalse(dump.contains(RunningRouter.TEST_KEY), "the provider key is not in Redis");
  }

  @Test
  void eachRouterListsTheTurnsOfASessionBothRanFromTheOneCallLog() throws Exception {
    assumeTrue(postgres != null, PostgresServer.NOT_INSTALLED);
    AdaOnFirst ada = adaIntroducedOnFirst();
    Conversation onFirst = ada.conversation();
    String id = ada.sessionId();
    drop(onFirst, first);
    Conversation onSecond = Conversation.open(second).send(resume(id));
    onSecond.until(ConverseEvent::hasSessionStarted);
    onSecond.user("What is my name?");
    onSecond.until(ConverseEvent::hasTurnCompleted);
    onSecond.requests.onCompleted();
    assertEquals(Status.Code.OK, closed(onSecond).getCode());

    for (RunningRouter reader : List.of(first, second)) {
      assertTrue(Await.until(Duration.ofSeconds(10), () -> callsOfSession(reader, id).size() == 2),
          "the model call of each turn, one per router, listed by either: " + callsOfSession(reader, id));
    }
  }

  private static List<CallRecord> callsOfSession(RunningRouter router, String sessionId) {
    return ObservabilityServiceGrpc.newBlockingStub(router.channel()).listCalls(ListCallsRequest.newBuilder()
        .setFilter(CallFilter.newBuilder().setSessionId(sessionId)).build()).getCallsList();
  }

  @Test
  void aTurnWaitingForToolResultsGoesOnOnTheOtherRouterWithinItsToolBudget() throws Exception {
    upstream.answer(r -> {
      if (upstream.lastRequest().body().contains(FINAL_PROMPT)) {
        answerText(r, "Paris: 18C. That was my one lookup.");
      } else {
        answerToolCall(r, "get_weather", "Paris");
      }
    });
    int before = upstream.received().size();
    Conversation onFirst = Conversation.open(first).send(ConverseRequest.newBuilder().setStart(
        start("get_weather").getStart().toBuilder().putToolBudgets("get_weather", 1)).build());
    String id = sessionId(onFirst);
    onFirst.user("Weather in Paris?");
    ConverseEvent toolCalls = onFirst.until(ConverseEvent::hasToolCalls);
    drop(onFirst, first);

    Conversation onSecond = Conversation.open(second).send(resume(id));
    assertTrue(onSecond.until(ConverseEvent::hasSessionStarted).getSessionStarted().getResumed());
    onSecond.answer(toolCalls, "18C");
    TurnCompleted turn = onSecond.until(ConverseEvent::hasTurnCompleted).getTurnCompleted();

    assertEquals("Paris: 18C. That was my one lookup.", turn.getMessage().getParts(0).getText());
    assertEquals(2, upstream.received().size() - before, "the tool call on the first router, the summary on the "
        + "second");
    JsonNode last = OpenAiWire.read(upstream.lastRequest().body());
    assertEquals("none", last.path("tool_choice").asText(), "the tool's budget of 1 was spent on the first router");
    assertTrue(lastConversationUpstream().contains("tool: 18C"), lastConversationUpstream()::toString);
    onSecond.requests.onCompleted();
    assertEquals(Status.Code.OK, closed(onSecond).getCode());
  }

  @Test
  void aSessionThatAStreamDrivesCannotBeResumedOnTheOtherRouter() throws Exception {
    OpenAiAnswerTable.answer(upstream, Map.of("Hi, my name is Ada.", "Hello Ada."));
    Conversation driving = Conversation.open(first).send(start());
    String id = sessionId(driving);

    Conversation intruder = Conversation.open(second).send(resume(id));

    Status refused = closed(intruder);
    assertEquals(Status.Code.FAILED_PRECONDITION, refused.getCode(), refused::toString);
    assertTrue(refused.getDescription().contains("session '" + id + "' is driven by another stream"),
        refused::toString);
    driving.user("Hi, my name is Ada.");
    assertEquals("Hello Ada.", driving.until(ConverseEvent::hasTurnCompleted).getTurnCompleted().getMessage()
        .getParts(0).getText(), "the driving stream goes on");
    driving.requests.onCompleted();
    assertEquals(Status.Code.OK, closed(driving).getCode());
  }

  @Test
  void aSessionLeftIdleExpiresFromRedisAndCannotBeResumed() throws Exception {
    RunningRouter brief = router(redis, "300ms");
    try {
      Conversation c = Conversation.open(brief).send(start());
      String id = sessionId(c);
      drop(c, brief);

      assertTrue(Await.until(Duration.ofSeconds(10), () -> !redis.holds("llmr:session:{" + id + "}")),
          "Redis let the session expire");

      Conversation late = Conversation.open(brief).send(resume(id));
      Status status = closed(late);
      assertEquals(Status.Code.NOT_FOUND, status.getCode(), status::toString);
      assertTrue(status.getDescription().startsWith("no session '" + id + "': it ended, or expired after 300 ms "
          + "without a stream (converse.idle_timeout)"), status::toString);
    } finally {
      brief.close();
    }
  }

  @Test
  void aRedisThatWentAwayEndsTheStreamWithUnavailable() throws Exception {
    OpenAiAnswerTable.answer(upstream, Map.of("Hi, my name is Ada.", "Hello Ada."));
    RedisServer leaving = RedisServer.start(Files.createDirectories(dir.resolve("leaving-redis")));
    RunningRouter alone = router(leaving, "10m");
    try {
      Conversation c = Conversation.open(alone).send(start());
      String id = sessionId(c);

      leaving.close();
      c.user("Hi, my name is Ada.");

      Status lost = closed(c);
      assertEquals(Status.Code.UNAVAILABLE, lost.getCode(), lost::toString);
      assertTrue(lost.getDescription().contains("session '" + id + "': Redis at " + leaving.url()
          + " (shared_state.redis_url) did not answer"), lost::toString);
      Status resumed = closed(Conversation.open(alone).send(resume(id)));
      assertEquals(Status.Code.UNAVAILABLE, resumed.getCode(), resumed::toString);
      Status started = closed(Conversation.open(alone).send(start()));
      assertEquals(Status.Code.UNAVAILABLE, started.getCode(), started::toString);
    } finally {
      alone.close();
    }
  }
}
