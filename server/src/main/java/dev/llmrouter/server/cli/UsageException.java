package dev.llmrouter.server.cli;

import java.io.PrintStream;

/** The command line is wrong: the command prints one line naming the problem, with a hint to its help, and exits 2. */
final class UsageException extends RuntimeException {

  static final int EXIT_CODE = 2;

  private final String command;

  /** @param command the command as typed after the jar, such as {@code cassettes show}; empty for the router itself */
  UsageException(String command, String problem) {
    super(problem);
    this.command = command;
  }

  /** Prints the problem and where to read the usage, on one line, and returns the exit code. */
  int report(PrintStream err) {
    String typed = command.isEmpty() ? "" : " " + command;
    err.println("llm-router" + typed + ": " + getMessage() + " (see `" + Syntax.JAR + typed + " --help`)");
    return EXIT_CODE;
  }
}
