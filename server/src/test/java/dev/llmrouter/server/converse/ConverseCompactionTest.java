package dev.llmrouter.server.converse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmrouter.api.v1.Compaction;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.TurnCompleted;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.Conversation;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.ScriptedChatModel;
import dev.llmrouter.server.testing.RedisServer;
import io.grpc.Status;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory compaction of live `Converse` sessions (`start.history_token_budget`), through a real grpc-java stream and
 * the real router, with the conversations' own compaction: a session over budget compacts before its next turn (never
 * splitting a tool call from its result), the summary opens the history of a resumed session, and the whole session,
 * summary calls included, replays event for event with the upstream gone.
 */
class ConverseCompactionTest {

  private static final String MODEL = "openai/gpt-4o-mini";
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

  private RunningRouter router(String mode, String baseUrl, String conversations) {
    RunningRouter router = RunningRouter.start(vertx, """
        cassettes: { dir: "%s", mode: "%s" }
        %s
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        """.formatted(dir.resolve("cassettes"), mode, conversations, baseUrl));
    routers.add(router);
    return router;
  }

  private RunningRouter compactingRouter(String mode, String baseUrl) {
    return router(mode, baseUrl, "conversations: { compaction: { model: %s, prompt: \"%s\" } }"
        .formatted(MODEL, ScriptedChatModel.SUMMARY_PROMPT));
  }

  private static ConverseRequest start(long budget) {
    return ConverseRequest.newBuilder().setStart(ConverseStart.newBuilder().setModel(MODEL)
        .setSystemPrompt("Be brief.").setHistoryTokenBudget(budget).addTools(Tool.newBuilder()
            .setName("get_weather").setDescription("The weather in a city").setParameters(OBJECT_SCHEMA))).build();
  }

  /** The messages of the upstream request {@code n} (from 0), as `role: text` lines. */
  private List<String> sent(int n) {
    List<String> messages = new ArrayList<>();
    for (var message : OpenAiWire.read(upstream.received().get(n).body()).path("messages")) {
      messages.add(message.path("role").asText() + ": " + message.path("content").asText());
    }
    return messages;
  }

  /**
   * A session under a budget of 40 tokens (the scripted model reports 10 input tokens a message, 5 output): turn 1
   * asks for the weather (a tool round-trip), turn 2 is over budget but the latest turn is always kept, turn 3
   * compacts turn 1; then the stream drops, the session is resumed, and turn 4 compacts again, merging the summary the
   * resumed session opens with. The events of both streams.
   */
  private List<ConverseEvent> compactedSession(RunningRouter router) throws Exception {
    return compactedSession(router, router);
  }

  /** As above, the session resumed on {@code resumedOn}. */
  private List<ConverseEvent> compactedSession(RunningRouter router, RunningRouter resumedOn) throws Exception {
    Conversation first = Conversation.open(router).send(start(40));
    String id = first.until(ConverseEvent::hasSessionStarted).getSessionStarted().getSessionId();
    first.user("What is the weather in Paris?");
    first.answer(first.until(ConverseEvent::hasToolCalls), "Sunny");
    first.until(ConverseEvent::hasTurnCompleted);
    first.user("Second");
    first.until(ConverseEvent::hasTurnCompleted);
    first.user("Third");
    first.until(ConverseEvent::hasTurnCompleted);
    first.requests.onError(new RuntimeException("the client's network dropped"));
    assertTrue(Await.until(Duration.ofSeconds(10), () -> router.openStreams("Converse") == 0));

    Conversation resumed = Conversation.open(resumedOn).send(ConverseRequest.newBuilder().setStart(
        ConverseStart.newBuilder().setResumeSessionId(id)).build());
    resumed.until(ConverseEvent::hasSessionStarted);
    resumed.user("Fourth");
    resumed.until(ConverseEvent::hasTurnCompleted);
    resumed.requests.onCompleted();
    assertEquals(Status.Code.OK, resumed.closed.get(5, TimeUnit.SECONDS).getCode());
    List<ConverseEvent> events = new ArrayList<>(first.all);
    events.addAll(resumed.all);
    return events;
  }

