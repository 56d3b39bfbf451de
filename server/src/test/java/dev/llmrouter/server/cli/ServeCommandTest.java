package dev.llmrouter.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.server.cli.ServeCommand.Flags;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.ObservabilityConfig;
import dev.llmrouter.server.config.RouterConfig;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The router's own flags, applied over a config file. */
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
  void theEventLoopsFlagOverridesTheFile() {
    assertEquals(1, Flags.parse("--event-loops", "1").applyTo(parse("event_loops: 8\n")).eventLoops());
    assertEquals(8, Flags.parse().applyTo(parse("event_loops: 8\n")).eventLoops());
    for (String bad : new String[] {"0", "many", "1025"}) {
      assertTrue(assertThrows(UsageException.class, () -> Flags.parse("--event-loops", bad)).getMessage()
          .contains("--event-loops must be a number from 1 to 1024, not '" + bad + "'"));
    }
  }
}
