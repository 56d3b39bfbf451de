package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * admin listener of a router replaying the demo cassettes: a Converse session over the admin listener's WebSocket,
 * held from the page as a person would (two turns, the demo tool answered, a reload, Stop). Installs Debian's
 * chromium package when /usr/bin/chromium is missing. Screenshots go to target/.
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
  void holdsAConversationResumesAfterADropAndAReloadAnswersTheToolAndInterrupts() throws IOException {
    JsonObject page = drive("conversation", "?x-cassette-pace=100");
    JsonObject first = page.getJsonObject("first");
    assertEquals("done", first.getString("state"), page::encodePrettily);
    // The answer's Markdown, rendered: bold, a list, inline code, italics.
    String html = first.getString("html");
    assertTrue(html.startsWith("<p>The capital of France is <strong>Paris</strong>, on the Seine.</p>"), html);
    assertTrue(html.contains("<ul><li>about 2.1 million people live there</li><li>it is home to the "
        + "<code>Louvre</code> and the <em>Eiffel Tower</em></li></ul>"), html);
    // gpt-4o-mini at the bundled prices: 58 x $0.15 + 37 x $0.60 per million tokens = $0.0000309.
    assertEquals(List.of("openai/gpt-4o-mini", "58 in · 37 out", "$0.000031"), first.getJsonArray("meta").getList(),
        page::encodePrettily);
    assertTrue(page.getString("session").matches("Session sess_\\w+ on 127\\.0\\.0\\.1:\\d+\\."),
        page::encodePrettily);

    // The page resumed the session on a new WebSocket after the first one dropped.
    assertEquals(page.getString("session").replace(" on ", " (resumed) on "), page.getString("reconnected"),
        page::encodePrettily);
    assertEquals(3, page.getInteger("sockets"), "the first, the one after the drop, the one after the reload");

    assertEquals("The model calls get_weather({\"city\":\"Paris\"}), answered by this page:",
        page.getString("toolCall"), page::encodePrettily);
    assertEquals("{\"city\":\"Paris\",\"temperature_c\":18,\"conditions\":\"partly cloudy\"}",
        page.getString("toolAnswer"), page::encodePrettily);
    JsonObject second = page.getJsonObject("second");
    assertEquals("It is 18 °C and partly cloudy in Paris: a light jacket will do.", second.getString("text"),
        page::encodePrettily);
    assertTrue(second.getString("html").contains("<strong>18 °C</strong>"), page::encodePrettily);

    assertTrue(page.getString("resumed").matches("Session sess_\\w+ \\(resumed\\) on .*"), page::encodePrettily);
    assertEquals(5, page.getInteger("restored"), "two questions, two answers and the tool call shown again");

    // Stopped after the first words of the story: the router sent what had come, marked interrupted.
    JsonObject third = page.getJsonObject("third");
    assertEquals("stopped", third.getString("state"), page::encodePrettily);
    assertTrue(third.getString("text").startsWith("The lighthouse keeper"), page::encodePrettily);
    assertFalse(third.getString("text").contains("the light kept burning anyway"), page::encodePrettily);
    assertEquals(List.of("openai/gpt-4o-mini", "interrupted"), third.getJsonArray("meta").getList(), page::encodePrettily);
    assertEquals(new JsonArray().add("anthropic/claude-haiku-4-5").add("openai/gpt-4o-mini"),
        page.getJsonArray("models"), page::encodePrettily);
    assertEquals(new JsonArray(), page.getJsonArray("errors"), page::encodePrettily);
  }

  @Test
  void showsWhyAQuestionWithoutCassetteFails() throws IOException {
    JsonObject page = drive("miss", "");
    JsonObject answer = page.getJsonObject("answer");
    assertEquals("failed", answer.getString("state"), page::encodePrettily);
    assertTrue(answer.getString("text").startsWith("FailedPrecondition: "), page::encodePrettily);
    assertEquals(new JsonArray(), page.getJsonArray("errors"), page::encodePrettily);
  }

  /** Runs a scenario of drive-page.mjs on the page (with {@code query}) and returns what the page showed. */
  private static JsonObject drive(String scenario, String query) throws IOException {
    Path target = Files.createDirectories(Path.of("target").toAbsolutePath());
    Run run = ExternalProcess.run(WEB, BROWSER_TIMEOUT, "node", "test/drive-page.mjs", scenario,
        "http://127.0.0.1:" + router.adminPort() + "/" + query, target.toString());
    assertEquals(0, run.exitCode(), run::toString);
    return new JsonObject(run.stdout());
  }

  /** Installs Debian's chromium package when /usr/bin/chromium is missing (the console's test too). */
  static void installChromiumWhenMissing() {
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
