package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.ListCallsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.ObservabilityServiceGrpc;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.ExternalProcess;
import dev.llmrouter.server.testing.ExternalProcess.Run;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The console in headless Chromium (server/web/test/drive-console.mjs, with playwright-core), served by the admin
 * listener of a router replaying the demo cassettes: three calls made with grpc-java (two linked in one trace, one a
 * replay miss) are filtered, opened, followed to their trace and charted; the cassettes are browsed and the miss
 * shows how it differs from the closest cassette. Chromium is installed as {@link LiveChatPageTest} does. Screenshots
 * go to target/.
 */
class ConsolePageTest {

  private static final Path WEB = Path.of("../server/web").toAbsolutePath().normalize();
  private static final Duration BROWSER_TIMEOUT = Duration.ofSeconds(90);
  private static final String CAPITAL = "What is the capital of France?";
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

  private static Vertx vertx;
  private static RunningRouter router;
  private static String firstCall;
  private static String secondCall;

  @BeforeAll
  static void start() throws Exception {
    LiveChatPageTest.installChromiumWhenMissing();
    vertx = Vertx.vertx();
    router = RunningRouter.start(vertx, """
        admin_listen: 127.0.0.1:0
        cassettes: { dir: "%s", mode: replay }
        providers:
          - { name: openai, type: openai, base_url: https://api.openai.com/v1, models: [gpt-4o-mini] }
          - { name: anthropic, type: anthropic, base_url: https://api.anthropic.com, models: [claude-haiku-4-5] }
        """.formatted(Path.of("../cassettes/recorded").toAbsolutePath().normalize()));
    firstCall = chat(ask("openai/gpt-4o-mini"), "x-trace-id", TRACE,
        "x-user-id", "alice", "x-tags", "demo");
    secondCall = chat(ask("anthropic/claude-haiku-4-5"), "x-trace-id",
        TRACE, "x-parent-call-id", firstCall, "x-user-id", "bob");
    ChatRequest warmer = ask("openai/gpt-4o-mini").toBuilder().setSettings(GenerationSettings.newBuilder()
        .setTemperature(0.7)).build();
    assertThrows(StatusRuntimeException.class, () -> chat(warmer), "no cassette holds it");
    Await.poll(Duration.ofSeconds(10), () -> ObservabilityServiceGrpc.newBlockingStub(router.channel())
        .listCalls(ListCallsRequest.newBuilder().setFilter(CallFilter.getDefaultInstance()).build()).getCallsCount(),
        logged -> logged == 3);
  }

  @AfterAll
  static void stop() throws Exception {
    if (router != null) {
      router.close();
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static ChatRequest ask(String model) {
    return ChatRequest.newBuilder().setModel(model).addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText(CAPITAL))).build();
  }

