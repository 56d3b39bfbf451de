package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.server.testing.ExternalProcess;
import dev.llmrouter.server.testing.ExternalProcess.Run;
import dev.llmrouter.server.testing.RunningRouter;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The live chat page in headless Chromium (server/web/test/drive-page.mjs, with playwright-core), served by the
 * admin listener of a router replaying the demo cassettes: a question typed in, the answer streamed back over
 * gRPC-Web. Installs Debian's chromium package when /usr/bin/chromium is missing. Screenshots go to target/.
 */
class LiveChatPageTest {

  private static final Path WEB = Path.of("../server/web").toAbsolutePath().normalize();
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Duration BROWSER_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration APT_TIMEOUT = Duration.ofMinutes(15);

  private static Vertx vertx;
  private static RunningRouter router;

  @BeforeAll
  static void start() throws Exception {
    installChromiumWhenMissing();
    vertx = Vertx.vertx();
    router = RunningRouter.start(vertx, """
        admin_listen: 127.0.0.1:0
        cassettes: { dir: "%s", mode: replay }
        providers:
          - { name: openai, type: openai, base_url: https://api.openai.com/v1, models: [gpt-4o-mini] }
          - { name: anthropic, type: anthropic, base_url: https://api.anthropic.com, models: [claude-haiku-4-5] }
        """.formatted(Path.of("../cassettes/recorded").toAbsolutePath().normalize()));
  }

  @AfterAll
  static void stop() throws Exception {
    if (router != null) {
      router.close();
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void streamsAReplayedAnswerWithItsModelUsageAndOrigin() throws IOException {
    JsonObject page = ask("Write a haiku about the sea.", "live-chat-page.png");
    String haiku = "Waves fold into foam,\nsalt wind carries gull voices,\nthe tide keeps its time.";
    assertEquals("done", page.getString("state"), page::encodePrettily);
    assertEquals(haiku, page.getString("text"), page::encodePrettily);
    // The three recorded deltas landed one after the other.
    assertEquals(List.of("Waves fold into foam,", "Waves fold into foam,\nsalt wind carries gull voices,", haiku),
        page.getJsonArray("answerTexts").stream().distinct().toList(), page::encodePrettily);
    assertEquals("replayed from cassette", page.getString("origin"), page::encodePrettily);
    assertTrue(page.getString("model").matches("gpt-4o-mini\\S* · openai"), page::encodePrettily);
    assertTrue(page.getString("usage").matches("\\d+ in · \\d+ out"), page::encodePrettily);
    // gpt-4o-mini at the bundled prices: 13 x $0.15 + 19 x $0.60 per million tokens = $0.00001335.
    assertEquals("$0.000013", page.getString("cost"), page::encodePrettily);
    assertEquals(new JsonArray().add("anthropic/claude-haiku-4-5").add("openai/gpt-4o-mini"),
        page.getJsonArray("models"), page::encodePrettily);
    assertEquals(new JsonArray(), page.getJsonArray("errors"), page::encodePrettily);
  }

  @Test
  void showsWhyAQuestionWithoutCassetteFails() throws IOException {
    JsonObject page = ask("A question nobody recorded.", "live-chat-page-miss.png");
    assertEquals("failed", page.getString("state"), page::encodePrettily);
    assertTrue(page.getString("text").startsWith("FailedPrecondition: "), page::encodePrettily);
  }

  /** Opens the page, asks the question, and returns what the page shows once the answer has ended. */
  private static JsonObject ask(String question, String screenshot) throws IOException {
    Path target = Files.createDirectories(Path.of("target").toAbsolutePath());
    Run run = ExternalProcess.run(WEB, BROWSER_TIMEOUT, "node", "test/drive-page.mjs",
        "http://127.0.0.1:" + router.adminPort() + "/", question, target.resolve(screenshot).toString());
    assertEquals(0, run.exitCode(), run::toString);
    return new JsonObject(run.stdout());
  }

  private static void installChromiumWhenMissing() {
    if (Files.isExecutable(CHROMIUM)) {
      return;
    }
    Path here = Path.of(".");
    List<String[]> commands = List.of(new String[] {"apt-get", "update"},
        new String[] {"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "chromium"});
    for (String[] command : commands) {
      Run run = ExternalProcess.run(here, APT_TIMEOUT, command);
      assertEquals(0, run.exitCode(), () -> "cannot install chromium: " + String.join(" ", command) + "\n" + run);
    }
  }
}
