package dev.llmrouter.server.route;

import static dev.llmrouter.server.testing.TwoUpstreams.OK_JSON;
import static dev.llmrouter.server.testing.TwoUpstreams.ask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.ErrorInfo;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.TwoUpstreams;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.vertx.core.http.HttpServerRequest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How calls spread: API keys in turn, weighted aliases, `max_concurrency` overflowing to the next target, and targets
 * whose model cannot honour a setting skipped for one that can.
 */
class RoutingTest {

  private static TwoUpstreams setup;
  private static MockUpstream a;
  private static MockUpstream b;
  private static RunningRouter router;

  @BeforeAll
  static void start() {
    setup = TwoUpstreams.start("""
        cassettes: { mode: "off" }
        retry: { max_attempts: 1 }
        providers:
          - { name: a, type: openai, base_url: "%1$s/v1", api_keys: ["${TEST_API_KEY}", "${TEST_API_KEY_2}"],
              max_concurrency: 1 }
          - { name: b, type: openai, base_url: "%2$s/v1", api_key: "${TEST_API_KEY}" }
          - { name: lenient, type: openai, base_url: "%1$s/v1", api_key: "${TEST_API_KEY}",
              drop_unsupported_settings: true }
        models:
          - alias: mostly-a
            strategy: weighted
            targets: [{ model: a/m, weight: 1 }, { model: b/m, weight: 0 }]
          - alias: even
            strategy: weighted
            targets: [{ model: a/m, weight: 1 }, { model: b/m, weight: 1 }]
          - alias: a-then-b
            targets: [{ model: a/m }, { model: b/m }]
          - alias: reasoning-then-chat
            targets: [{ model: a/o3 }, { model: b/m }]
          - alias: reasoning-only
            targets: [{ model: a/o3 }, { model: b/o4-mini }]
        """);
    a = setup.a();
    b = setup.b();
    router = setup.router();
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  @BeforeEach
  void reset() {
    a.reply(200, "application/json", OK_JSON);
    b.reply(200, "application/json", OK_JSON);
    setup.forgetRequests();
  }

  @Test
  void aDeploymentsKeysTakeTurns() {
    for (int i = 0; i < 4; i++) {
      router.chat().chat(ask("a/m"));
    }
    List<String> keys = a.received().stream().map(r -> r.headers().get("authorization")).toList();
    // Other tests have moved the rotation on: which key comes first depends on them, the alternation does not.
    assertEquals(java.util.Set.of("Bearer " + RunningRouter.TEST_KEY, "Bearer " + RunningRouter.TEST_KEY_2),
        java.util.Set.copyOf(keys.subList(0, 2)));
    assertEquals(keys.subList(0, 2), keys.subList(2, 4), "the keys take turns: " + keys);
  }

  @Test
  void aWeightedAliasDrawsByWeight() {
    for (int i = 0; i < 20; i++) {
      assertEquals("a", router.chat().chat(ask("mostly-a")).getOrigin().getDeployment(), "weight 0 is never first");
    }
    Map<String, Integer> served = new HashMap<>();
    for (int i = 0; i < 200; i++) {
      served.merge(router.chat().chat(ask("even")).getOrigin().getDeployment(), 1, Integer::sum);
    }
    assertTrue(served.getOrDefault("a", 0) > 0 && served.getOrDefault("b", 0) > 0, "both targets serve: " + served);
  }

  @Test
  void callsBeyondMaxConcurrencyGoToTheNextTargetOrFailFast() throws Exception {
    CompletableFuture<HttpServerRequest> held = new CompletableFuture<>();
    a.answer(held::complete); // a keeps its one call in flight until the test has made the others
    ExecutorService callers = Executors.newFixedThreadPool(2);
    try {
      Future<ChatResponse> first = callers.submit(() -> router.chat().chat(ask("a-then-b")));
      held.get(10, TimeUnit.SECONDS);
      assertEquals("b", router.chat().chat(ask("a-then-b")).getOrigin().getDeployment(), "a is full: b serves");
      StatusRuntimeException busy = assertThrows(StatusRuntimeException.class, () -> router.chat().chat(ask("a/m")));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, busy.getStatus().getCode());
      assertEquals("DEPLOYMENT_BUSY", StatusProto.fromThrowable(busy).getDetails(0).unpack(ErrorInfo.class)
          .getReason());
      held.get().response().putHeader("content-type", "application/json").end(OK_JSON);
      assertEquals("a", first.get().getOrigin().getDeployment());
      assertEquals(1, a.received().size(), "a never had two calls at once");
    } finally {
      callers.shutdownNow();
    }
  }

  @Test
  void aTargetThatCannotHonourASettingIsSkippedForOneThatCan() {
    ChatRequest warm = withTemperature(ask("reasoning-then-chat"));
    ChatResponse answer = router.chat().chat(warm);
    assertEquals("b", answer.getOrigin().getDeployment());
    assertEquals(List.of(), answer.getOrigin().getDroppedSettingsList());
    assertTrue(a.received().isEmpty(), "o3 takes no temperature: a is never called");
    assertEquals(0.5, OpenAiWire.read(b.lastRequest().body()).path("temperature").asDouble());
  }

  @Test
  void whenNoTargetCanHonourASettingTheCallIsRefusedNamingItAndNothingIsSent() throws Exception {
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> router.chat().chat(withTemperature(ask("reasoning-only"))));
    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().startsWith("a cannot honour settings.temperature with model o3"),
        refused.getStatus().getDescription());
    ErrorInfo info = StatusProto.fromThrowable(refused).getDetailsList().stream().filter(d -> d.is(ErrorInfo.class))
        .findFirst().orElseThrow().unpack(ErrorInfo.class);
    assertEquals("UNSUPPORTED_SETTING", info.getReason());
    assertEquals(Map.of("provider", "a", "model", "o3", "settings", "settings.temperature"), info.getMetadataMap());
    assertTrue(a.received().isEmpty() && b.received().isEmpty(), "nothing is sent upstream");
    for (int i = 0; i < 10; i++) {
      assertThrows(StatusRuntimeException.class, () -> router.chat().chat(withTemperature(ask("a/o3"))));
    }
    assertEquals("a", router.chat().chat(ask("a/m")).getOrigin().getDeployment(),
        "refusals are no failures of the deployment: its circuit breaker stays closed");
  }

  @Test
  void aProviderConfiguredToDropUnsupportedSettingsSendsTheCallWithoutThem() {
    ChatResponse answer = router.chat().chat(withTemperature(ask("lenient/o3")));
    assertEquals(List.of("settings.temperature"), answer.getOrigin().getDroppedSettingsList());
    assertFalse(OpenAiWire.read(a.lastRequest().body()).has("temperature"));
  }

  private static ChatRequest withTemperature(ChatRequest request) {
    return request.toBuilder().setSettings(GenerationSettings.newBuilder().setTemperature(0.5)).build();
  }
}
