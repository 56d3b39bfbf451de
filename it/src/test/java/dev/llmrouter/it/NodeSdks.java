package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmrouter.server.testing.ExternalProcess;
import dev.llmrouter.server.testing.ExternalProcess.Run;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The official provider SDKs from npm (`openai`, `@anthropic-ai/sdk`, `@google/genai`, pinned in
 * `src/test/node/sdks/package.json`), driven against a running router: each call runs one scenario of a scenario
 * file through `run.mjs` and returns what the SDK returned, or the SDK's typed error.
 */
final class NodeSdks {

  private static final Path SDKS = Path.of("src/test/node/sdks").toAbsolutePath().normalize();

  private NodeSdks() {
  }

  /** Skips the test where node is missing; installs the SDKs on first use. */
  static void install() {
    assumeTrue(ExternalProcess.onPath("node"), "node is not on the PATH: skipping the provider SDK tests");
    synchronized (NodeSdks.class) {
      if (!Files.exists(SDKS.resolve("node_modules/openai"))) {
        Run npm = ExternalProcess.run(SDKS, Duration.ofMinutes(5), "npm", "ci", "--no-audit", "--no-fund");
        assertEquals(0, npm.exitCode(), () -> "npm ci failed in " + SDKS + ": " + npm);
      }
    }
  }

  /**
   * Runs {@code scenario} of {@code file} against the router at {@code port}.
   *
   * @return `{"result": ...}` with what the SDK returned, or `{"error": {"class", "status", "message", ...}}`
   */
  static JsonObject run(String file, String scenario, int port, JsonObject arguments) {
    return run(file, scenario, "http://127.0.0.1:" + port, arguments, Map.of());
  }

  /** As above, against the router at {@code baseUrl}, with {@code environment} added to node's. */
  static JsonObject run(String file, String scenario, String baseUrl, JsonObject arguments,
      Map<String, String> environment) {
    Run run = ExternalProcess.run(SDKS, Duration.ofSeconds(60), environment, "node", "run.mjs", file, scenario,
        baseUrl, arguments.encode());
    assertEquals(0, run.exitCode(), run::toString);
    String[] lines = run.stdout().strip().split("\n");
    return new JsonObject(lines[lines.length - 1]);
  }
}
