package dev.llmrouter.server.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.OptionalInt;

/**
 * `java -jar llm-router.jar`: the first word picks the command, `cassettes` ({@link CassetteCommand}), `calls`
 * ({@link CallsCommand}), `keys` ({@link KeysCommand}) or `test` ({@link TestCommand}: a command run against a router
 * of its own); without one, the router runs ({@link ServeCommand}).
 */
public final class Main {

  private Main() {
  }

  public static void main(String[] args) {
    run(List.of(args), System.out, System.err).ifPresent(System::exit);
  }

  /** Runs the command the arguments name: its exit code, or empty while the router runs. */
  static OptionalInt run(List<String> args, PrintStream out, PrintStream err) {
    List<String> afterCommand = args.subList(Math.min(1, args.size()), args.size());
    return switch (args.isEmpty() ? "" : args.get(0)) {
      case "cassettes" -> OptionalInt.of(CassetteCommand.run(afterCommand, out, err));
      case "calls" -> OptionalInt.of(CallsCommand.run(afterCommand, out, err));
      case "keys" -> OptionalInt.of(KeysCommand.run(afterCommand, out, err));
      case "test" -> OptionalInt.of(TestCommand.run(afterCommand, out, err));
      default -> ServeCommand.run(args, out, err);
    };
  }
}