  @Test
  void aSessionOverBudgetCompactsBeforeItsNextTurnAndReplaysEventForEvent() throws Exception {
    List<ConverseEvent> recorded = compactedSession(compactingRouter("record", upstream.baseUrl()));
    assertEquals(7, upstream.received().size(), "turn 1: two calls; 2: one; 3 and 4: a summary and an answer each");

    List<TurnCompleted> turns = recorded.stream().filter(ConverseEvent::hasTurnCompleted)
        .map(ConverseEvent::getTurnCompleted).toList();
    List<Compaction> compactions = recorded.stream().filter(ConverseEvent::hasCompaction)
        .map(ConverseEvent::getCompaction).toList();
    assertEquals(2, compactions.size(), recorded.toString());
    assertFalse(turns.get(0).hasCompaction() || turns.get(1).hasCompaction());

    // Turn 3: the whole first turn, its tool call with its result, went into the summary; the latest turn stayed.
    Compaction third = compactions.get(0);
    assertEquals(1, third.getTurnsCompacted());
    assertEquals(4, third.getMessagesCompacted(), "user, tool call, tool result, answer: never split");
    assertEquals(65, third.getTokensBefore(), "turn 2's answer: 6 messages in, 5 tokens out");
    assertFalse(third.hasTokensAfter(), "unknown until the next call answers");
    assertEquals(MODEL, third.getModel());
    assertEquals(third.toBuilder().setTokensAfter(50).build(), turns.get(2).getCompaction(),
        "system, summary, the kept turn and the new user turn: 5 messages in");
    assertEquals(20 + 50, turns.get(2).getUsage().getInputTokens(), "the summary call counts in the turn's usage");
    int thirdEvent = recorded.indexOf(recorded.stream().filter(ConverseEvent::hasCompaction).findFirst()
        .orElseThrow());
    assertTrue(recorded.get(thirdEvent - 1).hasTurnStarted(), "the compaction comes right after turn_started");
    String transcript = sent(3).get(1);
    assertTrue(transcript.matches("(?s).*\\[assistant calls get_weather as (\\w+)].*\\[tool result for \\1]\nSunny.*"),
        transcript);
    assertFalse(transcript.contains("Second"), "the latest turn is kept as it is");
    assertEquals(List.of("system: Be brief.", "system: Summary of the earlier conversation:\nSummary of 1 user "
        + "turns.", "user: Second", "assistant: You said: Second", "user: Third"), sent(4));

    // Turn 4, on the resumed session: the summary it opens with is merged into the new one, never the system prompt.
    Compaction fourth = compactions.get(1);
    assertEquals(2, fourth.getMessagesCompacted());
    assertEquals(55, fourth.getTokensBefore(), "turn 3's answer, measured before the stream dropped");
    String merged = sent(5).get(1);
    assertTrue(merged.startsWith("user: [earlier summary]\nSummary of 1 user turns.\n\n[user]\nSecond"), merged);
    assertFalse(merged.contains("Be brief."), merged);
    assertEquals(List.of("system: Be brief.", "system: Summary of the earlier conversation:\nSummary of 1 user "
        + "turns.", "user: Third", "assistant: You said: Third", "user: Fourth"), sent(6));

    String gone = upstream.baseUrl();
    upstream.close(); // replay needs no upstream
    List<ConverseEvent> replayed = compactedSession(compactingRouter("replay", gone));
    assertEquals(recorded.size(), replayed.size());
    for (int i = 0; i < recorded.size(); i++) {
      assertArrayEquals(timeless(recorded.get(i)).toByteArray(), timeless(replayed.get(i)).toByteArray(),
          "event " + i + ": " + replayed.get(i));
    }
  }

