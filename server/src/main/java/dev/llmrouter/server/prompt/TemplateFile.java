package dev.llmrouter.server.prompt;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ListValue;
import com.google.protobuf.Value;
import dev.llmrouter.api.v1.PromptVariable;
import dev.llmrouter.api.v1.PromptVariableType;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.config.YamlDocument;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads one template file, checking all of it: every problem is reported at once, each with the file, the line and
 * the field, like `summarize.yaml (line 7): variables.tone.type: must be one of [...]`.
 *
 * <pre>
 * name: summarize
 * version: 2
 * description: Summarise a text for a reader.
 * model: openai/gpt-4o-mini
 * variables:
 *   text: { type: string, required: true, max_length: 20000 }
 *   reader: { type: enum, values: [engineer, executive], default: engineer }
 *   points: { type: integer, minimum: 1, maximum: 10, default: 3 }
 * messages:
 *   - { role: system, text: "You write for an {{reader}}." }
 *   - { role: user, text: "Summarise in {{points}} points:\n\n{{text}}" }
 * </pre>
 */
final class TemplateFile {

  private static final Set<String> FIELDS = Set.of("name", "version", "description", "model", "variables",
      "messages");
  private static final Set<String> VARIABLE_FIELDS = Set.of("type", "description", "required", "default",
      "max_length", "min_length", "pattern", "minimum", "maximum", "values", "max_items", "separator");
  private static final Map<String, Role> ROLES = Map.of("system", Role.ROLE_SYSTEM, "user", Role.ROLE_USER,
      "assistant", Role.ROLE_ASSISTANT);
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
  private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final String file;
  private final List<String> problems = new ArrayList<>();
  private YamlDocument document;

  private TemplateFile(String file) {
    this.file = file;
  }

  /** A template file read: its template, or the problems that keep it from being one. */
  record Read(Optional<PromptTemplate> template, List<String> problems) {
  }

  /** @param file the file's name as problems and `PromptTemplate.file` show it (relative to the prompts folder) */
  static Read parse(String file, String yaml) {
    TemplateFile reader = new TemplateFile(file);
    Optional<PromptTemplate> template = reader.read(yaml);
    return new Read(reader.problems.isEmpty() ? template : Optional.empty(), List.copyOf(reader.problems));
  }

  private Optional<PromptTemplate> read(String yaml) {
    try {
      document = YamlDocument.parse(yaml);
    } catch (IOException notYaml) {
      problems.add(file + ": not valid YAML: " + YamlDocument.describe(notYaml));
      return Optional.empty();
    }
    JsonNode root = document.tree();
    if (!root.isObject()) {
      problems.add(file + ": must be a mapping with name, version, description, model, variables and messages");
      return Optional.empty();
    }
    knownFields(root, "", FIELDS);
    dev.llmrouter.api.v1.PromptTemplate.Builder shown = dev.llmrouter.api.v1.PromptTemplate.newBuilder().setFile(file);
    String name = root.path("name").asText("");
    if (!NAME.matcher(name).matches()) {
      problem("/name", "is required: letters, digits, '_', '.' or '-', like summarize (not '" + name + "')");
    }
    JsonNode version = root.path("version");
    if (!version.isMissingNode() && !(version.canConvertToInt() && version.isIntegralNumber()
        && version.asInt() >= 1)) {
      problem("/version", "must be a whole number from 1, not '" + version.asText() + "'");
    }
    shown.setName(name).setVersion(version.isMissingNode() ? 1 : Math.max(1, version.asInt()))
        .setDescription(scalar(root, "/description")).setModel(scalar(root, "/model"));
    if (!shown.getModel().isEmpty() && !shown.getModel().matches("[^\\s]+")) {
      problem("/model", "must be a model name like openai/gpt-4o-mini or an alias, not '" + shown.getModel() + "'");
    }
    Map<String, TemplateVariable> variables = variables(root.path("variables"));
    variables.values().forEach(variable -> shown.addVariables(variable.definition()));
    messages(root.path("messages"), variables, shown);
    return Optional.of(new PromptTemplate(shown.build(), variables));
  }

