package dev.llmrouter.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.server.cli.ServeCommand.Flags;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.ObservabilityConfig;
import dev.llmrouter.server.config.RouterConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The router's own flags, applied over a config file; what it says when it cannot start. */
class ServeCommandTest {

  private static RouterConfig parse(String yaml) {
    return ConfigLoader.parse(yaml, variable -> null);
  }

  @Test
  void commandLineFlagsOverrideTheFile() {
    Flags flags = Flags.parse("--port", "0", "--mode", "auto", "--cassettes", "/tmp/c",
        "--track-usage", "/tmp/used.txt");
    RouterConfig config = flags.applyTo(parse("listen: 127.0.0.1:7000\n"));
    assertEquals(0, config.port());
    assertEquals("auto", config.cassettes().mode());
    assertEquals("/tmp/c", config.cassettes().dir());
    assertEquals(Optional.of("/tmp/used.txt"), config.cassettes().usageFile());
    assertEquals(Optional.empty(), parse("listen: 127.0.0.1:7000\n").cassettes().usageFile());
    assertTrue(assertThrows(UsageException.class, () -> Flags.parse("--mode", "live")).getMessage()
        .contains("--mode must be replay, record, auto or off"));
    assertTrue(assertThrows(UsageException.class, () -> Flags.parse("--port", "http")).getMessage()
        .contains("--port must be a number"));
  }

  @Test
  void theCallLogFlagsOverrideTheFile() {
    ObservabilityConfig flagged = Flags.parse("--data-dir", "/srv/data", "--call-log", "off")
        .applyTo(parse("listen: 127.0.0.1:1\n")).observability();
    assertEquals("/srv/data", flagged.dataDir());
    assertFalse(flagged.callLog());
    assertTrue(assertThrows(UsageException.class, () -> Flags.parse("--call-log", "maybe")).getMessage()
        .contains("--call-log must be on or off"));
  }

  @Test
  void tlsFilesThatAreMissingOrDoNotParseStopTheRouterWithOneLine(@TempDir Path dir) throws IOException {
    Path notPem = Files.writeString(dir.resolve("server.pem"), "not PEM");
    Path config = Files.writeString(dir.resolve("router.yaml"), "listen: 127.0.0.1:0\ntls: { cert_file: \"%s\" }\n"
        .formatted(notPem));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(OptionalInt.of(2), ServeCommand.run(List.of("--config", config.toString()), nowhere(),
        new PrintStream(err, true, StandardCharsets.UTF_8)));
    assertEquals("llm-router: invalid config:\n  tls.key_file: is required: the private key of cert_file (PEM)\n",
        err.toString(StandardCharsets.UTF_8));

    Files.writeString(config, "listen: 127.0.0.1:0\ntls: { cert_file: \"%s\", key_file: \"%1$s\" }\n"
        .formatted(notPem));
    err.reset();
    assertEquals(OptionalInt.of(1), ServeCommand.run(List.of("--config", config.toString()), nowhere(),
        new PrintStream(err, true, StandardCharsets.UTF_8)));
    assertEquals("llm-router: tls.cert_file " + notPem + ": not PEM certificates (Missing -----BEGIN CERTIFICATE----- "
        + "delimiter)\n", err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aCallLogDatabaseThatCannotBeReachedStopsTheRouterWithOneLineWithoutThePassword(@TempDir Path dir)
      throws IOException {
    int closedPort;
    try (ServerSocket free = new ServerSocket(0)) {
      closedPort = free.getLocalPort();
    }
    Path config = Files.writeString(dir.resolve("router.yaml"), """
        listen: 127.0.0.1:0
        data_dir: "%s"
        call_log: { postgres_url: "postgresql://router:pg-secret-0123@127.0.0.1:%d/calls" }
        """.formatted(dir, closedPort));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(OptionalInt.of(1), ServeCommand.run(List.of("--config", config.toString()), nowhere(),
        new PrintStream(err, true, StandardCharsets.UTF_8)));
    String printed = err.toString(StandardCharsets.UTF_8);
    assertTrue(printed.startsWith("llm-router: cannot open the call log in PostgreSQL at postgresql://router@127.0.0.1:"
        + closedPort + "/calls: Connection to 127.0.0.1:" + closedPort + " refused"), printed);
    assertEquals(1, printed.lines().count(), printed);
    assertFalse(printed.contains("pg-secret-0123"), printed);
  }

  @Test
  void theEventLoopsFlagOverridesTheFile() {
    assertEquals(1, Flags.parse("--event-loops", "1").applyTo(parse("event_loops: 8\n")).eventLoops());
    assertEquals(8, Flags.parse().applyTo(parse("event_loops: 8\n")).eventLoops());
    for (String bad : new String[] {"0", "many", "1025"}) {
      assertTrue(assertThrows(UsageException.class, () -> Flags.parse("--event-loops", bad)).getMessage()
          .contains("--event-loops must be a number from 1 to 1024, not '" + bad + "'"));
    }
  }

  @Test
  void theDrainTimeoutFlagOverridesTheFile() {
    assertEquals(Duration.ofSeconds(5), Flags.parse("--drain-timeout", "5s").applyTo(parse("drain_timeout: 1m\n"))
        .drainTimeout());
    assertEquals(Duration.ofMinutes(1), Flags.parse().applyTo(parse("drain_timeout: 1m\n")).drainTimeout());
    for (String bad : new String[] {"soon", "-5s", "PT-1S"}) {
      assertTrue(assertThrows(UsageException.class, () -> Flags.parse("--drain-timeout", bad)).getMessage()
          .contains("--drain-timeout must be a duration like 30s, 500ms or 2m, not '" + bad + "'"));
    }
  }

  @Test
  void aBadMatchRuleStopsTheRouterAtStartUpNamingItsLine(@TempDir Path dir) throws IOException {
    Path config = Files.writeString(dir.resolve("router.yaml"), """
        listen: 127.0.0.1:0
        cassettes:
          match:
            - { scope: "*", replace: '(\\d{4}', with: "<year>" }
        """);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(OptionalInt.of(2), ServeCommand.run(List.of("--config", config.toString()), nowhere(),
        new PrintStream(err, true, StandardCharsets.UTF_8), variable -> null));
    assertEquals("llm-router: invalid config:\n  cassettes.match.0.replace (line 4): is not a valid regular expression: "
        + "Unclosed group near index 6 of '(\\d{4}'\n", err.toString(StandardCharsets.UTF_8));
  }

  private static PrintStream nowhere() {
    return new PrintStream(OutputStream.nullOutputStream());
  }
}
