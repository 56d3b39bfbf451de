package dev.llmrouter.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.ReloadReport;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reloading the config file in process (`POST /admin/reload`, and {@link RouterServer#reload}, which SIGHUP runs). */
class ConfigReloadTest {

  private static final Function<String, String> ENVIRONMENT = Map.of("TEST_API_KEY", RunningRouter.TEST_KEY,
      "ROUTER_ADMIN_KEY", RunningRouter.TEST_ADMIN_KEY)::get;
  private static final String ANSWER = """
      {"id": "c1", "object": "chat.completion", "created": 1, "model": "%s", "choices": [{"index": 0,
       "message": {"role": "assistant", "content": "%s"}, "finish_reason": "stop"}],
       "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}""";

  @TempDir
  Path dir;
  private Path configFile;
  private Vertx vertx;
  private MockUpstream upstream;
  private RunningRouter router;

  @BeforeEach
  void start() throws IOException {
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx);
    upstream.answer(request -> request.response().putHeader("content-type", "application/json")
        .end(ANSWER.formatted("gpt-4o-mini", "from the first upstream")));
    configFile = dir.resolve("router.yaml");
    write("");
    router = RunningRouter.start(vertx, ConfigLoader.read(configFile, ENVIRONMENT));
    router.server().reloadFrom(() -> ConfigLoader.read(configFile, ENVIRONMENT));
  }

  @AfterEach
  void stop() throws Exception {
    router.close();
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  /** Writes the config file: the same listeners, data folder and key, one provider, then {@code more}. */
  private void write(String more) throws IOException {
    write(upstream.baseUrl(), more);
  }

  private void write(String baseUrl, String more) throws IOException {
    Files.writeString(configFile, """
        listen: 127.0.0.1:0
        admin_listen: 127.0.0.1:0
        event_loops: 2
        data_dir: "%s"
        auth: { required: false, admin_key: "${ROUTER_ADMIN_KEY}" }
        cassettes: { mode: "off" }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        """.formatted(dir.resolve("data"), baseUrl) + more);
  }

  private IngressClient.Reply postReload(String... headers) {
    return new IngressClient(router.adminPort()).post("/admin/reload", "", headers);
  }

  private IngressClient.Reply reloadAsAdmin() {
    return postReload("authorization", "Bearer " + RunningRouter.TEST_ADMIN_KEY);
  }

  private static ChatRequest ask(String model) {
    return ChatRequest.newBuilder().setModel(model).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText("Hello"))).build();
  }

  private static List<String> strings(JsonNode array) {
    return java.util.stream.StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
  }

  @Test
  void anAliasAddedToTheFileServesTheNextCallAfterAReload() throws IOException {
    StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class, () -> router.chat().chat(ask("fast")));
    assertEquals(Status.Code.INVALID_ARGUMENT, unknown.getStatus().getCode());
    write("""
        models:
          - { alias: fast, targets: [{ model: openai/gpt-4o-mini }] }
        prices:
          gpt-4o-mini: { input: 1000000, output: 1000000 }
        drain_timeout: 5s
        """);

    IngressClient.Reply reloaded = reloadAsAdmin();

    assertEquals(200, reloaded.status(), reloaded.body());
    assertTrue(reloaded.json().path("reloaded").asBoolean(), reloaded.body());
    assertEquals(List.of("models", "prices", "drain_timeout"), strings(reloaded.json().path("changed")));
    assertEquals(List.of(), strings(reloaded.json().path("need_restart")));
    var answer = router.chat().chat(ask("fast"));
    assertEquals("from the first upstream", answer.getMessage().getParts(0).getText());
    assertTrue(upstream.lastRequest().body().contains("\"gpt-4o-mini\""), upstream.lastRequest().body());
    assertEquals(5.0, answer.getUsage().getCostUsd(), 1e-9, "the new prices price the call: 5 tokens at $1 each");
    assertTrue(router.models().listModels(ListModelsRequest.getDefaultInstance()).getModelsList().stream()
        .map(Model::getName).anyMatch("fast"::equals));
  }

  @Test
  void settingsThatNeedARestartAreReportedAndKept() throws IOException {
    Files.writeString(configFile, Files.readString(configFile).replace("event_loops: 2", "event_loops: 1")
        .replace("mode: \"off\"", "mode: replay").replaceFirst("^listen: 127.0.0.1:0", "listen: 127.0.0.1:1"));

    ReloadReport report = Await.result(router.server().reload());

    assertTrue(report.applied());
    assertEquals(List.of(), report.changed());
    assertEquals(List.of("listen", "event_loops", "cassettes.mode"), report.needRestart());
    assertEquals("from the first upstream", router.chat().chat(ask("openai/gpt-4o-mini")).getMessage()
        .getParts(0).getText(), "the router still calls live, as cassettes.mode: off says");
  }

  @Test
  void aRunningCallFinishesOnTheConfigItStartedWith() throws Exception {
    CompletableFuture<Runnable> held = new CompletableFuture<>();
    upstream.answer(request -> {
      Context context = Vertx.currentContext();
      HttpServerResponse response = request.response().setChunked(true).putHeader("content-type",
          "text/event-stream");
      response.write("data: {\"id\":\"c1\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"content\":\"old\"},\"finish_reason\":null}]}\n\n");
      held.complete(() -> context.runOnContext(v -> response.end("data: {\"id\":\"c1\",\"created\":1,\"model\":"
          + "\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")));
    });
    Iterator<ChatEvent> running = router.chat().streamChat(ask("openai/m"));
    Runnable finish = held.get(10, TimeUnit.SECONDS);
    try (MockUpstream second = MockUpstream.start(vertx)) {
      second.answer(request -> request.response().putHeader("content-type", "application/json")
          .end(ANSWER.formatted("m", "from the second upstream")));
      write(second.baseUrl(), "");

      assertEquals(List.of("providers"), Await.result(router.server().reload()).changed());

      assertEquals("from the second upstream", router.chat().chat(ask("openai/m")).getMessage().getParts(0)
          .getText(), "a new call goes where the new config says");
      finish.run();
      StringBuilder text = new StringBuilder();
      running.forEachRemaining(event -> text.append(event.getTextDelta().getText()));
      assertEquals("old", text.toString(), "the running call finished on its own upstream");
      assertEquals(1, second.received().size());
    }
  }

  @Test
  void aBrokenFileIsRefusedWithItsErrorsAndTheRunningConfigKeepsServing() throws IOException {
    write("""
        models:
          - { alias: fast, targets: [{ model: nobody/gpt-4o-mini }] }
        retry: { max_attempts: 0 }
        """);

    IngressClient.Reply refused = reloadAsAdmin();

    assertEquals(400, refused.status(), refused.body());
    assertFalse(refused.json().path("reloaded").asBoolean(true));
    List<String> errors = strings(refused.json().path("errors"));
    assertEquals(2, errors.size(), errors.toString());
    assertTrue(errors.get(0).startsWith("models.0.targets.0.model (line 10): must be <provider>/<model>"),
        errors.toString());
    assertTrue(errors.get(1).startsWith("retry.max_attempts (line 11): must be at least 1"), errors.toString());
    assertEquals("from the first upstream", router.chat().chat(ask("openai/gpt-4o-mini")).getMessage()
        .getParts(0).getText());

    Files.writeString(configFile, "providers: [ { name: openai");
    ReloadReport notYaml = Await.result(router.server().reload());
    assertFalse(notYaml.applied());
    assertTrue(notYaml.problems().get(0).startsWith("invalid config: not valid YAML"), notYaml.problems().toString());
    assertEquals("from the first upstream", router.chat().chat(ask("openai/gpt-4o-mini")).getMessage()
        .getParts(0).getText());
  }

  @Test
  void reloadWantsTheAdminKeyAndAPost() throws IOException {
    write("""
        models:
          - { alias: fast, targets: [{ model: openai/gpt-4o-mini }] }
        """);

    IngressClient.Reply noKey = postReload();
    IngressClient.Reply wrongKey = postReload("authorization", "Bearer not-the-admin-key-of-this-router-at-all");
    IngressClient.Reply get = new IngressClient(router.adminPort()).get("/admin/reload",
        "authorization", "Bearer " + RunningRouter.TEST_ADMIN_KEY);

    assertEquals(401, noKey.status(), noKey.body());
    assertEquals(401, wrongKey.status(), wrongKey.body());
    assertEquals(405, get.status());
    assertEquals("POST", get.header("allow"));
    StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class, () -> router.chat().chat(ask("fast")));
    assertEquals(Status.Code.INVALID_ARGUMENT, unknown.getStatus().getCode(), "nothing was reloaded");
    assertEquals(200, reloadAsAdmin().status());
  }

  @Test
  void aRouterStartedWithoutAFileHasNothingToReload() throws Exception {
    try (RunningRouter plain = RunningRouter.start(vertx, "cassettes: { mode: \"off\" }\n")) {
      ReloadReport report = Await.result(plain.server().reload());
      assertFalse(report.applied());
      assertTrue(report.problems().get(0).contains("not started from a config file"), report.problems().toString());
    }
  }
}