  private Map<String, TemplateVariable> variables(JsonNode section) {
    Map<String, TemplateVariable> variables = new LinkedHashMap<>();
    if (section.isMissingNode()) {
      return variables;
    }
    if (!section.isObject()) {
      problem("/variables", "must map each variable's name to its definition, like { text: { type: string } }");
      return variables;
    }
    section.fields().forEachRemaining(entry -> {
      String at = "/variables/" + entry.getKey();
      if (!VARIABLE_NAME.matcher(entry.getKey()).matches()) {
        problem(at, "a variable's name is letters, digits and '_', not starting with a digit");
        return;
      }
      if (!entry.getValue().isObject()) {
        problem(at, "must be a mapping like { type: string, required: true }");
        return;
      }
      variable(entry.getKey(), entry.getValue(), at).ifPresent(v -> variables.put(v.name(), v));
    });
    return variables;
  }

  private Optional<TemplateVariable> variable(String name, JsonNode node, String at) {
    knownFields(node, at, VARIABLE_FIELDS);
    String typeName = node.path("type").asText("");
    int typeIndex = TemplateVariable.TYPE_NAMES.indexOf(typeName);
    if (typeIndex < 0) {
      problem(at + "/type", "is required: one of " + TemplateVariable.TYPE_NAMES + (typeName.isEmpty() ? ""
          : ", not '" + typeName + "'"));
      return Optional.empty();
    }
    PromptVariableType type = PromptVariableType.forNumber(typeIndex + 1);
    PromptVariable.Builder definition = PromptVariable.newBuilder().setName(name).setType(type)
        .setDescription(scalar(node, at + "/description"));
    if (node.has("required")) {
      if (!node.get("required").isBoolean()) {
        problem(at + "/required", "must be true or false");
      }
      definition.setRequired(node.get("required").asBoolean());
    }
    onlyFor(node, at, type, PromptVariableType.PROMPT_VARIABLE_TYPE_STRING, "max_length", "min_length", "pattern");
    onlyFor(node, at, type, PromptVariableType.PROMPT_VARIABLE_TYPE_ENUM, "values");
    onlyFor(node, at, type, PromptVariableType.PROMPT_VARIABLE_TYPE_LIST, "max_items", "separator");
    if (type != PromptVariableType.PROMPT_VARIABLE_TYPE_INTEGER && type != PromptVariableType.PROMPT_VARIABLE_TYPE_NUMBER) {
      onlyFor(node, at, type, PromptVariableType.PROMPT_VARIABLE_TYPE_UNSPECIFIED, "minimum", "maximum");
    }
    count(node, at + "/max_length").ifPresent(definition::setMaxLength);
    count(node, at + "/min_length").ifPresent(definition::setMinLength);
    count(node, at + "/max_items").ifPresent(definition::setMaxItems);
    bound(node, at + "/minimum").ifPresent(definition::setMinimum);
    bound(node, at + "/maximum").ifPresent(definition::setMaximum);
    if (type == PromptVariableType.PROMPT_VARIABLE_TYPE_LIST) {
      definition.setSeparator(node.has("separator") ? node.get("separator").asText() : ", ");
    }
    Optional<Pattern> pattern = Optional.empty();
    if (node.has("pattern")) {
      definition.setPattern(node.get("pattern").asText());
      try {
        pattern = Optional.of(Pattern.compile(definition.getPattern()));
      } catch (PatternSyntaxException e) {
        problem(at + "/pattern", "is not a valid regular expression: " + e.getDescription());
      }
    }
    if (type == PromptVariableType.PROMPT_VARIABLE_TYPE_ENUM) {
      JsonNode values = node.path("values");
      if (!values.isArray() || values.isEmpty()) {
        problem(at + "/values", "an enum lists its values, like [formal, casual]");
      } else {
        values.forEach(value -> definition.addValues(value.asText()));
      }
    }
    TemplateVariable variable = new TemplateVariable(definition.build(), pattern);
    if (node.has("default")) {
      if (definition.getRequired()) {
        problem(at + "/default", "a required variable has no default: give one or the other");
      }
      Value value = value(node.get("default"));
      variable.problem(value).ifPresent(wrong -> problem(at + "/default", wrong));
      variable = new TemplateVariable(definition.setDefaultValue(value).build(), pattern);
    }
    return Optional.of(variable);
  }

