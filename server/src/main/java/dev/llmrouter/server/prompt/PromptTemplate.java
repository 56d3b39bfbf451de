package dev.llmrouter.server.prompt;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.BadRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One version of a prompt template, read from its file: messages whose text holds `{{variable}}` placeholders, and
 * the typed variables that fill them.
 *
 * <p>Rendering is plain substitution, one pass over each text: `{{name}}` (spaces inside the braces allowed) becomes
 * the variable's value, inserted as is and never read again, so a value holding `{{other}}` stays that text;
 * `\{{` writes a literal `{{`. Any other `{{` is an error of the file, found when it is read.
 *
 * @param shown the template as `PromptService` shows it (messages unrendered)
 * @param variables its variables by name, in the file's order
 */
record PromptTemplate(dev.llmrouter.api.v1.PromptTemplate shown, Map<String, TemplateVariable> variables) {

  private static final Pattern PLACEHOLDER = Pattern.compile("(\\\\\\{\\{)|\\{\\{\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*}}");

  String name() {
    return shown.getName();
  }

  int version() {
    return shown.getVersion();
  }

  /**
   * The messages with {@code values} filled in; each problem with a value is added to {@code violations}, under
   * {@code field}{@code .variables.<name>}, and then the messages returned are not to be used.
   */
  List<Message> render(Struct values, String field, BadRequest.Builder violations) {
    Map<String, Value> given = values.getFieldsMap();
    for (String name : given.keySet()) {
      if (!variables.containsKey(name)) {
        violations.addFieldViolations(violation(field + ".variables." + name, "template " + name() + " version "
            + version() + " has no such variable" + (variables.isEmpty() ? "" : "; it has " + variables.keySet())));
      }
    }
    Map<String, String> texts = new HashMap<>();
    for (TemplateVariable variable : variables.values()) {
      Value value = given.get(variable.name());
      boolean missing = value == null || value.hasNullValue();
      if (missing && variable.definition().getRequired()) {
        violations.addFieldViolations(violation(field + ".variables." + variable.name(), "is required ("
            + TemplateVariable.TYPE_NAMES.get(variable.definition().getType().getNumber() - 1) + ")"));
        continue;
      }
      if (missing) {
        value = variable.definition().hasDefaultValue() ? variable.definition().getDefaultValue() : null;
      } else {
        variable.problem(value).ifPresent(problem -> violations.addFieldViolations(
            violation(field + ".variables." + variable.name(), problem)));
      }
      texts.put(variable.name(), value == null ? "" : variable.text(value));
    }
    List<Message> rendered = new ArrayList<>();
    for (Message message : shown.getMessagesList()) {
      Message.Builder out = message.toBuilder();
      // A variable that failed its checks renders empty: the messages are then not used.
      out.getPartsBuilderList().forEach(part -> part.setText(substitute(part.getText(),
          name -> texts.getOrDefault(name, ""))));
      rendered.add(out.build());
    }
    return rendered;
  }

  /** The text with each placeholder replaced by {@code valueOf} its name, and each `\{{` by `{{`. */
  static String substitute(String text, Function<String, String> valueOf) {
    Matcher matcher = PLACEHOLDER.matcher(text);
    StringBuilder out = new StringBuilder(text.length());
    while (matcher.find()) {
      matcher.appendReplacement(out, Matcher.quoteReplacement(matcher.group(1) != null ? "{{"
          : valueOf.apply(matcher.group(2))));
    }
    return matcher.appendTail(out).toString();
  }

  /** The variable names a text's placeholders use, in order. */
  static Set<String> placeholders(String text) {
    Set<String> names = new LinkedHashSet<>();
    Matcher matcher = PLACEHOLDER.matcher(text);
    while (matcher.find()) {
      if (matcher.group(2) != null) {
        names.add(matcher.group(2));
      }
    }
    return names;
  }

  /** Whether a text has a `{{` that is neither a placeholder nor escaped (a typo such as `{{ user name }}`). */
  static boolean hasStrayBraces(String text) {
    return PLACEHOLDER.matcher(text).replaceAll("").contains("{{");
  }

  static Message textMessage(Role role, String text) {
    return Message.newBuilder().setRole(role).addParts(Part.newBuilder().setText(text)).build();
  }

  private static BadRequest.FieldViolation violation(String field, String description) {
    return BadRequest.FieldViolation.newBuilder().setField(field).setDescription(description).build();
  }
}
