package dev.llmrouter.server.prompt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.BadRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Role;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Template files as read (every problem with its file and line), and rendering: typed checks, defaults, escaping. */
class PromptTemplateTest {

  private static final String EVERY_TYPE = """
      name: every-type
      version: 3
      description: One variable of each type.
      model: openai/gpt-4o-mini
      variables:
        topic: { type: string, required: true, min_length: 2, max_length: 10, pattern: "[a-z ]+" }
        points: { type: integer, minimum: 1, maximum: 5, default: 3 }
        temperature: { type: number, minimum: 0, maximum: 1.5 }
        formal: { type: boolean, default: false }
        reader: { type: enum, values: [engineer, executive], default: engineer }
        tags: { type: list, max_items: 3, separator: " / " }
      messages:
        - role: system
          text: "Formal: {{formal}}. Reader: {{ reader }}."
        - role: user
          text: "{{points}} points on {{topic}} at {{temperature}}, tags {{tags}}."
      """;

  private static PromptTemplate template(String yaml) {
    TemplateFile.Read read = TemplateFile.parse("t.yaml", yaml);
    assertEquals(List.of(), read.problems());
    return read.template().orElseThrow();
  }

  private static Value text(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  private static Value number(double d) {
    return Value.newBuilder().setNumberValue(d).build();
  }

  private static Value bool(boolean b) {
    return Value.newBuilder().setBoolValue(b).build();
  }

  private static Value list(Value... items) {
    return Value.newBuilder().setListValue(ListValue.newBuilder().addAllValues(List.of(items))).build();
  }

  /** The violations of rendering with {@code values}, by field. */
  private static Map<String, String> violations(PromptTemplate template, Map<String, Value> values) {
    BadRequest.Builder violations = BadRequest.newBuilder();
    template.render(Struct.newBuilder().putAllFields(values).build(), "prompt", violations);
    return violations.getFieldViolationsList().stream().collect(Collectors.toMap(
        BadRequest.FieldViolation::getField, BadRequest.FieldViolation::getDescription, (a, b) -> a, TreeMap::new));
  }

  private static List<String> rendered(PromptTemplate template, Map<String, Value> values) {
    BadRequest.Builder violations = BadRequest.newBuilder();
    List<Message> messages = template.render(Struct.newBuilder().putAllFields(values).build(), "prompt", violations);
    assertEquals(List.of(), violations.getFieldViolationsList());
    return messages.stream().map(m -> m.getParts(0).getText()).toList();
  }

  @Test
  void everyTypeRendersItsValuesAndDefaults() {
    PromptTemplate template = template(EVERY_TYPE);
    assertEquals("every-type", template.name());
    assertEquals(3, template.version());
    assertEquals(List.of("Formal: true. Reader: executive.", "5 points on rust at 0.5, tags a / 2 / true."),
        rendered(template, Map.of("topic", text("rust"), "points", number(5), "temperature", number(0.5),
            "formal", bool(true), "reader", text("executive"), "tags", list(text("a"), number(2), bool(true)))));
    // Defaults fill what is not given; an optional variable without a default renders empty.
    assertEquals(List.of("Formal: false. Reader: engineer.", "3 points on go at , tags ."),
        rendered(template, Map.of("topic", text("go"))));
    assertEquals(Role.ROLE_SYSTEM, template.shown().getMessages(0).getRole());
  }

  @Test
  void eachBadValueIsNamedWithWhatIsWrong() {
    PromptTemplate template = template(EVERY_TYPE);
    assertEquals(Map.of(
            "prompt.variables.topic", "is required (string)",
            "prompt.variables.points", "must be a whole number, not 2.5",
            "prompt.variables.temperature", "must be at most 1.5, not 2",
            "prompt.variables.formal", "must be true or false, not a string",
            "prompt.variables.reader", "must be one of [engineer, executive], not 'intern'",
            "prompt.variables.tags", "must have at most 3 items, not 4",
            "prompt.variables.colour", "template every-type version 3 has no such variable; it has [topic, points, "
                + "temperature, formal, reader, tags]"),
        violations(template, Map.of("points", number(2.5), "temperature", number(2), "formal", text("yes"),
            "reader", text("intern"), "tags", list(text("a"), text("b"), text("c"), text("d")),
            "colour", text("red"))));
    assertEquals(Map.of("prompt.variables.topic", "must match the pattern [a-z ]+"),
        violations(template, Map.of("topic", text("Rust!"))));
    assertEquals(Map.of("prompt.variables.topic", "must be at most 10 characters, not 11"),
        violations(template, Map.of("topic", text("abcdefghijk"))));
    assertEquals(Map.of("prompt.variables.topic", "must be at least 2 characters, not 1"),
        violations(template, Map.of("topic", text("a"))));
    assertEquals(Map.of("prompt.variables.topic", "must be a string, not a number",
            "prompt.variables.points", "must be at least 1, not 0",
            "prompt.variables.tags", "item 0 must be a string, a number or true/false, not a list"),
        violations(template, Map.of("topic", number(1), "points", number(0), "tags", list(list()))));
  }

  @Test
  void substitutionIsOnePassAndBackslashEscapesBraces() {
    PromptTemplate template = template("""
        name: escaping
        variables: { who: { type: string, required: true } }
        messages:
          - { role: user, text: "Hello {{who}}; write \\\\{{who}} for a placeholder." }
        """);
    // A value is inserted as is: braces in it are never read as placeholders.
    assertEquals(List.of("Hello {{secret}} \\{{x}}; write {{who}} for a placeholder."),
        rendered(template, Map.of("who", text("{{secret}} \\{{x}}"))));
    assertEquals(1, template.version(), "the version defaults to 1");
  }

  @Test
  void aBadFileIsReportedWithItsFileLineAndField() {
    TemplateFile.Read read = TemplateFile.parse("bad.yaml", """
        name: bad
        version: 0
        variables:
          tone: { type: colour }
          count: { type: integer, pattern: "x", default: 1.5 }
          who: { type: string, required: true, default: someone }
          kind: { type: enum }
        messages:
          - role: user
            text: "Hi {{who}} and {{nobody}}"
          - { role: robot, text: "{{ two words }}" }
        extra: 1
        """);
    assertTrue(read.template().isEmpty());
    assertEquals(List.of(
        "bad.yaml (line 12): extra: unknown field; expected one of [description, messages, model, name, variables, "
            + "version]",
        "bad.yaml (line 2): version: must be a whole number from 1, not '0'",
        "bad.yaml (line 4): variables.tone.type: is required: one of [string, integer, number, boolean, enum, list], "
            + "not 'colour'",
        "bad.yaml (line 5): variables.count.pattern: does not apply to a variable of type integer",
        "bad.yaml (line 5): variables.count.default: must be a whole number, not 1.5",
        "bad.yaml (line 6): variables.who.default: a required variable has no default: give one or the other",
        "bad.yaml (line 7): variables.kind.values: an enum lists its values, like [formal, casual]",
        "bad.yaml (line 10): messages.0.text: {{nobody}} names no variable of the template; it has [count, who, "
            + "kind]",
        "bad.yaml (line 11): messages.1.role: must be system, user or assistant, not 'robot'",
        "bad.yaml (line 11): messages.1.text: has a '{{' that is not a placeholder like {{name}}: write \\{{ for a "
            + "literal {{"), read.problems());
  }

  @Test
  void theReadmeTemplateIsTheDemoFileWithComments() throws java.io.IOException {
    String readme = java.nio.file.Files.readString(java.nio.file.Path.of("../README.md"));
    int start = readme.indexOf("```yaml\n# prompts/capital.yaml\n") + "```yaml\n".length();
    String block = readme.substring(start, readme.indexOf("```", start));
    PromptTemplate documented = template(block);
    PromptTemplate shipped = template(java.nio.file.Files.readString(java.nio.file.Path.of("../prompts/capital.yaml")));
    assertEquals(shipped.shown(), documented.shown().toBuilder().setFile(shipped.shown().getFile()).build());
  }

  @Test
  void aFileThatIsNotYamlSaysWhere() {
    TemplateFile.Read read = TemplateFile.parse("broken.yaml", "name: x\nmessages: [\n");
    assertEquals(1, read.problems().size());
    assertTrue(read.problems().get(0).startsWith("broken.yaml: not valid YAML: "), read.problems().get(0));
    assertTrue(read.problems().get(0).contains("(line "), read.problems().get(0));
  }
}