  private void messages(JsonNode list, Map<String, TemplateVariable> variables,
      dev.llmrouter.api.v1.PromptTemplate.Builder shown) {
    if (!list.isArray() || list.isEmpty()) {
      problem("/messages", "must list at least one { role: system | user | assistant, text: ... }");
      return;
    }
    for (int i = 0; i < list.size(); i++) {
      String at = "/messages/" + i;
      JsonNode message = list.get(i);
      if (!message.isObject()) {
        problem(at, "must be a mapping like { role: user, text: \"Hello {{name}}\" }");
        continue;
      }
      knownFields(message, at, Set.of("role", "text"));
      Role role = ROLES.get(message.path("role").asText(""));
      if (role == null) {
        problem(at + "/role", "must be system, user or assistant, not '" + message.path("role").asText("") + "'");
      }
      String text = scalar(message, at + "/text");
      if (text.isEmpty()) {
        problem(at + "/text", "is required");
      }
      if (PromptTemplate.hasStrayBraces(text)) {
        problem(at + "/text", "has a '{{' that is not a placeholder like {{name}}: write \\{{ for a literal {{");
      }
      for (String name : PromptTemplate.placeholders(text)) {
        if (!variables.containsKey(name)) {
          problem(at + "/text", "{{" + name + "}} names no variable of the template" + (variables.isEmpty()
              ? ": declare it under variables" : "; it has " + variables.keySet()));
        }
      }
      shown.addMessages(PromptTemplate.textMessage(role == null ? Role.ROLE_USER : role, text));
    }
  }

  /** A YAML value as a protobuf Value (what a request's variables are). */
  private static Value value(JsonNode node) {
    if (node.isBoolean()) {
      return Value.newBuilder().setBoolValue(node.asBoolean()).build();
    }
    if (node.isNumber()) {
      return Value.newBuilder().setNumberValue(node.asDouble()).build();
    }
    if (node.isArray()) {
      ListValue.Builder list = ListValue.newBuilder();
      node.forEach(item -> list.addValues(value(item)));
      return Value.newBuilder().setListValue(list).build();
    }
    if (node.isObject()) {
      return Value.newBuilder().setStructValue(com.google.protobuf.Struct.getDefaultInstance()).build();
    }
    return Value.newBuilder().setStringValue(node.asText()).build();
  }

  private void onlyFor(JsonNode node, String at, PromptVariableType type, PromptVariableType owner,
      String... fields) {
    for (String field : fields) {
      if (node.has(field) && type != owner) {
        problem(at + "/" + field, "does not apply to a variable of type "
            + TemplateVariable.TYPE_NAMES.get(type.getNumber() - 1));
      }
    }
  }

  private Optional<Integer> count(JsonNode node, String pointer) {
    JsonNode value = node.path(pointer.substring(pointer.lastIndexOf('/') + 1));
    if (value.isMissingNode()) {
      return Optional.empty();
    }
    if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < 0) {
      problem(pointer, "must be a whole number, 0 or more");
      return Optional.empty();
    }
    return Optional.of(value.asInt());
  }

  private Optional<Double> bound(JsonNode node, String pointer) {
    JsonNode value = node.path(pointer.substring(pointer.lastIndexOf('/') + 1));
    if (value.isMissingNode()) {
      return Optional.empty();
    }
    if (!value.isNumber()) {
      problem(pointer, "must be a number");
      return Optional.empty();
    }
    return Optional.of(value.asDouble());
  }

  private String scalar(JsonNode node, String pointer) {
    JsonNode value = node.path(pointer.substring(pointer.lastIndexOf('/') + 1));
    if (value.isMissingNode() || value.isNull()) {
      return "";
    }
    if (!value.isValueNode()) {
      problem(pointer, "must be a single value");
      return "";
    }
    return value.asText();
  }

  private void knownFields(JsonNode node, String at, Set<String> known) {
    node.fieldNames().forEachRemaining(name -> {
      if (!known.contains(name)) {
        problem(at + "/" + name, "unknown field; expected one of " + new TreeSet<>(known));
      }
    });
  }

  /** A problem at a field; one that is missing is placed at the line of the nearest field around it. */
  private void problem(String pointer, String message) {
    String field = pointer.substring(1).replace('/', '.');
    String around = pointer;
    Optional<Integer> line = document.lineOf(around);
    while (line.isEmpty() && !around.isEmpty()) {
      around = around.substring(0, around.lastIndexOf('/'));
      line = document.lineOf(around);
    }
    problems.add(file + line.map(n -> " (line " + n + ")").orElse("") + ": " + field + ": " + message);
  }
}
