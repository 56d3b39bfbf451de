package dev.llmrouter.server.cli;

import java.util.List;

/**
 * `java -jar llm-router.jar`: the first word picks the command, `cassettes` ({@link CassetteCommand}) or `calls`
 * ({@link CallsCommand}); without one, the router runs ({@link ServeCommand}).
 */
public final class Main {

  private Main() {
  }

  public static void main(String[] args) {
    List<String> arguments = List.of(args);
    List<String> afterCommand = arguments.subList(Math.min(1, arguments.size()), arguments.size());
    switch (arguments.isEmpty() ? "" : arguments.get(0)) {
      case "cassettes" -> System.exit(CassetteCommand.run(afterCommand, System.out, System.err));
      case "calls" -> System.exit(CallsCommand.run(afterCommand, System.out, System.err));
      default -> ServeCommand.run(arguments, System.out, System.err).ifPresent(System::exit);
    }
  }
}
