package dev.llmrouter.client.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.OpenAiAnswerTable;
import dev.llmrouter.server.testing.RunningRouter;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs {@link CassetteScopeExample} as a service's CI would: once against the real router recording from a mock
 * upstream, then again against a router replaying, with the upstream stopped.
 */
class CassetteScopeExtensionTest {

  private Vertx vertx;

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stopVertx() throws Exception {
    System.clearProperty(CassetteScopeExtension.TARGET_VARIABLE);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void eachTestMethodRecordsIntoAndReplaysFromItsOwnCassetteFolder(@TempDir Path cassettes) throws Exception {
    MockUpstream upstream = OpenAiAnswerTable.answer(MockUpstream.start(vertx), Map.of(
        CassetteScopeExample.REVIEW, CassetteScopeExample.SUMMARY,
        CassetteScopeExample.QUESTION, CassetteScopeExample.ANSWER));
    try (upstream; RunningRouter recording = router("record", cassettes, upstream.baseUrl())) {
      runExampleAgainst(recording);
      assertEquals(2, upstream.received().size());
    }
    assertEquals(List.of("CassetteScopeExample/answersWithItsOwnChannel", "CassetteScopeExample/summarizesAReview"),
        foldersWithCassettes(cassettes));

    try (RunningRouter replaying = router("replay", cassettes, upstream.baseUrl())) {
      runExampleAgainst(replaying);
    }
  }

  @Test
  void aClientWithoutTargetIsExplained() {
    List<String> failures = runExample().getFailures().stream().map(failure -> failure.getException().getMessage())
        .toList();
    assertTrue(failures.stream().anyMatch(message -> message.contains("set LLMROUTER_TARGET (system property or "
        + "environment variable) to the host:port of the router")), failures::toString);
  }

  /** The real router with one OpenAI provider, `openai`, reached at {@code upstreamBaseUrl}. */
  private RunningRouter router(String mode, Path cassettes, String upstreamBaseUrl) {
    return RunningRouter.start(vertx, """
        cassettes: { dir: "%s", mode: %s }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}", models: [gpt-4o-mini] }
        """.formatted(cassettes, mode, upstreamBaseUrl));
  }

  private static void runExampleAgainst(RunningRouter router) {
    System.setProperty(CassetteScopeExtension.TARGET_VARIABLE, "127.0.0.1:" + router.port());
    TestExecutionSummary summary = runExample();
    StringWriter failures = new StringWriter();
    summary.printFailuresTo(new PrintWriter(failures), 20);
    assertEquals(2, summary.getTestsSucceededCount(), failures::toString);
  }

  private static TestExecutionSummary runExample() {
    SummaryGeneratingListener listener = new SummaryGeneratingListener();
    LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
        .selectors(DiscoverySelectors.selectClass(CassetteScopeExample.class)).build(), listener);
    return listener.getSummary();
  }

  /** The folders under {@code root} that hold cassette files, relative to it. */
  private static List<String> foldersWithCassettes(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(file -> file.toString().endsWith(".json"))
          .map(file -> root.relativize(file.getParent()).toString()).distinct().sorted().toList();
    }
  }
}
