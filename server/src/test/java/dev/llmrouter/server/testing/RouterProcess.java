package dev.llmrouter.server.testing;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The router as an operating-system process of its own: the command `java -jar llm-router.jar` runs (its main class,
 * on the tests' class path: the jar itself is built after the tests), so that tests can send it real signals and see
 * its exit code. It counts as started once it listens and handles signals; its output is kept line by line.
 */
public final class RouterProcess implements AutoCloseable {

  private static final Pattern LISTENING = Pattern.compile("llm-router listening on [^ ]+:(\\d+) .*");
  /** The router prints this once it handles signals, after it listens. */
  private static final String HANDLES_SIGNALS = "SIGTERM drains the router";
  private static final Duration START = Duration.ofSeconds(30);

  private final Process process;
  private final List<String> stdout = new CopyOnWriteArrayList<>();
  private final List<String> stderr = new CopyOnWriteArrayList<>();
  private final int port;
  private final ManagedChannel channel;

  private RouterProcess(Process process) {
    this.process = process;
    keep(process.getInputStream(), stdout);
    keep(process.getErrorStream(), stderr);
    if (!Await.until(START, () -> stdout.stream().anyMatch(line -> line.startsWith(HANDLES_SIGNALS))
        || !process.isAlive())) {
      process.destroyForcibly();
      throw new AssertionError("the router did not start within " + START.toSeconds() + " s\n" + this);
    }
    Matcher listening = stdout.stream().map(LISTENING::matcher).filter(Matcher::matches).findFirst()
        .orElseThrow(() -> new AssertionError("the router exited without listening\n" + this));
    this.port = Integer.parseInt(listening.group(1));
    this.channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  /**
   * Starts `llm-router --config CONFIG [FLAGS]` with {@code environment} added to this JVM's, and waits until it
   * listens.
   */
  public static RouterProcess start(Path config, Map<String, String> environment, String... flags) {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
        "dev.llmrouter.server.cli.Main", "--config", config.toString()));
    command.addAll(List.of(flags));
    ProcessBuilder builder = new ProcessBuilder(command).directory(config.getParent().toFile());
    builder.environment().putAll(environment);
    try {
      Process process = builder.start();
      process.getOutputStream().close();
      return new RouterProcess(process);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the router", e);
    }
  }

  public int port() {
    return port;
  }

  /** A grpc-java channel to the router (closed with it). */
  public ManagedChannel channel() {
    return channel;
  }

  /** Sends a signal (TERM, HUP...) with `kill`. */
  public void signal(String name) {
    ExternalProcess.Run kill = ExternalProcess.run(Path.of("."), Duration.ofSeconds(10), "kill", "-" + name,
        String.valueOf(process.pid()));
    if (kill.exitCode() != 0) {
      throw new IllegalStateException("kill -" + name + " failed: " + kill);
    }
  }

  /** The exit code, once the process has exited within {@code timeout}; -1 when it still runs. */
  public int exitCode(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
  }

  /** Whether a line the router printed on standard error (its log) contains {@code text}, within 30 seconds. */
  public boolean logged(String text) {
    return appears(stderr, text);
  }

  /** Whether a line the router printed on standard output contains {@code text}, within 30 seconds. */
  public boolean printed(String text) {
    return appears(stdout, text);
  }

  private static boolean appears(List<String> lines, String text) {
    return Await.until(Duration.ofSeconds(30), () -> lines.stream().anyMatch(line -> line.contains(text)));
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    if (process.isAlive()) {
      process.destroyForcibly().waitFor();
    }
  }

  @Override
  public String toString() {
    return "--- stdout:\n" + String.join("\n", stdout) + "\n--- stderr:\n" + String.join("\n", stderr);
  }

  private static void keep(InputStream output, List<String> lines) {
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(output, StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          lines.add(line);
        }
      } catch (IOException closed) {
        // the process is gone
      }
    }, "router-process-output");
    reader.setDaemon(true);
    reader.start();
  }
}