  @Test
  void aCompactedSessionResumesOnAnotherReplicaThroughRedisWithItsSummary() throws Exception {
    Assumptions.assumeTrue(RedisServer.installed(), "redis-server is not on the PATH (Debian: apt-get install -y "
        + "redis-server): skipping the compacted session resumed through Redis");
    try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")))) {
      String shared = "conversations: { compaction: { model: %s, prompt: \"%s\" } }\n"
          .formatted(MODEL, ScriptedChatModel.SUMMARY_PROMPT) + "shared_state: { redis_url: \"" + redis.url() + "\" }";
      RunningRouter one = router("off", upstream.baseUrl(), shared);
      RunningRouter other = router("off", upstream.baseUrl(), shared);
      List<ConverseEvent> events = compactedSession(one, other);
      assertEquals(2, events.stream().filter(ConverseEvent::hasCompaction).count(), events.toString());
      assertTrue(sent(5).get(1).startsWith("user: [earlier summary]\nSummary of 1 user turns."), sent(5).toString());
      assertEquals(List.of("system: Be brief.", "system: Summary of the earlier conversation:\nSummary of 1 user "
          + "turns.", "user: Third", "assistant: You said: Third", "user: Fourth"), sent(6));
      for (RunningRouter router : List.of(one, other)) { // before their Redis goes
        routers.remove(router);
        router.close();
      }
    }
  }

  /** The event without the compaction's time: the router's clock, not the recording, tells it. */
  private static ConverseEvent timeless(ConverseEvent event) {
    if (event.hasCompaction()) {
      return event.toBuilder().setCompaction(event.getCompaction().toBuilder().clearTime()).build();
    }
    if (event.hasTurnCompleted() && event.getTurnCompleted().hasCompaction()) {
      TurnCompleted turn = event.getTurnCompleted();
      return event.toBuilder().setTurnCompleted(turn.toBuilder().setCompaction(turn.getCompaction().toBuilder()
          .clearTime())).build();
    }
    return event;
  }

  @Test
  void aCompactionKeepsTheLatestTurnWithItsToolCallAndResultAndABudgetNotReachedNeverCompacts() throws Exception {
    RunningRouter router = compactingRouter("off", upstream.baseUrl());
    Conversation roomy = Conversation.open(router).send(start(1_000));
    roomy.until(ConverseEvent::hasSessionStarted);
    for (String question : List.of("One", "Two", "Three")) {
      roomy.user(question);
      roomy.until(ConverseEvent::hasTurnCompleted);
    }
    assertFalse(roomy.all.stream().anyMatch(ConverseEvent::hasCompaction), "never over a budget of 1000 tokens");
    roomy.requests.onCompleted();

    // A budget of 1 token: every turn compacts what it can, but the cut only ever falls before a user turn.
    Conversation tight = Conversation.open(router).send(start(1));
    tight.until(ConverseEvent::hasSessionStarted);
    tight.user("What is the weather in Paris?");
    tight.answer(tight.until(ConverseEvent::hasToolCalls), "Sunny");
    tight.until(ConverseEvent::hasTurnCompleted);
    tight.user("And the weather in Rome?");
    tight.answer(tight.until(ConverseEvent::hasToolCalls), "Rainy");
    tight.until(ConverseEvent::hasTurnCompleted);
    assertFalse(tight.all.stream().anyMatch(ConverseEvent::hasCompaction), "the latest turn is always kept");
    tight.user("Thanks");
    assertEquals(4, tight.until(ConverseEvent::hasCompaction).getCompaction().getMessagesCompacted(),
        "the first turn, with its tool call and result");
    tight.until(ConverseEvent::hasTurnCompleted);
    var messages = OpenAiWire.read(upstream.lastRequest().body()).path("messages");
    List<String> roles = new ArrayList<>();
    messages.forEach(message -> roles.add(message.path("role").asText()));
    assertEquals(List.of("system", "system", "user", "assistant", "tool", "assistant", "user"), roles,
        "the prompt, the summary, the kept turn whole, the new user turn");
    assertEquals(messages.path(3).path("tool_calls").path(0).path("id").asText(),
        messages.path(4).path("tool_call_id").asText(), "the kept tool call sits with its result");
    tight.requests.onCompleted();
  }

  @Test
  void aBudgetIsRefusedWithoutACompactionModelAndWhenNegative() throws Exception {
    RunningRouter plain = router("off", upstream.baseUrl(), "");
    Status refused = Conversation.open(plain).send(start(100)).closed.get(5, TimeUnit.SECONDS);
    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getCode(), refused::toString);
    assertTrue(refused.getDescription().startsWith("start.history_token_budget needs a model to write summaries: "
        + "set conversations: { compaction: { model: ... } }"), refused::toString);

    Status negative = Conversation.open(compactingRouter("off", upstream.baseUrl())).send(start(-5)).closed
        .get(5, TimeUnit.SECONDS);
    assertEquals(Status.Code.INVALID_ARGUMENT, negative.getCode(), negative::toString);
    assertTrue(negative.getDescription().contains("start.history_token_budget must be 0 (never compact) or more, "
        + "not -5"), negative::toString);
    assertTrue(upstream.received().isEmpty());
  }
}
