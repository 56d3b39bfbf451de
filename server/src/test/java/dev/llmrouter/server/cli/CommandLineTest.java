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

/** `--help` and usage errors of every command and subcommand, as `Main` dispatches them. */
class CommandLineTest {

  private record Run(int exitCode, String out, String err) {
  }

  /** Runs what `Main` runs for these arguments, short of starting a router. */
  private static Run run(String arguments) {
    List<String> args = arguments.isEmpty() ? List.of() : List.of(arguments.split(" "));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
    PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
    List<String> afterCommand = args.isEmpty() ? List.of() : args.subList(1, args.size());
    int exitCode = switch (args.isEmpty() ? "" : args.get(0)) {
      case "cassettes" -> CassetteCommand.run(afterCommand, outStream, errStream);
      case "calls" -> CallsCommand.run(afterCommand, outStream, errStream);
      default -> {
        OptionalInt code = ServeCommand.run(args, outStream, errStream);
        assertTrue(code.isPresent(), "the router was started by: " + arguments);
        yield code.getAsInt();
      }
    };
    return new Run(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
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
      calls --help            | usage: java -jar server/target/llm-router.jar calls COMMAND
      calls list --help       | usage: java -jar server/target/llm-router.jar calls list [FILTERS]
      calls trace --help      | usage: java -jar server/target/llm-router.jar calls trace ID
      calls usage --help      | usage: java -jar server/target/llm-router.jar calls usage [--by GROUPS]
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
  void theGroupsHelpListsItsSubcommands() {
    String cassettes = run("cassettes --help").out();
    String calls = run("calls --help").out();

    for (String subcommand : List.of("\n  list [SCOPE] ", "\n  show KEY ", "\n  verify ", "\n  prune ")) {
      assertTrue(cassettes.contains(subcommand), cassettes);
    }
    for (String subcommand : List.of("\n  list ", "\n  trace ID ", "\n  usage ")) {
      assertTrue(calls.contains(subcommand), calls);
    }
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      --bogus                   | llm-router: unknown flag '--bogus' (see `java -jar server/target/llm-router.jar --help`)
      --port                    | llm-router: --port needs a value: --port N (see `java -jar server/target/llm-router.jar --help`)
      --mode live               | llm-router: --mode must be replay, record, auto or off, not 'live' (see `java -jar server/target/llm-router.jar --help`)
      serve                     | llm-router: unexpected argument 'serve' (see `java -jar server/target/llm-router.jar --help`)
      cassettes                 | llm-router cassettes: missing COMMAND (see `java -jar server/target/llm-router.jar cassettes --help`)
      cassettes rewind          | llm-router cassettes: unknown command 'rewind'; expected list, show, verify, prune (see `java -jar server/target/llm-router.jar cassettes --help`)
      cassettes --cassettes     | llm-router cassettes: --cassettes needs a value: --cassettes DIR (see `java -jar server/target/llm-router.jar cassettes --help`)
      cassettes --cassettes d list | llm-router cassettes: the COMMAND comes first: cassettes list ... (see `java -jar server/target/llm-router.jar cassettes --help`)
      cassettes show            | llm-router cassettes show: missing KEY (see `java -jar server/target/llm-router.jar cassettes show --help`)
      cassettes list --dry-run  | llm-router cassettes list: unknown flag '--dry-run' (see `java -jar server/target/llm-router.jar cassettes list --help`)
      cassettes prune --usage   | llm-router cassettes prune: --usage needs a value: --usage FILE (see `java -jar server/target/llm-router.jar cassettes prune --help`)
      calls                     | llm-router calls: missing COMMAND (see `java -jar server/target/llm-router.jar calls --help`)
      calls trace               | llm-router calls trace: missing ID (see `java -jar server/target/llm-router.jar calls trace --help`)
      calls trace a b           | llm-router calls trace: unexpected argument 'b' (see `java -jar server/target/llm-router.jar calls trace --help`)
      calls usage --limit 5     | llm-router calls usage: unknown flag '--limit' (see `java -jar server/target/llm-router.jar calls usage --help`)
      calls list --since        | llm-router calls list: --since needs a value: --since TIME (see `java -jar server/target/llm-router.jar calls list --help`)
      """)
  void aUsageErrorExitsWithTwoAndOneLineNamingTheProblemAndTheHelp(String arguments, String line) {
    Run run = run(arguments);

    assertEquals(2, run.exitCode());
    assertEquals("", run.out());
    assertEquals(line + "\n", run.err());
  }
}
