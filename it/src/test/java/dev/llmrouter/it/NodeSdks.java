package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmrouter.server.testing.ExternalProcess;
import dev.llmrouter.server.testing.ExternalProcess.Run;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The official provider SDKs from npm (`openai`, `@anthropic-ai/sdk`, `@google/genai`, and `@grpc/grpc-js`, pinned in
 * `src/test/node/sdks/package.json`), driven against a running router: each call runs one scenario of a scenario
 * file through `run.mjs` and returns what the SDK returned, or the SDK's typed error.
 */
final class NodeSdks {

  private static final Path SDKS = Path.of("src/test/node/sdks").toAbsolutePath().normalize();

  private NodeSdks() {
  }

  /** Skips the test where node is missing; installs the SDKs when one of the packages pinned is not there. */
  static void install() {
    assumeTrue(ExternalProcess.onPath("node"), "node is not on the PATH: skipping the provider SDK tests");
    synchronized (NodeSdks.class) {
      if (!pinnedPackagesInstalled()) {
        Run npm = ExternalProcess.run(SDKS, Duration.ofMinutes(5), "npm", "ci", "--no-audit", "--no-fund");
        assertEquals(0, npm.exitCode(), () -> "npm ci failed in " + SDKS + ": " + npm);
      }
    }
  }

  private static boolean pinnedPackagesInstalled() {
    try {
      JsonObject dependencies = new JsonObject(Files.readString(SDKS.resolve("package.json")))
          .getJsonObject("dependencies");
      return dependencies.fieldNames().stream().allMatch(name -> Files.exists(SDKS.resolve("node_modules/" + name)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The folder of the SDKs, where node runs the scripts. */
  static Path folder() {
    return SDKS;
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
