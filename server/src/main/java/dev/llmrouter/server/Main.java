package dev.llmrouter.server;

import dev.llmrouter.server.config.CommandLine;
import dev.llmrouter.server.config.ConfigException;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.observe.CallLog;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * `java -jar llm-router.jar`: reads the config and flags, then runs the router until stopped;
 * `java -jar llm-router.jar cassettes ...` runs a {@link CassetteCommand} instead, and `calls ...` a
 * {@link CallsCommand}.
 */
public final class Main {

  private Main() {
  }

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("cassettes")) {
      System.exit(CassetteCommand.run(List.of(args).subList(1, args.length), System.out, System.err));
    }
    if (args.length > 0 && args[0].equals("calls")) {
      System.exit(CallsCommand.run(List.of(args).subList(1, args.length), System.out, System.err));
    }
    RouterConfig config;
    try {
      CommandLine commandLine = CommandLine.parse(args);
      if (commandLine.help()) {
        System.out.print(CommandLine.USAGE);
        return;
      }
      config = commandLine.applyTo(load(commandLine));
    } catch (ConfigException e) {
      System.err.println("llm-router: " + e.getMessage());
      System.exit(2);
      return;
    }
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = RouterServer.instrumentedVertx(metrics);
    RouterConfig started = config;
    RouterServer.start(vertx, config, metrics).onComplete(ar -> {
      if (ar.failed()) {
        System.err.println("llm-router: " + ar.cause().getMessage());
        vertx.close();
        System.exit(1);
      }
      System.out.println("llm-router listening on " + started.host() + ":" + ar.result().port()
          + " (cassettes: " + started.cassettes().mode() + " over " + started.cassettes().dir() + ")");
      started.adminListen().ifPresent(admin -> {
        String base = "http://" + admin.host() + ":" + ar.result().adminPort().getAsInt();
        System.out.println("live chat page on " + base + "/, Prometheus metrics on " + base + "/metrics");
      });
      if (started.observability().callLog()) {
        System.out.println("call log: " + Path.of(started.observability().dataDir(), CallLog.FILE_NAME)
            + " (java -jar server/target/llm-router.jar calls list)");
      }
      // Stopped with Ctrl-C or SIGTERM: the queued call records are written before the JVM exits.
      Runtime.getRuntime().addShutdownHook(new Thread(() -> ar.result().close().toCompletionStage()
          .toCompletableFuture().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).exceptionally(e -> null)
          .join()));
    });
  }

  private static RouterConfig load(CommandLine commandLine) {
    if (commandLine.configFile().isEmpty()) {
      return ConfigLoader.embeddedDefault(System::getenv);
    }
    Path file = Path.of(commandLine.configFile().get());
    try {
      return ConfigLoader.parse(Files.readString(file), System::getenv);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + file + " does not exist");
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
    }
  }
}
