package dev.llmrouter.server.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Runs external programs (node, buf, a browser driver) in a folder, with a timeout, their output captured. */
public final class ExternalProcess {

  /**
   * What one run did.
   *
   * @param exitCode the exit code, -1 when it timed out
   * @param stdout what it printed on standard output
   * @param stderr what it printed on standard error
   */
  public record Run(int exitCode, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit code " + exitCode + "\n--- stdout:\n" + stdout + "\n--- stderr:\n" + stderr;
    }
  }

  private ExternalProcess() {
  }

  /** Runs a command in a folder, with no input, and waits for it at most {@code timeout}. */
  public static Run run(Path directory, Duration timeout, String... command) {
    return run(directory, timeout, Map.of(), command);
  }

  /** As above, with {@code environment} added to the variables the command inherits. */
  public static Run run(Path directory, Duration timeout, Map<String, String> environment, String... command) {
    try {
      ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile());
      builder.environment().putAll(environment);
      Process process = builder.start();
      process.getOutputStream().close();
      CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> read(process.getInputStream()));
      CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s: " + String.join(" ", command)
            + "\n" + new Run(-1, stdout.get(5, TimeUnit.SECONDS), stderr.get(5, TimeUnit.SECONDS)));
      }
      return new Run(process.exitValue(), stdout.get(5, TimeUnit.SECONDS),
          stderr.get(5, TimeUnit.SECONDS));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot run " + String.join(" ", command), e);
    }
  }

  /** Whether an executable of this name is on the PATH. */
  public static boolean onPath(String program) {
    return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, program)));
  }

  private static String read(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
