package dev.llmrouter.server.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real `redis-server` (Debian's package) on a free loopback port, its files in a folder of the test's, run as a
 * child process with Redis's default persistence (so that its dump can be searched), stopped by {@link #close}.
 */
public final class RedisServer implements AutoCloseable {

  private final Process process;
  private final int port;
  private final Path dir;

  private RedisServer(Process process, int port, Path dir) {
    this.process = process;
    this.port = port;
    this.dir = dir;
  }

  /** Whether `redis-server` can be run here (`.ci/run` installs it with apt-get). */
  public static boolean installed() {
    return ExternalProcess.onPath("redis-server");
  }

  /** Starts a server keeping its files in {@code dir}, and waits until it answers. */
  public static RedisServer start(Path dir) {
    try {
      int port;
      try (ServerSocket free = new ServerSocket(0)) {
        port = free.getLocalPort();
      }
      Process process = new ProcessBuilder("redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1",
          "--dir", dir.toString(), "--logfile", dir.resolve("redis.log").toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("redis.out").toFile()).start();
      RedisServer server = new RedisServer(process, port, dir);
      if (!Await.until(Duration.ofSeconds(10), () -> server.answers("PING").equals("+PONG"))) {
        server.close();
        throw new IllegalStateException("redis-server did not answer on port " + port + "; see " + dir);
      }
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start redis-server", e);
    }
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  /** Where the server writes its snapshot ({@link #save}). */
  public Path dumpFile() {
    return dir.resolve("dump.rdb");
  }

  /** Writes the snapshot now (SAVE), as its default persistence would in time. */
  public void save() {
    String answer = answers("SAVE");
    if (!answer.equals("+OK")) {
      throw new IllegalStateException("SAVE answered " + answer);
    }
  }

  /** Whether the server holds {@code key} now (EXISTS): to wait for a key to expire. */
  public boolean holds(String key) {
    return answers("EXISTS " + key).equals(":1");
  }

  /** Sends one inline command and returns the first line of the answer; empty when the server cannot be reached. */
  private String answers(String command) {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      OutputStream out = socket.getOutputStream();
      out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      StringBuilder line = new StringBuilder();
      for (int c = in.read(); c != -1 && c != '\r'; c = in.read()) {
        line.append((char) c);
      }
      return line.toString();
    } catch (IOException notYet) {
      return "";
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
