package dev.llmrouter.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** `--help` and usage errors of every command and subcommand. */
class CommandLineTest {

  private record Run(int exitCode, String out, String err) {
  }

  /** Runs what `java -jar llm-router.jar ARGUMENTS` runs; none of them starts a router. */
  private static Run run(String arguments) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    OptionalInt exitCode = Main.run(List.of(arguments.split(" ")), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertTrue(exitCode.isPresent(), "the router was started by: " + arguments);
    return new Run(exitCode.getAsInt(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      --help                  | usage: java -jar server/target/llm-router.jar [--config FILE]
      -h                      | usage: java -jar server/target/llm-router.jar [--config FILE]
      cassettes --help        | usage: java -jar server/target/llm-router.jar cassettes COMMAND
      cassettes list --help   | usage: java -jar server/target/llm-router.jar cassettes list [SCOPE]
      cassettes show -h       | usage: java -jar server/target/llm-router.jar cassettes show KEY
      cassettes verify --help | usage: java -jar server/target/llm-router.jar cassettes verify [--cassettes DIR]
      cassettes prune --help  | usage: java -jar server/target/llm-router.jar cassettes prune --unused --usage FILE
      cassettes diff --help   | usage: java -jar server/target/llm-router.jar cassettes diff OLD_DIR NEW_DIR
      cassettes migrate -h    | usage: java -jar server/target/llm-router.jar cassettes migrate [--dry-run]
      calls --help            | usage: java -jar server/target/llm-router.jar calls COMMAND
      calls list --help       | usage: java -jar server/target/llm-router.jar calls list [FILTERS]
      calls trace --help      | usage: java -jar server/target/llm-router.jar calls trace ID
      calls usage --help      | usage: java -jar server/target/llm-router.jar calls usage [--by GROUPS]
      test --help             | usage: java -jar server/target/llm-router.jar test [FLAGS] -- COMMAND [ARGUMENT...]
      """)
  void helpPrintsTheUsageOfEachCommandAndSubcommand(String arguments, String usageLine) {
    Run run = run(arguments);

    assertEquals(0, run.exitCode(), run.err());
    assertEquals("", run.err());
    assertTrue(run.out().startsWith(usageLine), run.out());
    assertTrue(run.out().endsWith("\n"), run.out());
  }

  @Test
  void aSubcommandsHelpListsItsOwnFlags() {
    String prune = run("cassettes prune --help").out();
    String list = run("calls list --help").out();

    assertTrue(prune.contains("\n  --dry-run         only print what would be deleted\n"), prune);
    assertTrue(prune.contains("\n  --cassettes DIR   cassette folder (default: cassettes/recorded)\n"), prune);
    assertTrue(list.contains("\n  --limit N         at most N calls (default 20, at most 1000)\n"), list);
    assertTrue(list.contains("\n  --json            print protobuf JSON"), list);
  }

  @Test
  void theRoutersHelpListsItsFlagsAndTheOtherCommands() {
    List<String> lines = run("--help").out().lines().toList();

    assertEquals(List.of(
        "usage: java -jar server/target/llm-router.jar [--config FILE] [--port N] [--mode MODE] [--cassettes DIR]",
        "                                              [--track-usage FILE] [--data-dir DIR] [--call-log on|off]"
            + " [--event-loops N]",
        "                                              [--drain-timeout DURATION] [--cassette-report FILE]"
            + " [--cassette-report-md FILE]",
        "       java -jar server/target/llm-router.jar cassettes list|show|verify|prune|diff|migrate ...  "
            + "(see `cassettes --help`)",
        "       java -jar server/target/llm-router.jar calls list|trace|usage ...  (see `calls --help`)",
        "       java -jar server/target/llm-router.jar keys create|list|revoke|update ...  (see `keys --help`)",
        "       java -jar server/target/llm-router.jar test [FLAGS] -- COMMAND ...  (see `test --help`)",
        ""), lines.subList(0, 8));
    assertTrue(lines.contains("  --call-log on|off log every model call, or not; overrides `call_log.enabled`"));
  }

  @Test
  void theGroupsHelpListsItsSubcommands() {
    String cassettes = run("cassettes --help").out();
    String calls = run("calls --help").out();
    String keys = run("keys --help").out();

    for (String subcommand : List.of("\n  list [SCOPE] ", "\n  show KEY ", "\n  verify ", "\n  prune ",
        "\n  diff OLD_DIR NEW_DIR", "\n  migrate ")) {
      assertTrue(cassettes.contains(subcommand), cassettes);
    }
    for (String subcommand : List.of("\n  list ", "\n  trace ID ", "\n  usage ")) {
      assertTrue(calls.contains(subcommand), calls);
    }
    for (String subcommand : List.of("\n  create ", "\n  list ", "\n  revoke ID ", "\n  update ID ")) {
      assertTrue(keys.contains(subcommand), keys);
    }
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', ignoreLeadingAndTrailingWhitespace = true, textBlock = """
      --bogus                      |                 | unknown flag '--bogus'
      --port                       |                 | --port needs a value: --port N
      --mode live                  |                 | --mode must be replay, record, auto or off, not 'live'
      serve                        |                 | unexpected argument 'serve'
      test npm test                | test            | the command to run comes after --, as in: test --cassettes tests/cassettes -- npm test
      test --                      | test            | missing COMMAND after --
      test --bogus -- npm test     | test            | unknown flag '--bogus'
      cassettes                    | cassettes       | missing COMMAND
      cassettes rewind             | cassettes       | unknown command 'rewind'; expected list, show, verify, prune, diff, migrate
      cassettes diff old           | cassettes diff  | missing NEW_DIR
      cassettes diff old new       | cassettes diff  | cassette folder old does not exist
      cassettes migrate --cassettes none | cassettes migrate | cassette folder none does not exist
      cassettes --cassettes        | cassettes       | --cassettes needs a value: --cassettes DIR
      cassettes --cassettes d list | cassettes       | the COMMAND comes first: cassettes list ...
      cassettes show               | cassettes show  | missing KEY
      cassettes list --dry-run     | cassettes list  | unknown flag '--dry-run'
      cassettes prune --usage      | cassettes prune | --usage needs a value: --usage FILE
      calls                        | calls           | missing COMMAND
      calls trace                  | calls trace     | missing ID
      calls trace a b              | calls trace     | unexpected argument 'b'
      calls usage --limit 5        | calls usage     | unknown flag '--limit'
      calls list --since           | calls list      | --since needs a value: --since TIME
      keys                         | keys            | missing COMMAND
      keys create                  | keys create     | --name NAME is required
      keys create --name ci --rpm many | keys create | --rpm must be a whole number, 0 or more, not 'many'
      keys create --name ci --expires soon | keys create | --expires must be a duration like 90d, 12h or 30m; not 'soon'
      keys create --name ci --budget-usd lots | keys create | --budget-usd must be a number of US dollars, like 25 or 0.50, or none; not 'lots'
      keys revoke                  | keys revoke     | missing ID
      keys update key_1            | keys update     | name at least one thing to change, such as --rpm N
      """)
  void aUsageErrorExitsWithTwoAndOneLineNamingTheProblemAndTheHelp(String arguments, String command, String problem) {
    String typed = command == null ? "" : " " + command;
    Run run = run(arguments);

    assertEquals(2, run.exitCode());
    assertEquals("", run.out());
    assertEquals("llm-router" + typed + ": " + problem + " (see `java -jar server/target/llm-router.jar" + typed
        + " --help`)\n", run.err());
  }
}
