package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmrouter.server.testing.ExternalProcess;
import dev.llmrouter.server.testing.ExternalProcess.Run;
import dev.llmrouter.server.testing.RunningRouter;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A grpc-js client that cancels its Converse stream (`call.cancel()`) can resume the session on a new stream: the
 * router tells a cancel from a half-close whatever the client library. Runs `converse-cancel.js` of
 * `client-stub/examples/node`; skipped when `node` is not on the PATH.
 */
class GrpcJsConverseCancelTest {

  private static final Path EXAMPLE = Path.of("../client-stub/examples/node").toAbsolutePath().normalize();

  private static Vertx vertx;
  private static RunningRouter router;

  @BeforeAll
  static void start() {
    assumeTrue(ExternalProcess.onPath("node"), "node is not on the PATH: skipping the grpc-js cancel test");
    if (!Files.exists(EXAMPLE.resolve("node_modules/@grpc/grpc-js"))) {
      Run npm = ExternalProcess.run(EXAMPLE, Duration.ofMinutes(5), "npm", "ci");
      assertEquals(0, npm.exitCode(), () -> "npm ci failed in " + EXAMPLE + ": " + npm);
    }
    vertx = Vertx.vertx();
    router = RunningRouter.start(vertx, """
        cassettes: { mode: "off" }
        providers:
          - { name: openai, type: openai, base_url: "http://127.0.0.1:9/v1" }
        """);
  }

  @AfterAll
  static void stop() throws Exception {
    if (router != null) {
      router.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  @Test
  void aSessionCancelledByGrpcJsResumesOnANewStream() {
    Run run = ExternalProcess.run(EXAMPLE, Duration.ofSeconds(60), "node", "converse-cancel.js",
        "127.0.0.1:" + router.port(), "openai/gpt-4o-mini");
    JsonObject result = new JsonObject(run.stdout().strip());
    assertEquals("CANCELLED", result.getString("cancelledWith"), run::toString);
    assertEquals(true, result.getBoolean("resumed"), run::toString);
    assertEquals(0, run.exitCode(), run::toString);
  }
}
