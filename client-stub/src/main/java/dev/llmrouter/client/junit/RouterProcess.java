package dev.llmrouter.client.junit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The router as a child process of the tests: {@code java -jar} on its runnable jar, on a free port, with its call
 * log in a temporary folder deleted when it stops. It is ready once it prints where it listens, which it does once
 * its listeners are bound and its health service answers SERVING. Its output is kept (the last lines), to explain a
 * router that does not start. Kept in a test class's store, which closes it after the class.
 */
final class RouterProcess implements ExtensionContext.Store.CloseableResource {

  private static final Pattern LISTENING = Pattern.compile("llm-router listening on (.+):(\\d+) \\(.*");
  private static final int KEPT_LINES = 200;
  private static final Duration STOP = Duration.ofSeconds(30);

  private final Process process;
  private final Path dataDir;
  private final Deque<String> output = new ArrayDeque<>();
  private final CompletableFuture<RouterAddress> listening = new CompletableFuture<>();
  private final Thread killOnExit;
  private final List<Thread> readers = new ArrayList<>();

  private RouterProcess(Process process, Path dataDir) {
    this.process = process;
    this.dataDir = dataDir;
    // A test JVM that ends without stopping it (a killed fork) takes the router with it.
    this.killOnExit = new Thread(process::destroyForcibly, "llm-router-stop");
    Runtime.getRuntime().addShutdownHook(killOnExit);
    read(process.getInputStream());
    read(process.getErrorStream());
    process.onExit().thenRun(() -> listening.completeExceptionally(new IllegalStateException(
        "the router exited with " + process.exitValue() + " before it listened")));
  }

  /**
   * Starts {@code java -jar JAR --port 0 --data-dir TEMPORARY FLAGS} with {@code environment} added to this JVM's,
   * and waits until it listens.
   *
   * @throws IllegalStateException when it exits or does not listen within {@code timeout}, with its output
   */
  static RouterProcess start(Path jar, List<String> flags, Map<String, String> environment, Duration timeout) {
    Path dataDir;
    try {
      dataDir = Files.createTempDirectory("llm-router-junit-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary folder for the router's call log", e);
    }
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", jar.toString(), "--port", "0", "--data-dir", dataDir.toString()));
    command.addAll(flags);
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(environment);
    RouterProcess router;
    try {
      router = new RouterProcess(builder.start(), dataDir);
    } catch (IOException e) {
      delete(dataDir);
      throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
    }
    try {
      router.listening.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return router;
    } catch (ExecutionException | TimeoutException | InterruptedException e) {
      router.close();
      router.readToTheEnd();
      String why = e instanceof ExecutionException ? e.getCause().getMessage()
          : "the router did not listen within " + timeout.toSeconds() + " s";
      throw new IllegalStateException(why + ": " + String.join(" ", command) + "\n" + router.output());
    }
  }

  RouterAddress address() {
    return listening.join();
  }

  /** Stops the router as SIGTERM does (a drain), and kills it if that takes longer than 30 seconds. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(STOP.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      delete(dataDir);
      try {
        Runtime.getRuntime().removeShutdownHook(killOnExit);
      } catch (IllegalStateException exiting) {
        // Closed by the JVM's own shutdown: the hook runs anyway, on a process already gone.
      }
    }
  }

  /** Waits a little for the output of a router that has exited to be read. */
  private void readToTheEnd() {
    for (Thread reader : readers) {
      try {
        reader.join(Duration.ofSeconds(5).toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Its last lines of output, standard output and error interleaved as they came. */
  String output() {
    synchronized (output) {
      return String.join("\n", output);
    }
  }

  private void read(InputStream stream) {
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          keep(line);
          Matcher address = LISTENING.matcher(line);
          if (address.matches()) {
            String host = switch (address.group(1)) {
              case "0.0.0.0" -> "127.0.0.1"; // listening everywhere: loopback is one of its addresses
              case "::" -> "::1";
              default -> address.group(1);
            };
            listening.complete(new RouterAddress(host, Integer.parseInt(address.group(2))));
          }
        }
      } catch (IOException closed) {
        // The router is gone: its exit is seen by onExit.
      }
    }, "llm-router-output");
    reader.setDaemon(true);
    readers.add(reader);
    reader.start();
  }

  private void keep(String line) {
    synchronized (output) {
      output.addLast(line);
      if (output.size() > KEPT_LINES) {
        output.removeFirst();
      }
    }
  }

  private static void delete(Path folder) {
    try (Stream<Path> paths = Files.walk(folder)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      // A temporary folder left behind fails no test.
    }
  }
}
