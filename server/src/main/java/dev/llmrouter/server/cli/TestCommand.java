package dev.llmrouter.server.cli;

import dev.llmrouter.server.cli.ServeCommand.Started;
import dev.llmrouter.server.observe.CallMetrics;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * `java -jar llm-router.jar test [flags] -- COMMAND [ARGUMENT...]`: runs a test suite, in any language, against a
 * router of its own. The router starts exactly as the router's own run does with the same flags
 * ({@link ServeCommand#start}), with three defaults of its own: a free port, replay mode, and the call log in a
 * temporary folder deleted afterwards ({@code --port}, {@code --mode} and {@code --data-dir} choose otherwise). Once it
 * listens, which is when its health service says SERVING, the command runs with the router's address in its
 * environment ({@link #environment}) and this process's standard streams; when it ends, the router closes and the
 * exit code is the command's. SIGINT (Ctrl-C) or SIGTERM ends the command (and the processes it started) first.
 */
final class TestCommand {

  private static final Flag FAIL_ON_MISS = Flag.toggle("--fail-on-miss", """
      exit 1 when a call missed its cassette, even if the command passed""");
  private static final String SEPARATOR = "--";
  private static final Syntax SYNTAX = new Syntax("test", "[FLAGS] -- COMMAND [ARGUMENT...]", """
      Starts the router, runs COMMAND with the router's address in its environment,
      then stops the router and exits with the command's exit code:
        LLMROUTER_TARGET=HOST:PORT (gRPC), OPENAI_BASE_URL=http://HOST:PORT/v1,
        ANTHROPIC_BASE_URL=http://HOST:PORT, GOOGLE_GEMINI_BASE_URL=http://HOST:PORT.
      The router's flags are those of the router itself, with other defaults: a free
      port, replay mode, and the call log in a temporary folder, deleted afterwards.
      Ctrl-C or SIGTERM stops the command first, then the router.""", List.of(),
      Stream.concat(ServeCommand.flags().stream(), Stream.of(FAIL_ON_MISS)).toList());

  /** What `test` defaults to where the router's own run has other defaults. */
  private static final String FREE_PORT = "0";
  private static final String REPLAY = "replay";

  /** The exit code of a command that could not be started, as a shell says it. */
  private static final int CANNOT_RUN = 127;
  private static final int MISSED = 1;
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

  private TestCommand() {
  }

  static int run(List<String> args, PrintStream out, PrintStream err) {
    int separator = args.indexOf(SEPARATOR);
    List<String> flags = separator < 0 ? args : args.subList(0, separator);
    List<String> command = separator < 0 ? List.of() : args.subList(separator + 1, args.size());
    boolean help = flags.contains("--help") || flags.contains("-h");
    Arguments arguments;
    try {
      if (!help && separator < 0) {
        throw SYNTAX.error("the command to run comes after --, as in: test --cassettes tests/cassettes -- npm test");
      }
      if (!help && command.isEmpty()) {
        throw SYNTAX.error("missing COMMAND after --");
      }
      arguments = SYNTAX.parse(flags);
    } catch (UsageException e) {
      return e.report(err);
    }
    if (arguments.help()) {
      out.print(SYNTAX.usage());
      return 0;
    }
    Optional<Path> temporaryDataDir = arguments.has("--data-dir") ? Optional.empty() : Optional.of(temporaryFolder());
    Map<String, String> values = new HashMap<>(arguments.values());
    values.putIfAbsent("--port", FREE_PORT);
    values.putIfAbsent("--mode", REPLAY);
    temporaryDataDir.ifPresent(dir -> values.put("--data-dir", dir.toString()));
    try {
      // The router's lines go to standard error: the command's standard output stays its own.
      return ServeCommand.start(new Arguments(List.of(), values, false), err, err, System::getenv,
          started -> OptionalInt.of(runAgainst(started, command, arguments.has(FAIL_ON_MISS.name()), err)))
          .getAsInt();
    } finally {
      temporaryDataDir.ifPresent(TestCommand::delete);
    }
  }

  /** Runs the command against the started router, then stops the router; returns the exit code of the run. */
  private static int runAgainst(Started router, List<String> command, boolean failOnMiss, PrintStream err) {
    Map<String, String> environment = environment(router);
    ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
    builder.environment().putAll(environment);
    int exitCode;
    try {
      Process process = builder.start();
      err.println("llm-router test: running " + String.join(" ", command) + " with LLMROUTER_TARGET="
          + environment.get("LLMROUTER_TARGET"));
      stopOnSignals(process);
      exitCode = exitCode(process);
    } catch (IOException e) {
      err.println("llm-router test: cannot run " + command.get(0) + ": " + e.getMessage());
      exitCode = CANNOT_RUN;
    }
    router.stop(STOP_TIMEOUT);
    long misses = CallMetrics.cassetteOutcomes(router.metrics(), "miss");
    err.println("llm-router test: " + String.join(" ", command) + " exited with " + exitCode + "; cassettes: "
        + CallMetrics.cassetteOutcomes(router.metrics(), "hit") + " replayed, " + misses + " missed, "
        + CallMetrics.cassetteOutcomes(router.metrics(), "recorded") + " recorded");
    if (failOnMiss && misses > 0) {
      err.println("llm-router test: failing the run: " + misses + " call(s) missed their cassette (--fail-on-miss); "
          + "each missed call's error names its key, its scope and the closest cassette");
      return exitCode == 0 ? MISSED : exitCode;
    }
    return exitCode;
  }

  /**
   * Where the command finds the router: its gRPC target, and the base URLs the provider SDKs read from their
   * environment (the HTTP ingress shares the gRPC port).
   */
  private static Map<String, String> environment(Started router) {
    String host = switch (router.config().host()) {
      case "0.0.0.0", "" -> "127.0.0.1";
      case "::", "[::]" -> "::1";
      default -> router.config().host();
    };
    String authority = (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":"
        + router.server().port();
    String base = (router.config().tls().isPresent() ? "https://" : "http://") + authority;
    Map<String, String> environment = new LinkedHashMap<>();
    environment.put("LLMROUTER_TARGET", authority);
    environment.put("OPENAI_BASE_URL", base + "/v1");
    environment.put("ANTHROPIC_BASE_URL", base);
    environment.put("GOOGLE_GEMINI_BASE_URL", base);
    return environment;
  }

  /**
   * SIGINT and SIGTERM end the command and every process it started (a test runner's workers): with SIGTERM first,
   * and at once with a second signal. The command's end then stops the router as usual.
   */
  private static void stopOnSignals(Process process) {
    AtomicInteger signals = new AtomicInteger();
    Runnable stop = () -> {
      boolean forcibly = signals.incrementAndGet() > 1;
      List<ProcessHandle> processes = new ArrayList<>(process.descendants().toList());
      processes.add(0, process.toHandle());
      processes.forEach(handle -> {
        if (forcibly) {
          handle.destroyForcibly();
        } else {
          handle.destroy();
        }
      });
    };
    ServeCommand.onSignal("INT", stop);
    ServeCommand.onSignal("TERM", stop);
  }

  private static int exitCode(Process process) {
    while (true) {
      try {
        return process.waitFor();
      } catch (InterruptedException e) {
        // Nothing here interrupts this thread; the command's end is what the run waits for.
      }
    }
  }

  private static Path temporaryFolder() {
    try {
      return Files.createTempDirectory("llm-router-test-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary folder for the call log", e);
    }
  }

  private static void delete(Path folder) {
    try (Stream<Path> paths = Files.walk(folder)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      // A temporary folder left behind is no reason to change the run's exit code.
    }
  }
}
