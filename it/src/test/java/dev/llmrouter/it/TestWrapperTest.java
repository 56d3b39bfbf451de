package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.ExternalProcess;
import dev.llmrouter.server.testing.ExternalProcess.Run;
import java.io.IOException;
import java.math.BigInteger;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `llm-router test -- COMMAND`, run as CI runs it: its own process, the command a real one (a Node suite calling the
 * router with @grpc/grpc-js and with the `openai` SDK, found through the environment the wrapper sets), the answers
 * replayed from the demo cassettes. The run's exit code is the command's; `--fail-on-miss` fails a run that passed with
 * a miss; the router is gone once the command ends, also when it is killed, and a SIGTERM or SIGINT to the wrapper ends
 * the command and what it started.
 */
class TestWrapperTest {

  private static final Path DEMO_CASSETTES = Path.of("../cassettes/recorded").toAbsolutePath().normalize();
  private static final String QUESTION = "What is the capital of France?";
  private static final String ANSWER = "The capital of France is Paris.";
  /** The SDK insists on a key; the router ignores a caller's key where caller keys are not required. */
  private static final Map<String, String> SDK_ENVIRONMENT = Map.of("OPENAI_API_KEY", "replay-needs-no-key");
  private static final Pattern TARGET = Pattern.compile("with LLMROUTER_TARGET=127\\.0\\.0\\.1:(\\d+)");
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);

  /** `java -jar llm-router.jar test ARGUMENTS`: its main class, on this module's class path, in {@code directory}. */
  private static Run wrapper(Path directory, Map<String, String> environment, String... arguments) {
    return ExternalProcess.run(directory, RUN_TIMEOUT, environment, command(arguments).toArray(String[]::new));
  }

  private static List<String> command(String... arguments) {
    String java = ProcessHandle.current().info().command().orElse("java");
    return Stream.concat(Stream.of(java, "-cp", System.getProperty("java.class.path"),
        "dev.llmrouter.server.cli.Main", "test"), Stream.of(arguments)).toList();
  }

  private static Run nodeSuite(String... argumentsThenCommand) {
    NodeSdks.install();
    return wrapper(NodeSdks.folder(), SDK_ENVIRONMENT, argumentsThenCommand);
  }

  @Test
  void aNodeSuiteCallingOverGrpcAndThroughTheOpenAiSdkPassesOnReplayedAnswers() {
    for (String check : List.of("grpc", "openai")) {
      Run run = nodeSuite("--cassettes", DEMO_CASSETTES.toString(), "--", "node", "wrapped-suite.mjs", check,
          QUESTION, ANSWER);

      assertEquals(0, run.exitCode(), run::toString);
      assertEquals(check + ": passed\n", run.stdout(), run::toString);
      assertTrue(run.stderr().contains("exited with 0; cassettes: 1 replayed, 0 missed, 0 recorded"), run::toString);
      assertRouterGone(run);
    }
  }

  @Test
  void theRunExitsWithTheCommandsExitCode() {
    Run failed = nodeSuite("--cassettes", DEMO_CASSETTES.toString(), "--", "node", "wrapped-suite.mjs", "grpc",
        QUESTION, "Not the recorded answer.");
    Run seven = wrapper(Path.of("."), Map.of(), "--cassettes", DEMO_CASSETTES.toString(), "--", "sh", "-c",
        "exit 7");
    Run missing = wrapper(Path.of("."), Map.of(), "--", "no-such-command-here");

    assertEquals(1, failed.exitCode(), failed::toString);
    assertTrue(failed.stderr().contains("AssertionError"), failed::toString);
    assertEquals(7, seven.exitCode(), seven::toString);
    assertEquals(127, missing.exitCode(), missing::toString);
    assertTrue(missing.stderr().contains("llm-router test: cannot run no-such-command-here: "), missing::toString);
  }

  @Test
  void failOnMissFailsARunThatPassedDespiteAMiss() {
    Run lenient = nodeSuite("--cassettes", DEMO_CASSETTES.toString(), "--", "node", "wrapped-suite.mjs", "miss",
        "A question nobody recorded");
    Run strict = nodeSuite("--cassettes", DEMO_CASSETTES.toString(), "--fail-on-miss", "--", "node",
        "wrapped-suite.mjs", "miss", "A question nobody recorded");

    assertEquals(0, lenient.exitCode(), lenient::toString);
    assertTrue(lenient.stderr().contains("exited with 0; cassettes: 0 replayed, 1 missed, 0 recorded"),
        lenient::toString);
    assertEquals(1, strict.exitCode(), strict::toString);
    assertEquals("miss: passed\n", strict.stdout(), strict::toString);
    assertTrue(strict.stderr().contains("llm-router test: failing the run: 1 call(s) missed their cassette "
        + "(--fail-on-miss)"), strict::toString);
  }

  @Test
  void aKilledCommandEndsTheRunWithItsStatusAndTheRouterStops() {
    Run run = wrapper(Path.of("."), Map.of(), "--cassettes", DEMO_CASSETTES.toString(), "--", "sh", "-c",
        "kill -KILL $$");

    assertEquals(128 + 9, run.exitCode(), run::toString);
    assertRouterGone(run);
  }

  @Test
  void sigtermToTheWrapperEndsTheCommandWhatItStartedAndTheRouter(@TempDir Path dir) throws Exception {
    assertSignalEndsTheRun("TERM", 128 + 15, dir);
  }

  @Test
  void sigintToTheWrapperEndsTheCommandWhatItStartedAndTheRouter(@TempDir Path dir) throws Exception {
    assumeFalse(ignoredHere(2), "SIGINT is ignored in the processes of this build (a background job of a "
        + "non-interactive shell): the wrapper inherits that and cannot be interrupted");
    assertSignalEndsTheRun("INT", 128 + 15, dir);
  }

  /** Whether this process ignores signal {@code number} (which its children inherit), from Linux's SigIgn mask. */
  private static boolean ignoredHere(int number) throws IOException {
    return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(line -> line.startsWith("SigIgn:"))
        .map(line -> new BigInteger(line.substring("SigIgn:".length()).strip(), 16))
        .anyMatch(mask -> mask.testBit(number - 1));
  }

  /**
   * Runs a command that starts a process of its own and waits for it, sends {@code signal} to the wrapper alone (as
   * `kill` does, not a terminal's Ctrl-C, which signals the whole process group), and checks that the wrapper, the
   * command and its child are all gone, and the port closed.
   */
  private static void assertSignalEndsTheRun(String signal, int exitCode, Path dir) throws Exception {
    Path stderr = dir.resolve("stderr.txt");
    Process wrapper = new ProcessBuilder(command("--cassettes", DEMO_CASSETTES.toString(), "--", "sh", "-c",
        "sleep 600 & wait")).redirectOutput(dir.resolve("stdout.txt").toFile()).redirectError(stderr.toFile())
        .start();
    try {
      assertTrue(Await.until(Duration.ofSeconds(60), () -> read(stderr).contains("with LLMROUTER_TARGET=")
          && wrapper.descendants().anyMatch(process -> process.info().command().orElse("").endsWith("sleep"))),
          () -> read(stderr));
      List<ProcessHandle> commandAndChild = wrapper.descendants().toList();
      assertEquals(2, commandAndChild.size(), commandAndChild::toString);

      assertEquals(0, ExternalProcess.run(dir, Duration.ofSeconds(10), "kill", "-" + signal,
          String.valueOf(wrapper.pid())).exitCode());

      assertTrue(wrapper.waitFor(60, TimeUnit.SECONDS), () -> read(stderr));
      assertEquals(exitCode, wrapper.exitValue(), () -> read(stderr));
      assertTrue(Await.until(Duration.ofSeconds(10), () -> commandAndChild.stream().noneMatch(ProcessHandle::isAlive)),
          commandAndChild::toString);
      assertRouterGone(new Run(wrapper.exitValue(), "", read(stderr)));
    } finally {
      wrapper.destroyForcibly();
    }
  }

  /** Nothing listens on the port the run's router had any more. */
  private static void assertRouterGone(Run run) {
    Matcher target = TARGET.matcher(run.stderr());
    assertTrue(target.find(), run::toString);
    int port = Integer.parseInt(target.group(1));
    assertThrows(ConnectException.class, () -> {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      }
    }, () -> "the router still listens on " + port + "\n" + run);
    assertFalse(run.stderr().contains("Exception"), run::toString);
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return "cannot read " + file + ": " + e;
    }
  }
}
