package dev.llmrouter.server.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real PostgreSQL (Debian's package, {@code /usr/lib/postgresql/<version>/bin}) on a free loopback port, in a
 * folder of its own, run as a child process and stopped by {@link #close}. PostgreSQL refuses to run as root: when the
 * tests run as root, it runs as the `postgres` account (or `nobody`), which owns its folder. Clients sign in as
 * {@link #USER} with {@link #PASSWORD} (SCRAM, as a managed database asks) over TCP.
 */
public final class PostgresServer implements AutoCloseable {

  public static final String USER = "router";
  /** The test user's password; never a real one. Tests check that it appears in no message. */
  public static final String PASSWORD = "pg-test-password-not-a-real-one";
  /** Why tests on PostgreSQL are skipped when it is absent. */
  public static final String NOT_INSTALLED = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
      + "apt-get install postgresql, as .ci/run does";

  private static final Path DEBIAN_INSTALLS = Path.of("/usr/lib/postgresql");
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final Path bin;
  private final Path dir;
  private final int port;
  private final List<String> asOwner;
  private final Process process;

  private PostgresServer(Path bin, Path dir, int port, List<String> asOwner, Process process) {
    this.bin = bin;
    this.dir = dir;
    this.port = port;
    this.asOwner = asOwner;
    this.process = process;
  }

  /** The newest installed version's programs, when there is one. */
  private static Optional<Path> binaries() {
    try (Stream<Path> versions = Files.list(DEBIAN_INSTALLS)) {
      return versions.map(version -> version.resolve("bin"))
          .filter(bin -> Files.isExecutable(bin.resolve("initdb")) && Files.isExecutable(bin.resolve("postgres")))
          .max(Comparator.comparing(bin -> Integer.parseInt(bin.getParent().getFileName().toString()
              .replaceAll("\\D", "0"))));
    } catch (IOException notInstalled) {
      return Optional.empty();
    }
  }

  /** Whether PostgreSQL can be run here (`.ci/run` installs it with apt-get). */
  public static boolean installed() {
    return binaries().isPresent();
  }

  /** Makes a new cluster in a temporary folder, starts it, and waits until it answers. */
  public static PostgresServer start() {
    Path bin = binaries().orElseThrow(() -> new IllegalStateException(NOT_INSTALLED));
    try {
      Path dir = Files.createTempDirectory("llmrouter-postgres");
      List<String> asOwner = List.of();
      if (System.getProperty("user.name").equals("root")) {
        String[] account = account("postgres").or(() -> account("nobody")).orElseThrow(() ->
            new IllegalStateException("PostgreSQL cannot run as root, and there is no postgres or nobody account"));
        UserPrincipalLookupService accounts = dir.getFileSystem().getUserPrincipalLookupService();
        Files.setOwner(dir, accounts.lookupPrincipalByName(account[0]));
        asOwner = List.of("setpriv", "--reuid=" + account[2], "--regid=" + account[3], "--clear-groups", "--");
      }
      Path passwordFile = dir.resolve("password");
      Files.writeString(passwordFile, PASSWORD);
      giveTo(dir, passwordFile);
      ExternalProcess.Run init = ExternalProcess.run(dir, Duration.ofMinutes(2), command(asOwner,
          bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", USER,
          "--pwfile=" + passwordFile, "--auth-host=scram-sha-256", "--auth-local=trust", "--encoding=UTF8",
          "--locale=C", "--no-sync"));
      if (init.exitCode() != 0) {
        throw new IllegalStateException("initdb failed: " + init);
      }
      int port;
      try (ServerSocket free = new ServerSocket(0)) {
        port = free.getLocalPort();
      }
      // No durability: a test database is thrown away, and its disk writes would only slow the tests down.
      Process process = new ProcessBuilder(command(asOwner, bin.resolve("postgres").toString(),
          "-D", dir.resolve("data").toString(), "-p", String.valueOf(port), "-k", dir.toString(),
          "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
          "-c", "full_page_writes=off"))
          .redirectErrorStream(true).redirectOutput(dir.resolve("postgres.log").toFile()).start();
      PostgresServer server = new PostgresServer(bin, dir, port, asOwner, process);
      if (!Await.until(Duration.ofSeconds(30), server::answers)) {
        server.close();
        throw new IllegalStateException("PostgreSQL did not answer on port " + port + "; see "
            + dir.resolve("postgres.log"));
      }
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start PostgreSQL", e);
    }
  }

  /** The fields of an account's line in /etc/passwd (name, password, uid, gid...), when it exists. */
  private static Optional<String[]> account(String name) {
    try (Stream<String> lines = Files.lines(Path.of("/etc/passwd"))) {
      return lines.filter(line -> line.startsWith(name + ":")).findFirst().map(line -> line.split(":"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Makes {@code file} belong to the owner of {@code dir}, and readable by it alone. */
  private static void giveTo(Path dir, Path file) throws IOException {
    Files.setOwner(file, Files.getOwner(dir));
    Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
  }

  private static String[] command(List<String> prefix, String... command) {
    List<String> all = new ArrayList<>(prefix);
    all.addAll(List.of(command));
    return all.toArray(String[]::new);
  }

  private boolean answers() {
    try (Connection ignored = connect("postgres")) {
      return true;
    } catch (SQLException notYet) {
      return false;
    }
  }

  public int port() {
    return port;
  }

  /** The URL of a database, with the user's password in it, as `call_log.postgres_url` takes it. */
  public String url(String database) {
    return "postgresql://" + USER + ":" + PASSWORD + "@127.0.0.1:" + port + "/" + database;
  }

  /** Creates a new, empty database, and returns its name. */
  public String createDatabase() {
    String name = "calls_" + DATABASES.incrementAndGet();
    try (Connection connection = connect("postgres"); Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + name);
      return name;
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name, e);
    }
  }

  /** A JDBC connection to a database, as the test user. */
  public Connection connect(String database) throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, USER, PASSWORD);
  }

  /** Stops the server (fast: open sessions are ended) and removes its folder. */
  @Override
  public void close() {
    try {
      ExternalProcess.run(dir, Duration.ofSeconds(30), command(asOwner, bin.resolve("pg_ctl").toString(),
          "-D", dir.resolve("data").toString(), "stop", "-m", "fast", "-w"));
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
