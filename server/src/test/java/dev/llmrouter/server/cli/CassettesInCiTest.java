package dev.llmrouter.server.cli;

import static dev.llmrouter.server.testing.CassetteRouters.ask;
import static dev.llmrouter.server.testing.CassetteRouters.askOpenAi;
import static dev.llmrouter.server.testing.CassetteRouters.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.testing.CassetteRouters;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the environment says CI=true, a run never records by accident: `record` and `auto` are refused from the
 * config, the command line and per call (through both doors), unless `cassettes.allow_record_in_ci: true`; replay
 * is the default. The environment is the tests' own, never the one they run in.
 */
class CassettesInCiTest {

  private static final Map<String, String> IN_CI = Map.of("CI", "true");
  private static final String REFUSED = " is refused: CI=true is set, and a CI run must never record by accident, so "
      + "record and auto are refused there and replay is the default. Replay (drop the mode, or use replay), or set "
      + "cassettes.allow_record_in_ci: true to record in CI on purpose";

  @TempDir
  Path dir;
  private CassetteRouters routers;

  @BeforeEach
  void start() {
    routers = new CassetteRouters(dir.resolve("cassettes"));
  }

  @AfterEach
  void stop() throws Exception {
    routers.close();
  }

  /** Runs `llm-router` with a config file in the environment {@code environment}: its exit code and its stderr. */
  private String serve(String cassettesYaml, Map<String, String> environment, String... flags) throws Exception {
    Path config = Files.writeString(dir.resolve("router.yaml"), routers.config(cassettesYaml)
        .replace("admin_listen: 127.0.0.1:0\n", "listen: 127.0.0.1:0\n"));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> args = new ArrayList<>(List.of("--config", config.toString()));
    args.addAll(List.of(flags));
    OptionalInt exit = ServeCommand.run(args, new PrintStream(OutputStream.nullOutputStream()),
        new PrintStream(err, true, StandardCharsets.UTF_8), RunningRouter.testEnvironment(environment));
    assertEquals(OptionalInt.of(1), exit, "the router must not start: " + err);
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void recordAndAutoFromTheConfigOrTheCommandLineStopTheRouterAtStartUp() throws Exception {
    for (String mode : List.of("record", "auto")) {
      String refused = "llm-router: the cassette mode (cassettes.mode or --mode) " + mode + REFUSED + "\n";
      assertEquals(refused, serve("mode: " + mode, IN_CI));
      assertEquals(refused, serve("mode: replay", IN_CI, "--mode", mode));
      assertEquals(refused, serve("mode: replay", Map.of("CI", "1"), "--mode", mode));
    }
    assertTrue(ConfigLoader.parse(routers.config("mode: record"), RunningRouter.testEnvironment(Map.of("CI",
        "false"))).cassettes().recordingAllowed(), "CI=false is no CI");
  }

  @Test
  void recordAndAutoAskedPerCallAreRefusedThroughBothDoors() {
    RunningRouter router = routers.router("mode: replay\nallow_mode_override: true", IN_CI);
    for (String mode : List.of("record", "auto")) {
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
          () -> chat(router, "x-cassette-mode", mode).chat(ask("Hello")));
      assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
      assertEquals("x-cassette-mode: " + mode + REFUSED, refused.getStatus().getDescription());

      IngressClient.Reply sdk = new IngressClient(router.port()).post("/v1/chat/completions",
          askOpenAi("Hello", new JsonObject()), "x-cassette-mode", mode);
      assertEquals(400, sdk.status(), sdk.body());
      assertEquals("x-cassette-mode: " + mode + REFUSED, sdk.json().at("/error/message").asText());
    }
    assertEquals(0, routers.upstreamCalls());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_LIVE, chat(router, "x-cassette-mode", "off").chat(ask("Hello"))
        .getOrigin().getCassette(), "off records nothing: it stays allowed");
  }

  @Test
  void theExplicitSettingAllowsRecordingInCiFromTheConfigTheCommandLineAndPerCall() throws Exception {
    String allowed = "allow_record_in_ci: true\n";
    RunningRouter fromConfig = routers.router("mode: record\n" + allowed, IN_CI);
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, chat(fromConfig).chat(ask("From the config"))
        .getOrigin().getCassette());

    RouterConfig flagged = ServeCommand.Flags.parse("--mode", "auto").applyTo(ConfigLoader.parse(
        routers.config("mode: replay\n" + allowed), RunningRouter.testEnvironment(IN_CI)));
    try (RunningRouter fromFlag = RunningRouter.start(routers.vertx(), flagged)) {
      IngressClient.Reply sdk = new IngressClient(fromFlag.port()).post("/v1/chat/completions",
          askOpenAi("From the command line", new JsonObject()));
      assertEquals("recorded", sdk.header("x-cassette-outcome"), sdk.body());
    }

    RunningRouter perCall = routers.router("mode: replay\nallow_mode_override: true\n" + allowed, IN_CI);
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, chat(perCall, "x-cassette-mode", "record")
        .chat(ask("Per call")).getOrigin().getCassette());
    IngressClient.Reply sdk = new IngressClient(perCall.port()).post("/v1/chat/completions",
        askOpenAi("Per call over HTTP", new JsonObject()), "x-cassette-mode", "auto");
    assertEquals("recorded", sdk.header("x-cassette-outcome"), sdk.body());
  }

  @Test
  void replayIsTheDefaultInCiAndServesTheBundledCassettesThroughBothDoors() throws Exception {
    RouterConfig defaults = ConfigLoader.embeddedDefault(RunningRouter.testEnvironment(IN_CI));
    assertEquals("replay", defaults.cassettes().mode());
    assertFalse(defaults.cassettes().recordingAllowed());
    try (RunningRouter router = RunningRouter.start(routers.vertx(),
        defaults.withCassettes(defaults.cassettes().withDir("../cassettes/recorded")))) {
      assertEquals("The capital of France is Paris.", router.chat().chat(ask("What is the capital of France?"))
          .getMessage().getParts(0).getText());
      IngressClient.Reply sdk = new IngressClient(router.port()).post("/v1/chat/completions",
          askOpenAi("What is the capital of France?", new JsonObject()));
      assertEquals("hit", sdk.header("x-cassette-outcome"), sdk.body());
    }
  }
}
