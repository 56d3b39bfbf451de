package dev.llmrouter.server.cli;

import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.auth.SqliteKeyStore;
import dev.llmrouter.server.config.ConfigException;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.config.TracingConfig;
import dev.llmrouter.server.observe.CallLog;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeSet;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * `java -jar llm-router.jar [flags]`: reads the config file, applies the flags over it, and runs the router until
 * the JVM is stopped. SIGTERM drains the router ({@link RouterServer#drain}) and exits 0 (1 when closing failed);
 * SIGHUP reads the config file again ({@link RouterServer#reload}). Exit codes: 1 the router cannot start, 2 the
 * command line or the config file is wrong.
 */
public final class ServeCommand {

  private static final Flag CONFIG = Flag.withValue("--config", "FILE", """
      YAML config (see README.md, "Configuration"); without it the router runs its
      embedded default: replay mode over cassettes/recorded, on 127.0.0.1:50051""");
  private static final Flag PORT = Flag.withValue("--port", "N",
      "listen on port N (0 picks a free port); overrides `listen`");
  private static final Flag EVENT_LOOPS = Flag.withValue("--event-loops", "N", """
      serve connections on N event loops (threads; default one per core);
      overrides `event_loops`""");
  private static final Flag MODE = Flag.withValue("--mode", "MODE",
      "cassette mode: replay, record, auto or off; overrides `cassettes.mode`");
  private static final Flag CASSETTES = Flag.withValue("--cassettes", "DIR",
      "cassette folder; overrides `cassettes.dir`");
  private static final Flag TRACK_USAGE = Flag.withValue("--track-usage", "FILE", """
      append the path of each cassette that answers a call to FILE, once per cassette,
      for `cassettes prune --unused --usage FILE`""");
  private static final Flag DATA_DIR = Flag.withValue("--data-dir", "DIR",
      "where the call log (DIR/calls.db) is kept; overrides `data_dir`");
  private static final Flag CALL_LOG = Flag.withValue("--call-log", "on|off",
      "log every model call, or not; overrides `call_log.enabled`");
  private static final Flag DRAIN_TIMEOUT = Flag.withValue("--drain-timeout", "DURATION", """
      how long a drain (SIGTERM) lets running calls finish before it cancels
      them, like 30s; overrides `drain_timeout`""");
  private static final Flag CASSETTE_REPORT = Flag.withValue("--cassette-report", "FILE", """
      write the cassette replay report (per scope: hits, misses, unused cassettes)
      to FILE as JUnit XML on shutdown and on POST /admin/cassettes/report""");
  private static final Flag CASSETTE_REPORT_MD = Flag.withValue("--cassette-report-md", "FILE",
      "the same report as Markdown, for a CI job summary");
  /** Spaces as wide as the usage line up to its flags, and up to the jar: the next lines align under them. */
  private static final String UNDER_FLAGS = " ".repeat(("usage: " + Syntax.JAR + " ").length());
  private static final String UNDER_JAR = " ".repeat("usage: ".length());
  private static final Syntax SYNTAX = new Syntax("", "[--config FILE] [--port N] [--mode MODE] [--cassettes DIR]\n"
      + UNDER_FLAGS + "[--track-usage FILE] [--data-dir DIR] [--call-log on|off] [--event-loops N]\n"
      + UNDER_FLAGS + "[--drain-timeout DURATION] [--cassette-report FILE] [--cassette-report-md FILE]\n"
      + UNDER_JAR + Syntax.JAR + " cassettes list|show|verify|prune|diff|migrate ...  (see `cassettes --help`)\n"
      + UNDER_JAR + Syntax.JAR + " calls list|trace|usage ...  (see `calls --help`)\n"
      + UNDER_JAR + Syntax.JAR + " keys create|list|revoke|update ...  (see `keys --help`)\n"
      + UNDER_JAR + Syntax.JAR + " test [FLAGS] -- COMMAND ...  (see `test --help`)", "",
      List.of(), List.of(CONFIG, PORT, MODE, CASSETTES, TRACK_USAGE, DATA_DIR, CALL_LOG, EVENT_LOOPS,
      DRAIN_TIMEOUT, CASSETTE_REPORT, CASSETTE_REPORT_MD));

  /** The hints name the jar that runs, wherever it is; the help's {@link Syntax#JAR} when not run from a jar. */
  private static final String RUNNING_JAR = runningJar();

  private static final int OK = 0;
  private static final int CANNOT_START = 1;
  private static final int BAD_CONFIG = 2;
  private static final int DRAIN_FAILED = 1;

  private ServeCommand() {
  }

  /** The router's flags: `test` takes them too. */
  static List<Flag> flags() {
    return SYNTAX.flags();
  }

  /**
   * The flags, which override the config file.
   *
   * @param configFile the YAML config, or empty for the embedded default
   * @param port overrides the port of `listen`
   * @param mode overrides `cassettes.mode`
   * @param cassetteDir overrides `cassettes.dir`
   * @param trackUsage the file listing the cassettes that answered, for `cassettes prune --unused`
   * @param dataDir overrides `data_dir` (where the call log is kept)
   * @param callLog overrides `call_log.enabled`
   * @param eventLoops overrides `event_loops`
   * @param drainTimeout overrides `drain_timeout`
   * @param cassetteReport where the replay report is written as JUnit XML
   * @param cassetteReportMarkdown where the replay report is written as Markdown
   */
  record Flags(Optional<String> configFile, Optional<Integer> port, Optional<String> mode,
      Optional<String> cassetteDir, Optional<String> trackUsage, Optional<String> dataDir,
      Optional<Boolean> callLog, Optional<Integer> eventLoops, Optional<Duration> drainTimeout,
      Optional<String> cassetteReport, Optional<String> cassetteReportMarkdown) {

    /** @throws UsageException naming the bad flag or value */
    static Flags parse(String... args) {
      return of(SYNTAX.parse(List.of(args)));
    }

    private static Flags of(Arguments arguments) {
      return new Flags(arguments.value(CONFIG.name()), arguments.value(PORT.name()).map(Flags::port),
          arguments.value(MODE.name()).map(Flags::mode), arguments.value(CASSETTES.name()),
          arguments.value(TRACK_USAGE.name()), arguments.value(DATA_DIR.name()),
          arguments.value(CALL_LOG.name()).map(Flags::callLog),
          arguments.value(EVENT_LOOPS.name()).map(Flags::eventLoops),
          arguments.value(DRAIN_TIMEOUT.name()).map(Flags::drainTimeout),
          arguments.value(CASSETTE_REPORT.name()), arguments.value(CASSETTE_REPORT_MD.name()));
    }

    private static Duration drainTimeout(String value) {
      return ConfigLoader.duration(value).filter(timeout -> !timeout.isNegative()).orElseThrow(() -> SYNTAX.error(
          "--drain-timeout must be a duration like 30s, 500ms or 2m, not '" + value + "'"));
    }

    private static int port(String value) {
      try {
        int number = Integer.parseInt(value);
        if (number >= 0 && number <= 65535) {
          return number;
        }
      } catch (NumberFormatException e) {
        // Reported below, as for a number out of range.
      }
      throw SYNTAX.error("--port must be a number from 0 to 65535, not '" + value + "'");
    }

    private static int eventLoops(String value) {
      if (value.matches("\\d{1,9}")) {
        int number = Integer.parseInt(value);
        if (number >= 1 && number <= ConfigLoader.MAX_EVENT_LOOPS) {
          return number;
        }
      }
      throw SYNTAX.error("--event-loops must be a number from 1 to " + ConfigLoader.MAX_EVENT_LOOPS + ", not '"
          + value + "'");
    }

    private static String mode(String value) {
      try {
        return CassetteMode.parse(value).externalName();
      } catch (IllegalArgumentException e) {
        throw SYNTAX.error("--mode must be replay, record, auto or off, not '" + value + "'");
      }
    }

    private static boolean callLog(String value) {
      if (!value.equals("on") && !value.equals("off")) {
        throw SYNTAX.error("--call-log must be on or off, not '" + value + "'");
      }
      return value.equals("on");
    }

    /** Applies the flags over a loaded config. */
    RouterConfig applyTo(RouterConfig config) {
      RouterConfig result = config;
      if (port.isPresent()) {
        result = result.withPort(port.get());
      }
      if (mode.isPresent()) {
        result = result.withCassettes(result.cassettes().withMode(mode.get()));
      }
      if (cassetteDir.isPresent()) {
        result = result.withCassettes(result.cassettes().withDir(cassetteDir.get()));
      }
      if (trackUsage.isPresent()) {
        result = result.withCassettes(result.cassettes().withUsageFile(trackUsage.get()));
      }
      if (dataDir.isPresent()) {
        result = result.withObservability(result.observability().withDataDir(dataDir.get()));
      }
      if (callLog.isPresent()) {
        result = result.withObservability(result.observability().withCallLog(callLog.get()));
      }
      if (eventLoops.isPresent()) {
        result = result.withEventLoops(eventLoops.get());
      }
      if (drainTimeout.isPresent()) {
        result = result.withDrainTimeout(drainTimeout.get());
      }
      return result.withCassettes(result.cassettes().withReports(cassetteReport, cassetteReportMarkdown));
    }

    /**
     * The config file with the flags over it, or the embedded default without {@code --config}; traces as the
     * process's `OTEL_*` variables say.
     *
     * @param environment resolves `${VAR}` references, and says whether the router runs in CI (`CI=true`)
     */
    private RouterConfig load(Function<String, String> environment) {
      RouterConfig config = applyTo(configFile.isEmpty() ? ConfigLoader.embeddedDefault(environment)
          : ConfigLoader.read(Path.of(configFile.get()), environment));
      return config.withObservability(config.observability().withTracing(TracingConfig.of(System.getenv())));
    }
  }

  /**
   * Starts the router in this process's environment and returns once it listens.
   *
   * @return the exit code when the router does not run (help, or a problem), empty while it runs
   */
  static OptionalInt run(List<String> args, PrintStream out, PrintStream err) {
    return run(args, out, err, System::getenv);
  }

  /** As above, with {@code environment} in place of the process's (`${VAR}` references, `CI`). */
  static OptionalInt run(List<String> args, PrintStream out, PrintStream err, Function<String, String> environment) {
    Arguments arguments;
    try {
      arguments = SYNTAX.parse(args);
    } catch (UsageException e) {
      return OptionalInt.of(e.report(err));
    }
    if (arguments.help()) {
      out.print(SYNTAX.usage());
      return OptionalInt.of(OK);
    }
    return start(arguments, out, err, environment, started -> {
      handleSignals(started, out, err);
      return OptionalInt.empty();
    });
  }

  /**
   * A router the command line started, and the Vert.x it runs on.
   *
   * @param metrics its Prometheus registry, which also counts the cassette outcomes
   * @param flags the flags it was started with
   */
  record Started(RouterServer server, Vertx vertx, RouterConfig config, PrometheusMeterRegistry metrics,
      Flags flags) {

    /** Closes the router (the calls running fail), then its Vert.x; waits at most {@code timeout}. */
    void stop(Duration timeout) {
      server.close().compose(v -> vertx.close()).toCompletionStage().toCompletableFuture()
          .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).exceptionally(e -> null).join();
    }
  }

  /**
   * Starts the router the flags ask for (a command's {@code arguments}, parsed with syntax that takes this command's
   * flags), prints where it listens on {@code out}, and hands it to {@code whileRunning}: the router's own run waits
   * for signals, `test` runs a command against it. Whatever stops the JVM also closes the router, so that the queued
   * call records are written first.
   *
   * @param environment resolves `${VAR}` references in the config, and says whether the router runs in CI
   * @return the exit code when the router cannot start, otherwise what {@code whileRunning} returns
   */
  static OptionalInt start(Arguments arguments, PrintStream out, PrintStream err,
      Function<String, String> environment, Function<Started, OptionalInt> whileRunning) {
    Flags flags;
    RouterConfig config;
    try {
      flags = Flags.of(arguments);
      config = flags.load(environment);
    } catch (UsageException e) {
      return OptionalInt.of(e.report(err));
    } catch (ConfigException e) {
      err.println("llm-router: " + e.getMessage());
      return OptionalInt.of(BAD_CONFIG);
    }
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = RouterServer.instrumentedVertx(metrics, config.eventLoops());
    RouterServer server;
    try {
      server = RouterServer.start(vertx, config, metrics).toCompletionStage().toCompletableFuture().join();
    } catch (CompletionException e) {
      err.println("llm-router: " + e.getCause().getMessage());
      vertx.close();
      return OptionalInt.of(CANNOT_START);
    }
    String transport = config.tls().map(tls -> tls.clientCaFile().isPresent()
        ? "TLS, client certificates required, " : "TLS, ").orElse("");
    out.println("llm-router listening on " + config.host() + ":" + server.port()
        + " (" + transport + "cassettes: " + config.cassettes().mode() + " over " + config.cassettes().dir() + ")");
    config.adminListen().ifPresent(admin -> {
      String base = (config.tls().isPresent() ? "https://" : "http://") + admin.host() + ":"
          + server.adminPort().getAsInt();
      out.println("live chat page on " + base + "/, Prometheus metrics on " + base + "/metrics");
    });
    if (config.auth().keysInUse()) {
      out.println("caller keys: " + (config.auth().required() ? "required" : "not required (only the admin key is)")
          + ", kept in " + config.auth().redisUrl().map(url -> "Redis (shared_state)")
              .orElse(Path.of(config.observability().dataDir(), SqliteKeyStore.FILE_NAME).toString())
          + " (" + RUNNING_JAR + " keys --help)");
    }
    if (config.observability().callLog()) {
      out.println("call log: " + config.observability().callLogPostgres()
          .map(url -> url.withoutPassword() + " (PostgreSQL; " + RUNNING_JAR + " calls list "
              + "--config " + flags.configFile().orElse("FILE") + ")")
          .orElse(Path.of(config.observability().dataDir(), CallLog.FILE_NAME)
              + " (" + RUNNING_JAR + " calls list)"));
    }
    if (config.observability().tracing().enabled()) {
      out.println("traces: OpenTelemetry, as " + String.join(", ",
          new TreeSet<>(config.observability().tracing().environment().keySet())) + " say");
    }
    server.reloadFrom(() -> flags.load(environment));
    // Stopped another way (Ctrl-C): the queued call records are written before the JVM exits.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> server.close().toCompletionStage()
        .toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null).join()));
    return whileRunning.apply(new Started(server, vertx, config, metrics, flags));
  }

  private static String runningJar() {
    try {
      Path jar = Path.of(ServeCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path here = Path.of("").toAbsolutePath();
      return !jar.toString().endsWith(".jar") ? Syntax.JAR
          : "java -jar " + (jar.startsWith(here) ? here.relativize(jar) : jar);
    } catch (URISyntaxException | RuntimeException unknown) {
      return Syntax.JAR;
    }
  }

  /** The router's own run: SIGTERM drains it and exits, SIGHUP reloads the config file. */
  private static void handleSignals(Started started, PrintStream out, PrintStream err) {
    RouterServer server = started.server();
    AtomicBoolean draining = new AtomicBoolean();
    onSignal("TERM", () -> {
      if (!draining.getAndSet(true)) {
        // Not on the signal's own thread, which would then take no other signal until the drain is over.
        new Thread(() -> drainAndExit(server, started.vertx(), out, err), "llm-router-drain").start();
      }
    });
    boolean reloadsOnHup = onSignal("HUP", server::reload); // the outcome is logged
    // Said once the signals are handled: a supervisor may signal as soon as it reads this.
    out.println("SIGTERM drains the router (drain_timeout " + started.config().drainTimeout().toMillis() + " ms)"
        + started.flags().configFile().map(file -> reloadsOnHup ? ", SIGHUP reloads " + file
            : "; SIGHUP is ignored in this process (started by nohup?): POST /admin/reload reloads " + file)
            .orElse(""));
  }

  /**
   * Handles a signal from now on. A handler of our own, rather than a shutdown hook alone: the JVM's handling of
   * SIGTERM exits 143, which tells an orchestrator the process failed.
   */
  static boolean onSignal(String name, Runnable handler) {
    try {
      // The JVM leaves a signal ignored from the start (SIGHUP under nohup) ignored, and says so by the old handler.
      return Signal.handle(new Signal(name), signal -> handler.run()) != SignalHandler.SIG_IGN;
    } catch (IllegalArgumentException unknownHere) {
      // A platform without this signal (Windows has no SIGHUP): the router runs without its handling.
      return false;
    }
  }

  private static void drainAndExit(RouterServer server, Vertx vertx, PrintStream out, PrintStream err) {
    out.println("llm-router draining (SIGTERM)");
    try {
      server.drain().toCompletionStage().toCompletableFuture().join();
      vertx.close().toCompletionStage().toCompletableFuture().join();
    } catch (CompletionException e) {
      err.println("llm-router: the drain ended with a failure: " + e.getCause().getMessage());
      System.exit(DRAIN_FAILED);
    }
    out.println("llm-router drained, exiting");
    System.exit(OK);
  }
}
