package dev.llmrouter.server.cli;

import java.util.List;

/**
 * What one command accepts, and the help text that says so.
 *
 * @param command the command as typed after the jar ({@code cassettes prune}), empty for the router itself
 * @param synopsis what follows the command on the usage line, such as {@code [SCOPE] [--cassettes DIR]}
 * @param description the paragraph under the usage line; may be empty
 * @param operands the operands in order, an optional one in brackets: {@code [SCOPE]}, {@code KEY}
 * @param flags every flag the command takes, except {@code --help} and {@code -h}, which every command takes
 */
record Syntax(String command, String synopsis, String description, List<String> operands, List<Flag> flags) {

  static final String JAR = "java -jar server/target/llm-router.jar";

  /** The column where descriptions start in the help, as in most Unix tools' help. */
  private static final int DESCRIPTION_COLUMN = 20;

  Syntax {
    operands = List.copyOf(operands);
    flags = List.copyOf(flags);
  }

  /** The command's last word, such as {@code prune} in {@code cassettes prune}. */
  String name() {
    return command.substring(command.lastIndexOf(' ') + 1);
  }

  /** Parses the arguments that follow the command. */
  Arguments parse(List<String> args) {
    return Arguments.parse(this, args);
  }

  /** A usage error of this command. */
  UsageException error(String problem) {
    return new UsageException(command, problem);
  }

  /** The text {@code --help} prints: usage line, description, then one entry per flag. */
  String usage() {
    StringBuilder text = new StringBuilder("usage: " + JAR + (command.isEmpty() ? "" : " " + command) + " "
        + synopsis + "\n\n");
    if (!description.isEmpty()) {
      text.append(description.strip().indent(2)).append('\n');
    }
    flags.forEach(flag -> text.append(entry(flag.term(), flag.description())));
    return text.append(entry("--help", "print this text")).toString();
  }

  /** One entry of a help list: the term, then its description from the description column on. */
  static String entry(String term, String description) {
    String margin = " ".repeat(DESCRIPTION_COLUMN);
    String lead = term.length() < DESCRIPTION_COLUMN - 2
        ? "  " + term + " ".repeat(DESCRIPTION_COLUMN - 2 - term.length())
        : "  " + term + "\n" + margin;
    return lead + description.strip().replace("\n", "\n" + margin) + "\n";
  }
}
