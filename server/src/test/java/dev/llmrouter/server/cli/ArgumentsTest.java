package dev.llmrouter.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The one argument parser, over a made-up command. */
class ArgumentsTest {

  private static final Syntax COPY = new Syntax("files copy", "FROM [TO] [--into DIR] [--force]",
      "copies FROM to TO", List.of("FROM", "[TO]"), List.of(
          Flag.withValue("--into", "DIR", "the folder to copy into"),
          Flag.toggle("--force", "overwrite")));

  private static Arguments parse(String... args) {
    return COPY.parse(List.of(args));
  }

  private static String problem(String... args) {
    return assertThrows(UsageException.class, () -> parse(args)).getMessage();
  }

  @Test
  void flagsMayComeBeforeBetweenAndAfterTheOperands() {
    Arguments arguments = parse("--into", "out", "a.txt", "--force", "b.txt");

    assertEquals(new Arguments(List.of("a.txt", "b.txt"), Map.of("--into", "out", "--force", ""), false), arguments);
    assertEquals(Optional.of("out"), arguments.value("--into"));
    assertTrue(arguments.has("--force"));
    assertEquals(Optional.of("b.txt"), arguments.operand(1));
  }

  @Test
  void anOptionalOperandOrFlagMayBeLeftOut() {
    Arguments arguments = parse("a.txt");

    assertEquals(Optional.empty(), arguments.operand(1));
    assertEquals(Optional.empty(), arguments.value("--into"));
    assertFalse(arguments.has("--force"));
  }

  @Test
  void aFlagWithoutItsValueIsAUsageError() {
    assertEquals("--into needs a value: --into DIR", problem("a.txt", "--into"));
    assertEquals("--into needs a value: --into DIR", problem("a.txt", "--into", "--force"));
  }

  @Test
  void unknownFlagsAndMissingOrExtraOperandsAreUsageErrors() {
    assertEquals("unknown flag '--bogus'", problem("a.txt", "--bogus"));
    assertEquals("unknown flag '-f'", problem("a.txt", "-f"));
    assertEquals("missing FROM", problem("--force"));
    assertEquals("unexpected argument 'c.txt'", problem("a.txt", "b.txt", "c.txt"));
  }

  @Test
  void helpAnywhereNeedsNoOperands() {
    assertTrue(parse("--help").help());
    assertTrue(parse("--force", "-h").help());
    assertFalse(parse("a.txt").help());
  }

  @Test
  void theUsageListsTheFlagsInOneColumn() {
    assertEquals("""
        usage: java -jar server/target/llm-router.jar files copy FROM [TO] [--into DIR] [--force]

          copies FROM to TO

          --into DIR        the folder to copy into
          --force           overwrite
          --help            print this text
        """, COPY.usage());
  }

  @Test
  void aLongTermPutsItsDescriptionOnTheNextLine() {
    assertEquals("  --track-usage FILE\n                    append\n                    once\n",
        Syntax.entry("--track-usage FILE", "append\nonce"));
    assertEquals("  --call-log on|off log\n", Syntax.entry("--call-log on|off", "log"));
  }
}
