package dev.llmrouter.server.pipeline;

import static dev.llmrouter.server.testing.CassetteRouters.ask;
import static dev.llmrouter.server.testing.CassetteRouters.askOpenAi;
import static dev.llmrouter.server.testing.CassetteRouters.chat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.server.testing.CassetteRouters;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Match rules through both doors (gRPC, and an OpenAI SDK's HTTP call): a request carrying today's date, recorded
 * with a date rule, replays when the date changes and misses without the rule (the diagnostic names the date); a uuid
 * rule applies to its scopes only; ignored fields leave the key; a named set is picked per call; a miss compares
 * normalized forms and names the rules that applied.
 */
class CassetteMatchRulesTest {

  private static final String DATE_RULE = """
      match:
        - { scope: "*", replace: '\\d{4}-\\d{2}-\\d{2}', with: "<date>" }
      """;
  private static final String PROMPT = "You are the assistant of the Acme travel desk. Today is %s. "
      + "Which weekday is it?";

  @TempDir
  Path cassettes;
  private CassetteRouters routers;

  @BeforeEach
  void start() {
    routers = new CassetteRouters(cassettes);
  }

  @AfterEach
  void stop() throws Exception {
    routers.close();
  }

  private RunningRouter router(String mode, String rules) {
    return routers.router("mode: " + mode + "\n" + rules);
  }

  private static ChatRequest onDate(String date) {
    return ask(PROMPT.formatted(date));
  }

  private static IngressClient.Reply openAi(RunningRouter router, String body, String... headers) {
    return new IngressClient(router.port()).post("/v1/chat/completions", body, headers);
  }

  private String onlyCassette() throws Exception {
    try (Stream<Path> files = Files.walk(cassettes)) {
      List<Path> all = files.filter(Files::isRegularFile).toList();
      assertEquals(1, all.size(), all.toString());
      return Files.readString(all.get(0));
    }
  }

  @Test
  void aPromptWithTodaysDateRecordedWithADateRuleReplaysOnAnotherDayThroughBothDoors() throws Exception {
    ChatResponse recorded = chat(router("record", DATE_RULE)).chat(onDate("2025-06-01"));
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, recorded.getOrigin().getCassette());
    String file = onlyCassette();
    JsonNode cassette = OpenAiWire.read(file);
    assertEquals(PROMPT.formatted("2025-06-01"), cassette.at("/request/messages/0/parts/0/text").asText(),
        "the request as it was first recorded, readable");
    assertEquals(PROMPT.formatted("<date>"), cassette.at("/normalized_request/messages/0/parts/0/text").asText(),
        "the form the key was computed on");
    int upstreamCalls = routers.upstreamCalls();

    RunningRouter replay = router("replay", DATE_RULE);
    ChatResponse nextDay = chat(replay).chat(onDate("2025-06-02"));
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, nextDay.getOrigin().getCassette());
    assertEquals(recorded.getOrigin().getCassetteKey(), nextDay.getOrigin().getCassetteKey());
    assertEquals(CassetteRouters.ANSWER, nextDay.getMessage().getParts(0).getText());

    IngressClient.Reply sdk = openAi(replay, askOpenAi(PROMPT.formatted("2025-07-14"), new JsonObject()));
    assertEquals(200, sdk.status(), sdk.body());
    assertEquals("hit", sdk.header("x-cassette-outcome"));
    assertEquals(recorded.getOrigin().getCassetteKey(), sdk.header("x-cassette-key"));
    assertEquals(CassetteRouters.ANSWER, sdk.json().at("/choices/0/message/content").asText());
    assertEquals(upstreamCalls, routers.upstreamCalls(), "replays call no provider");

    byte[] before = file.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    chat(router("record", DATE_RULE)).chat(onDate("2025-08-30"));
    assertArrayEquals(before, onlyCassette().getBytes(java.nio.charset.StandardCharsets.UTF_8),
        "re-recorded on another day, the file keeps the request first recorded: git diff stays empty");
  }

  @Test
  void withoutTheRuleAnotherDayMissesAndTheDiagnosticNamesTheDateThroughBothDoors() {
    chat(router("record", "")).chat(onDate("2025-06-01"));
    RunningRouter replay = router("replay", "");

    StatusRuntimeException miss = assertThrows(StatusRuntimeException.class,
        () -> chat(replay).chat(onDate("2025-06-02")));
    assertEquals(Status.Code.FAILED_PRECONDITION, miss.getStatus().getCode());
    String diagnostic = miss.getStatus().getDescription();
    assertTrue(diagnostic.contains("messages[0].parts[0].text: ...\". Today is 2025-06-01. Which weekday is it?\" "
        + "-> ...\". Today is 2025-06-02. Which weekday is it?\""), diagnostic);
    assertTrue(diagnostic.contains("no match rule changed this request"), diagnostic);

    IngressClient.Reply sdk = openAi(replay, askOpenAi(PROMPT.formatted("2025-06-02"), new JsonObject()));
    assertEquals(400, sdk.status());
    assertEquals("cassette_miss", sdk.json().at("/error/code").asText());
    assertTrue(sdk.json().at("/error/message").asText().contains("Today is 2025-06-02"), sdk.body());
  }

  @Test
  void aUuidRuleForOneScopeGlobAppliesToItsScopesOnly() {
    String uuidRule = """
        match:
          - { scope: "billing/*", replace: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', with: "<uuid>" }
        """;
    String asked = "Total of invoice %s?";
    RunningRouter record = router("record", uuidRule);
    chat(record, "x-cassette-scope", "billing/invoices").chat(ask(asked.formatted("123e4567-e89b-12d3-a456-426614174000")));
    chat(record, "x-cassette-scope", "support").chat(ask(asked.formatted("123e4567-e89b-12d3-a456-426614174000")));
    RunningRouter replay = router("replay", uuidRule);

    ChatResponse billing = chat(replay, "x-cassette-scope", "billing/invoices")
        .chat(ask(asked.formatted("9b2f0c1e-77aa-4e0b-8c1d-2f3a4b5c6d7e")));
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, billing.getOrigin().getCassette());
    IngressClient.Reply sdk = openAi(replay, askOpenAi(asked.formatted("00000000-1111-2222-3333-444444444444"),
        new JsonObject()), "x-cassette-scope", "billing/invoices");
    assertEquals("hit", sdk.header("x-cassette-outcome"), sdk.body());

    StatusRuntimeException support = assertThrows(StatusRuntimeException.class, () -> chat(replay,
        "x-cassette-scope", "support").chat(ask(asked.formatted("9b2f0c1e-77aa-4e0b-8c1d-2f3a4b5c6d7e"))));
    assertTrue(support.getStatus().getDescription().contains("no match rule changed this request"),
        support.getStatus().getDescription());
    assertTrue(support.getStatus().getDescription().contains("\"Total of invoice 123e4567-e89b-12d3-a456-426614174000?\""
        + " -> \"Total of invoice 9b2f0c1e-77aa-4e0b-8c1d-2f3a4b5c6d7e?\""), support.getStatus().getDescription());
  }

  @Test
  void ignoredFieldsAreLeftOutOfTheKeyAndAMissNamesTheRuleThatApplied() {
    String ignore = """
        match:
          - { scope: "*", ignore: [ "settings.temperature", "metadata" ] }
        """;
    ChatRequest cool = ask("Name a colour.").toBuilder().setSettings(GenerationSettings.newBuilder()
        .setTemperature(0.2)).build();
    ChatResponse recorded = chat(router("record", ignore)).chat(cool);
    RunningRouter replay = router("replay", ignore);

    ChatResponse warm = chat(replay).chat(cool.toBuilder().setSettings(GenerationSettings.newBuilder()
        .setTemperature(0.9)).putMetadata("run", "42").build());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, warm.getOrigin().getCassette());
    assertEquals(recorded.getOrigin().getCassetteKey(), warm.getOrigin().getCassetteKey());
    IngressClient.Reply sdk = openAi(replay, askOpenAi("Name a colour.", new JsonObject().put("temperature", 1.3)));
    assertEquals("hit", sdk.header("x-cassette-outcome"), sdk.body());

    StatusRuntimeException miss = assertThrows(StatusRuntimeException.class, () -> chat(replay).chat(cool.toBuilder()
        .setSettings(GenerationSettings.newBuilder().setTemperature(0.9).setTopP(0.5)).build()));
    String diagnostic = miss.getStatus().getDescription();
    assertTrue(diagnostic.contains("settings.top_p: (absent) -> 0.5"), diagnostic);
    assertFalse(diagnostic.contains("temperature:"), "the ignored field is no difference: " + diagnostic);
    assertTrue(diagnostic.contains("match rules applied (the key and the differences are of the normalized request):\n"
        + "  cassettes.match.0 (line 5): ignore settings.temperature, metadata\n"), diagnostic);
  }

  @Test
  void aMissComparesNormalizedFormsAndNamesTheRuleThatApplied() {
    chat(router("record", DATE_RULE)).chat(ask("Today is 2025-06-01. Weather in Paris?"));

    StatusRuntimeException miss = assertThrows(StatusRuntimeException.class,
        () -> chat(router("replay", DATE_RULE)).chat(ask("Today is 2025-06-02. Weather in Rome?")));

    String diagnostic = miss.getStatus().getDescription();
    assertTrue(diagnostic.contains("differences (recorded -> requested):\n"
        + "  messages[0].parts[0].text: \"Today is <date>. Weather in Paris?\" -> \"Today is <date>. Weather in Rome?\"\n"
        + "match rules applied (the key and the differences are of the normalized request):\n"
        + "  cassettes.match.0 (line 5): replace '\\d{4}-\\d{2}-\\d{2}' with '<date>'\n"), diagnostic);
  }

  @Test
  void aNamedRuleSetIsPickedPerCallThroughMetadataAndHeaders() {
    String sets = """
        match_sets:
          dates:
            - { replace: '\\d{4}-\\d{2}-\\d{2}', with: "<date>" }
        """;
    chat(router("record", sets), "x-cassette-match", "dates").chat(onDate("2025-06-01"));
    RunningRouter replay = router("replay", sets);

    ChatResponse picked = chat(replay, "x-cassette-match", "dates").chat(onDate("2025-06-02"));
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, picked.getOrigin().getCassette());
    IngressClient.Reply sdk = openAi(replay, askOpenAi(PROMPT.formatted("2025-06-03"), new JsonObject()),
        "x-cassette-match", "dates");
    assertEquals("hit", sdk.header("x-cassette-outcome"), sdk.body());

    StatusRuntimeException notPicked = assertThrows(StatusRuntimeException.class,
        () -> chat(replay).chat(onDate("2025-06-02")));
    assertEquals(Status.Code.FAILED_PRECONDITION, notPicked.getStatus().getCode(), "the set applies when named");

    StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
        () -> chat(replay, "x-cassette-match", "times").chat(onDate("2025-06-02")));
    assertEquals(Status.Code.INVALID_ARGUMENT, unknown.getStatus().getCode());
    assertTrue(unknown.getStatus().getDescription().contains("x-cassette-match: must name one of the match rule "
        + "sets of cassettes.match_sets, [dates], not 'times'"), unknown.getStatus().getDescription());
    IngressClient.Reply refused = openAi(replay, askOpenAi("Hi", new JsonObject()), "x-cassette-match", "times");
    assertEquals(400, refused.status());
    assertTrue(refused.body().contains("[dates], not 'times'"), refused.body());
  }
}