  /** A Chat with call metadata; returns the call's id. */
  private static String chat(ChatRequest request, String... namesAndValues) {
    Metadata headers = new Metadata();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      headers.put(Metadata.Key.of(namesAndValues[i], Metadata.ASCII_STRING_MARSHALLER), namesAndValues[i + 1]);
    }
    AtomicReference<Metadata> answered = new AtomicReference<>();
    ChatServiceGrpc.newBlockingStub(router.channel()).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(
        headers), MetadataUtils.newCaptureMetadataInterceptor(answered, new AtomicReference<>())).chat(request);
    return answered.get().get(Metadata.Key.of("x-call-id", Metadata.ASCII_STRING_MARSHALLER));
  }

  @Test
  void filtersOpensACallAndItsTraceChartsUsageAndBrowsesCassettesAndMisses() throws Exception {
    Path target = Files.createDirectories(Path.of("target").toAbsolutePath());
    Run run = ExternalProcess.run(WEB, BROWSER_TIMEOUT, "node", "test/drive-console.mjs",
        "http://127.0.0.1:" + router.adminPort() + "/console.html#/calls", target.toString(),
        "anthropic/claude-haiku-4-5");
    assertEquals(0, run.exitCode(), run::toString);
    JsonObject page = new JsonObject(run.stdout());

    // Newest first: the miss, then the two replayed calls.
    assertEquals(List.of("openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "openai/gpt-4o-mini"),
        page.getJsonArray("allCalls").getList(), page::encodePrettily);
    assertEquals(List.of("FAILED_PRECONDITION", "OK", "OK"), page.getJsonArray("statuses").getList());
    assertEquals(List.of("anthropic/claude-haiku-4-5"), page.getJsonArray("filtered").getList());
    assertEquals("No call matches.", page.getString("beforeTheCalls"));
    assertEquals("Error: \"yesterday\" is not a time: write it as 2026-12-02 20:15 (UTC)", page.getString("badTime"));
    assertEquals("yesterday", page.getString("filtersKept"), "the filters stay on screen to be corrected");

    JsonObject facts = page.getJsonObject("facts");
    assertEquals(secondCall, facts.getString("Call"), page::encodePrettily);
    assertEquals("OK", facts.getString("Status"));
    assertEquals("bob", facts.getString("User"));
    assertEquals("0", facts.getString("Attempts"), "replayed: no upstream attempt");
    assertTrue(facts.getString("Cassette").matches("hit [0-9a-f]{64}"), facts::encodePrettily);
    assertTrue(facts.getString("Cost").startsWith("$0.0000"), facts::encodePrettily);
    assertTrue(facts.getString("Latency").endsWith(" ms"), facts::encodePrettily);
    assertEquals(TRACE, facts.getString("Trace"));
    assertEquals(firstCall, facts.getString("Parent call"));
    assertEquals(List.of(CAPITAL), page.getJsonArray("messages").getList());
    assertTrue(page.getString("answer").startsWith("assistant"), page::encodePrettily);
    assertTrue(page.getString("answer").contains("Paris"), page::encodePrettily);

    assertEquals(new JsonArray().add(new JsonObject().put("call", firstCall).put("children",
        new JsonArray().add(secondCall))), page.getJsonArray("trace"), "the second call under the first");

    JsonArray bars = page.getJsonArray("bars");
    assertEquals(List.of("anthropic/claude-haiku-4-5", "openai/gpt-4o-mini"), bars.stream()
        .map(bar -> ((JsonObject) bar).getString("group")).sorted().toList(), page::encodePrettily);
    assertTrue(bars.stream().allMatch(bar -> ((JsonObject) bar).getDouble("height") > 0), bars::encodePrettily);
    assertEquals(List.of("anthropic/claude-haiku-4-5: 1", "openai/gpt-4o-mini: 2"), bars.stream()
        .map(bar -> ((JsonObject) bar).getString("title")).sorted().toList(), "calls per model this hour");
    assertTrue(page.getString("totals").startsWith("3 calls (1 failed, 2 replayed)"), page::encodePrettily);

    // The demo set grows; ConsoleRpcsTest checks the list is exactly its folders.
    List<?> scopes = page.getJsonArray("scopes").getList();
    assertEquals("every scope", scopes.get(0), scopes::toString);
    assertTrue(scopes.containsAll(List.of("default", "tool-call")), scopes::toString);
    assertTrue(page.getJsonArray("cassettes").stream().allMatch(summary -> summary.toString()
        .contains("What's the weather in Paris?")), page::encodePrettily);
    assertTrue(page.getString("request").contains("\"get_weather\""), page::encodePrettily);
    assertEquals("start", page.getJsonArray("events").getString(0), page::encodePrettily);
    assertTrue(page.getJsonArray("events").contains("toolCallDelta"), page::encodePrettily);

    assertEquals(new JsonArray().add(new JsonObject().put("title", "default · openai/gpt-4o-mini " + CAPITAL)
        .put("removed", new JsonArray().add("- (absent)")).put("added", new JsonArray().add("+ 0.7"))
        .put("paths", new JsonArray().add("settings.temperature"))), page.getJsonArray("misses"));
    assertEquals("", page.getString("status"), page::encodePrettily);
    assertEquals(new JsonArray(), page.getJsonArray("errors"), page::encodePrettily);
  }
}
