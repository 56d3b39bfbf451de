package dev.llmrouter.server.cli;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A command whose first word names a subcommand, as in {@code cassettes list}: the group's help lists the
 * subcommands with their descriptions, and each subcommand has its own syntax and help. The flags that every
 * subcommand takes are in the group's syntax and in each subcommand's.
 *
 * @param syntax the group's own syntax: its command word and shared flags, its one operand {@code COMMAND}
 * @param subcommands each named by the group's command word and its own, such as {@code cassettes list}
 */
record CommandGroup(Syntax syntax, List<Syntax> subcommands) {

  CommandGroup {
    subcommands = List.copyOf(subcommands);
  }

  /** The syntax the arguments were parsed with (the group's own when no subcommand was named) and what they gave. */
  record Choice(Syntax syntax, Arguments arguments) {

    /** The subcommand's name, such as {@code list}. */
    String name() {
      return syntax.name();
    }
  }

  /**
   * Parses a subcommand and its arguments; only a request for help may name no subcommand.
   *
   * @throws UsageException when no subcommand or an unknown one is named, or its arguments are wrong
   */
  Choice choose(List<String> args) {
    if (args.isEmpty() || args.get(0).startsWith("-")) {
      Arguments arguments = syntax.parse(args);
      if (!arguments.help()) {
        throw syntax.error("the COMMAND comes first: " + syntax.command() + " " + arguments.operands().get(0) + " ...");
      }
      return new Choice(syntax, arguments);
    }
    Syntax chosen = subcommands.stream().filter(subcommand -> subcommand.name().equals(args.get(0))).findFirst()
        .orElseThrow(() -> syntax.error("unknown command '" + args.get(0) + "'; expected " + names()));
    return new Choice(chosen, chosen.parse(args.subList(1, args.size())));
  }

  /** The help asked for: the group's, or the subcommand's. */
  String usageOf(Choice choice) {
    return choice.syntax() == syntax ? usage() : choice.syntax().usage();
  }

  /** The group's help: its usage line, one entry per subcommand, the shared flags. */
  String usage() {
    StringBuilder text = new StringBuilder("usage: " + Syntax.JAR + " " + syntax.command() + " " + syntax.synopsis()
        + "\n\n");
    for (Syntax subcommand : subcommands) {
      String term = String.join(" ", subcommand.name(), String.join(" ", subcommand.operands())).strip();
      text.append(Syntax.entry(term, subcommand.description()));
    }
    syntax.flags().forEach(flag -> text.append(Syntax.entry(flag.term(), flag.description())));
    return text.append(Syntax.entry("--help", "print this text; after a COMMAND, that command's help")).toString();
  }

  private String names() {
    return subcommands.stream().map(Syntax::name).collect(Collectors.joining(", "));
  }
}
