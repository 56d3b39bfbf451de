package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CreateKeyRequest;
import dev.llmrouter.api.v1.KeyLimits;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.OpenAiAnswerTable;
import dev.llmrouter.server.testing.RouterWithUpstream;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The official `openai` SDK against a router that requires caller keys, its key as the SDK's `apiKey`: answered with
 * a valid key, and every refusal as the SDK's typed error (AuthenticationError 401, PermissionDeniedError 403,
 * RateLimitError 429 with `retry-after`, for calls per minute and for the budget); the model list is the key's.
 */
class CallerKeysSdkTest {

  private static final String FILE = "caller-keys.mjs";
  private static final String MODEL = "openai/gpt-4o-mini";
  private static final String PROMPT = "What is the capital of France?";
  private static final ManualClock CLOCK = new ManualClock();

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    NodeSdks.install();
    setup = RouterWithUpstream.start("""
        cassettes: { mode: "off", allow_mode_override: true }
        auth: { required: true, admin_key: "${ROUTER_ADMIN_KEY}" }
        prices:
          gpt-4o-mini: { input: 1000, output: 1000 }
        providers:
          - { name: openai, type: openai, base_url: "%1$s", api_key: "${TEST_API_KEY}", models: [gpt-4o-mini, gpt-4o] }
        """, CLOCK);
    OpenAiAnswerTable.answer(setup.upstream(), Map.of(PROMPT, "Paris."));
  }

  @AfterAll
  static void stop() throws Exception {
    if (setup != null) {
      setup.close();
    }
  }

  /** Every test starts after every window of the one before has ended. */
  @BeforeEach
  void nextMonth() {
    CLOCK.advance(Duration.ofDays(31));
  }

  private static String create(KeyLimits limits) {
    return setup.router().admin().createKey(CreateKeyRequest.newBuilder().setName("sdk").setLimits(limits).build())
        .getSecret();
  }

  private static JsonObject ask(String key, String model) {
    return NodeSdks.run(FILE, "create", setup.router().port(), new JsonObject().put("apiKey", key)
        .put("model", model).put("prompt", PROMPT));
  }

  private static String answer(JsonObject run) {
    assertTrue(run.containsKey("result"), run::encode);
    return run.getJsonObject("result").getJsonArray("choices").getJsonObject(0).getJsonObject("message")
        .getString("content");
  }

  private static JsonObject error(JsonObject run, String sdkClass, int status, String code) {
    JsonObject error = run.getJsonObject("error");
    assertTrue(error != null, run::encode);
    assertEquals(sdkClass, error.getString("class"), run::encode);
    assertEquals(status, error.getInteger("status"));
    assertEquals(code, error.getString("code"), run::encode);
    return error;
  }

  @Test
  void aValidKeyIsAnsweredAndNeverForwarded() {
    String key = create(KeyLimits.getDefaultInstance());

    assertEquals("Paris.", answer(ask(key, MODEL)));
    setup.upstream().received().forEach(request ->
        assertFalse(request.headers().toString().contains(key.substring(5)), "the key went upstream"));
  }

  @Test
  void anUnknownKeyIsAnAuthenticationError() {
    error(ask("sk-caller-key-never-forwarded", MODEL), "AuthenticationError", 401, "key_invalid");
    error(ask("llmr_" + "0".repeat(43), MODEL), "AuthenticationError", 401, "key_invalid");
  }

  @Test
  void aModelOrCassetteModeOutsideTheKeysIsAPermissionDeniedError() {
    String key = create(KeyLimits.newBuilder().addModels(MODEL).addCassetteModes("off").build());

    error(ask(key, "openai/gpt-4o"), "PermissionDeniedError", 403, "model_not_allowed");
    JsonObject recording = NodeSdks.run(FILE, "create", setup.router().port(), new JsonObject().put("apiKey", key)
        .put("model", MODEL).put("prompt", PROMPT).put("headers", new JsonObject().put("x-cassette-mode", "record")));
    error(recording, "PermissionDeniedError", 403, "cassette_mode_not_allowed");
    JsonObject models = NodeSdks.run(FILE, "models", setup.router().port(), new JsonObject().put("apiKey", key));
    assertEquals(List.of(MODEL), models.getJsonArray("result", new JsonArray()).getList(), models::encode);
  }

  @Test
  void callsPerMinuteAndTheBudgetAreRateLimitErrorsWithRetryAfter() {
    String perMinute = create(KeyLimits.newBuilder().setRequestsPerMinute(1).build());
    assertEquals("Paris.", answer(ask(perMinute, MODEL)));
    JsonObject limited = error(ask(perMinute, MODEL), "RateLimitError", 429, "key_rate_limited");
    assertEquals("60", limited.getJsonObject("headers").getString("retry-after"));

    String budget = create(KeyLimits.newBuilder().setBudgetUsd(0.01).build());
    assertEquals("Paris.", answer(ask(budget, MODEL)));
    JsonObject spent = error(ask(budget, MODEL), "RateLimitError", 429, "budget_exhausted");
    assertEquals(String.valueOf(Duration.ofDays(30).toSeconds()), spent.getJsonObject("headers")
        .getString("retry-after"));
  }
}
