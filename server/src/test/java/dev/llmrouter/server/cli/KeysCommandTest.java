package dev.llmrouter.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `keys create|list|revoke|update` against the router's own key store in a data folder, as documented. */
class KeysCommandTest {

  @TempDir
  Path dataDir;

  private record Run(int exitCode, String out, String err) {
    List<String> lines() {
      return out.lines().toList();
    }
  }

  private Run keys(String... arguments) {
    List<String> args = new ArrayList<>(List.of(arguments));
    args.addAll(List.of("--data-dir", dataDir.toString()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exitCode = KeysCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static String idOf(Run created) {
    return created.lines().get(0).split(" ")[2];
  }

  @Test
  void createPrintsTheKeyAsItsLastLineAndKeepsOnlyItsHash() throws IOException {
    Run created = keys("create", "--name", "ci", "--models", "openai/*,fast", "--rpm", "5", "--tpm", "1000",
        "--budget-usd", "25", "--budget-window", "7d", "--modes", "replay", "--expires", "90d");

    assertEquals(0, created.exitCode(), created.err());
    String key = created.lines().get(created.lines().size() - 1);
    assertTrue(key.matches("llmr_[0-9A-Za-z]{43}"), key);
    assertTrue(created.out().startsWith("created key key_"), created.out());
    assertTrue(created.lines().get(0).contains("(ci): models openai/*,fast; 5 calls/min; 1000 tokens/min; "
        + "spent 0.000000 of 25.0 USD per 7d; modes replay; expires "), created.out());
    Path store = dataDir.resolve("keys.db");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store)));
    try (Stream<Path> files = Files.list(dataDir)) {
      for (Path file : files.toList()) {
        assertFalse(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains(key.substring(5)),
            "the key is in " + file);
      }
    }
    Run list = keys("list");
    assertEquals(0, list.exitCode(), list.err());
    assertTrue(list.out().contains(idOf(created)), list.out());
    assertTrue(list.out().contains(" ci "), list.out());
    assertTrue(list.out().contains("active"), list.out());
    assertTrue(list.out().contains("never"), "never used: " + list.out());
    assertFalse(list.out().contains(key.substring(5)), "never the key");
  }

  @Test
  void eachKeyIsNewAndListedInOrder() {
    String first = keys("create", "--name", "first").lines().get(3 - 1);
    String second = keys("create", "--name", "second").lines().get(3 - 1);
    assertFalse(first.equals(second));
    List<String> rows = keys("list").lines();
    assertTrue(rows.get(1).contains("first") && rows.get(2).contains("second"), String.join("\n", rows));
    String json = keys("list", "--json").out();
    assertTrue(json.lines().allMatch(line -> line.startsWith("{\"id\":\"key_")), json);
  }

  @Test
  void updateChangesOnlyWhatItsFlagsName() {
    String id = idOf(keys("create", "--name", "svc", "--rpm", "5", "--budget-usd", "10", "--modes", "replay,auto"));

    Run updated = keys("update", id, "--tpm", "500", "--budget-usd", "none", "--modes", "all", "--name", "service");

    assertEquals(0, updated.exitCode(), updated.err());
    assertEquals("updated key " + id + " (service): models all; 5 calls/min; 500 tokens/min; modes all\n",
        updated.out());
    Run expiring = keys("update", id, "--expires", "12h", "--rpm", "0");
    assertTrue(expiring.out().contains("models all; 500 tokens/min; modes all; expires "), expiring.out());
    assertTrue(keys("update", id, "--expires", "never").out().endsWith("modes all\n"));
  }

  @Test
  void revokeMarksTheKeyForGood() {
    String id = idOf(keys("create", "--name", "leaked"));

    Run revoked = keys("revoke", id);

    assertEquals(0, revoked.exitCode(), revoked.err());
    assertTrue(revoked.out().startsWith("revoked key " + id + " (leaked) at "), revoked.out());
    assertTrue(keys("list").out().contains("revoked"));
    assertEquals(0, keys("revoke", id).exitCode(), "revoking twice keeps the first time");
  }

  @Test
  void anUnknownIdExitsWithOneAndBadSettingsWithTwo() {
    Run unknown = keys("revoke", "key_000000000000");
    assertEquals(1, unknown.exitCode());
    assertEquals("llm-router keys: no key has the id 'key_000000000000' (keys list shows them)\n", unknown.err());
    assertEquals(1, keys("update", "key_000000000000", "--rpm", "1").exitCode());

    Run badMode = keys("create", "--name", "x", "--modes", "live", "--models", "openai/ gpt");
    assertEquals(2, badMode.exitCode());
    assertTrue(badMode.err().contains("limits.models[0]: must be a model name or a glob like openai/*"),
        badMode.err());
    assertTrue(badMode.err().contains("limits.cassette_modes[0]: must be one of replay, record, auto, off, not "
        + "'live'"), badMode.err());
    assertEquals("", badMode.out(), "no key was made");
    assertTrue(keys("list").out().startsWith("no keys yet"));
  }

  @Test
  void everySubcommandHasItsHelp() {
    for (String command : List.of("create", "list", "revoke", "update")) {
      Run help = keys(command, "--help");
      assertEquals(0, help.exitCode());
      assertTrue(help.out().startsWith("usage: java -jar server/target/llm-router.jar keys " + command), help.out());
    }
    assertTrue(keys("create", "--help").out().contains("\n  --modes MODE,...  the cassette modes its calls may run"));
    assertFalse(Files.exists(dataDir.resolve("keys.db")), "help opens no store");
  }
}
