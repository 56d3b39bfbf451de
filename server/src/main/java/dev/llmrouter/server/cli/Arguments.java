package dev.llmrouter.server.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The arguments of one command, parsed against its {@link Syntax}: flags may come before, between or after the
 * operands, and {@code --help} (or {@code -h}) anywhere asks for the help instead of a run.
 *
 * @param values the value of each flag given; a switch maps to the empty string
 */
record Arguments(List<String> operands, Map<String, String> values, boolean help) {

  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})([smhd])");

  /** @throws UsageException naming the unknown flag, the flag without its value, or the operand missing or extra */
  static Arguments parse(Syntax syntax, List<String> args) {
    Map<String, Flag> known = new HashMap<>();
    syntax.flags().forEach(flag -> known.put(flag.name(), flag));
    List<String> operands = new ArrayList<>();
    Map<String, String> values = new HashMap<>();
    boolean help = false;
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (arg.equals("--help") || arg.equals("-h")) {
        help = true;
      } else if (arg.startsWith("-")) {
        Flag flag = known.get(arg);
        if (flag == null) {
          throw syntax.error("unknown flag '" + arg + "'");
        }
        // A value never starts with "--": "--usage --dry-run" forgot the file, it did not name one.
        if (flag.takesValue() && (i + 1 == args.size() || args.get(i + 1).startsWith("--"))) {
          throw syntax.error(arg + " needs a value: " + flag.term());
        }
        values.put(arg, flag.takesValue() ? args.get(++i) : "");
      } else {
        operands.add(arg);
      }
    }
    if (!help) {
      checkOperands(syntax, operands);
    }
    return new Arguments(List.copyOf(operands), Map.copyOf(values), help);
  }

  private static void checkOperands(Syntax syntax, List<String> operands) {
    List<String> expected = syntax.operands();
    if (operands.size() > expected.size()) {
      throw syntax.error("unexpected argument '" + operands.get(expected.size()) + "'");
    }
    for (String operand : expected.subList(operands.size(), expected.size())) {
      if (!operand.startsWith("[")) {
        throw syntax.error("missing " + operand);
      }
    }
  }

  boolean has(String flag) {
    return values.containsKey(flag);
  }

  Optional<String> value(String flag) {
    return Optional.ofNullable(values.get(flag));
  }

  /** A duration as flags write it, a number and a unit (30s, 30m, 12h, 90d); empty for anything else. */
  static Optional<Duration> duration(String value) {
    Matcher duration = DURATION.matcher(value);
    if (!duration.matches()) {
      return Optional.empty();
    }
    long amount = Long.parseLong(duration.group(1));
    return Optional.of(switch (duration.group(2)) {
      case "s" -> Duration.ofSeconds(amount);
      case "m" -> Duration.ofMinutes(amount);
      case "h" -> Duration.ofHours(amount);
      default -> Duration.ofDays(amount);
    });
  }

  /** The operand at a position, empty when an optional one was left out. */
  Optional<String> operand(int index) {
    return index < operands.size() ? Optional.of(operands.get(index)) : Optional.empty();
  }
}
