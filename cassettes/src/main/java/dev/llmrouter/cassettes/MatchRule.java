package dev.llmrouter.cassettes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.llmrouter.api.v1.ChatRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One match rule: how a request is normalized before its cassette key is computed, so that volatile content (today's
 * date, a request id, a temporary path) leaves the key as it was. A rule either replaces every match of a regular
 * expression in every text part of the messages by a fixed text, or leaves fields out of the key. It applies to the
 * scopes its glob matches, where {@code *} matches any characters, {@code /} included: {@code *} is every scope,
 * {@code billing/*} every scope below {@code billing}.
 */
public final class MatchRule {

  /** Message types whose JSON is free-form: any name is valid below a field of one of them. */
  private static final List<String> FREE_FORM_TYPES =
      List.of("google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue");

  private final String origin;
  private final String scopeGlob;
  private final Pattern scope;
  private final Pattern replace;
  private final String with;
  private final List<String> ignored;
  private final List<List<String>> ignoredPaths;

  private MatchRule(String origin, String scopeGlob, Pattern replace, String with, List<String> ignored,
      List<List<String>> ignoredPaths) {
    this.origin = Objects.requireNonNull(origin, "origin");
    this.scopeGlob = scopeGlob;
    this.scope = globPattern(scopeGlob);
    this.replace = replace;
    this.with = with;
    this.ignored = List.copyOf(ignored);
    this.ignoredPaths = List.copyOf(ignoredPaths);
  }

  /**
   * A rule replacing every match of {@code pattern} by {@code with} (taken as it is: {@code $1} is no group) in the
   * text parts of every message.
   *
   * @param origin where the rule is defined, such as {@code cassettes.match.0 (line 3)}: diagnostics name it
   */
  public static MatchRule replace(String origin, String scopeGlob, Pattern pattern, String with) {
    return new MatchRule(origin, scopeGlob, Objects.requireNonNull(pattern, "pattern"), Objects.requireNonNull(with,
        "with"), List.of(), List.of());
  }

  /**
   * A rule leaving fields out of the key, each a dotted path of request fields as in the cassette's {@code request}
   * ({@code settings.temperature}, {@code tools.description}: a path through a list applies to every element). The
   * JSON names of the API ({@code settings.maxOutputTokens}) are accepted too.
   *
   * @throws IllegalArgumentException naming a path that is no field of the request
   */
  public static MatchRule ignore(String origin, String scopeGlob, List<String> fieldPaths) {
    if (fieldPaths.isEmpty()) {
      throw new IllegalArgumentException("ignore lists no field; give paths like settings.temperature");
    }
    List<List<String>> paths = new ArrayList<>();
    fieldPaths.forEach(path -> paths.add(requestFieldPath(path)));
    return new MatchRule(origin, scopeGlob, null, "", fieldPaths, paths);
  }

  /**
   * Checks that a dotted path names a field of a request, as {@link #ignore} needs.
   *
   * @throws IllegalArgumentException saying which name is not a field, and which fields there are
   */
  public static void checkFieldPath(String fieldPath) {
    requestFieldPath(fieldPath);
  }

  /** Where the rule is defined, such as {@code cassettes.match.0 (line 3)}. */
  public String origin() {
    return origin;
  }

  /** What the rule does, such as {@code replace '\d{4}-\d{2}-\d{2}' with '<date>'} or {@code ignore metadata}. */
  public String description() {
    String action = replace != null ? "replace '" + replace.pattern() + "' with '" + with + "'"
        : "ignore " + String.join(", ", ignored);
    return action + (scopeGlob.equals("*") ? "" : " in scopes " + scopeGlob);
  }

  /** Whether the rule applies to calls of a scope. */
  public boolean appliesTo(String scopeName) {
    return scope.matcher(scopeName).matches();
  }

  /** Applies the rule to a canonical request, in place; whether it changed anything. */
  boolean applyTo(ObjectNode request) {
    boolean changed = false;
    if (replace != null) {
      for (JsonNode message : request.path("messages")) {
        for (JsonNode part : message.path("parts")) {
          JsonNode text = part.path("text");
          if (text.isTextual()) {
            String replaced = replace.matcher(text.textValue()).replaceAll(Matcher.quoteReplacement(with));
            if (!replaced.equals(text.textValue())) {
              ((ObjectNode) part).set("text", TextNode.valueOf(replaced));
              changed = true;
            }
          }
        }
      }
    }
    for (List<String> path : ignoredPaths) {
      changed |= remove(request, path, 0);
    }
    return changed;
  }

  /** {@code origin: description}, as diagnostics print it. */
  @Override
  public String toString() {
    return origin + ": " + description();
  }

  /** Rules are equal when defined at the same place to do the same: what a config reload compares. */
  @Override
  public boolean equals(Object other) {
    return other instanceof MatchRule rule && rule.toString().equals(toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }

  private static boolean remove(JsonNode node, List<String> path, int depth) {
    if (node.isArray()) {
      boolean removed = false;
      for (JsonNode element : node) {
        removed |= remove(element, path, depth);
      }
      return removed;
    }
    if (!node.isObject()) {
      return false;
    }
    String name = path.get(depth);
    if (depth == path.size() - 1) {
      return ((ObjectNode) node).remove(name) != null;
    }
    JsonNode child = node.get(name);
    if (child == null || !remove(child, path, depth + 1)) {
      return false;
    }
    // `settings` left empty by its only setting ignored is no setting at all, as when it was never set.
    if (child.isObject() && child.isEmpty()) {
      ((ObjectNode) node).remove(name);
    }
    return true;
  }

  /** The proto field names of a dotted path of {@link ChatRequest} fields, checked against the API's schema. */
  private static List<String> requestFieldPath(String path) {
    List<String> names = new ArrayList<>();
    Descriptor message = ChatRequest.getDescriptor();
    String[] segments = path.split("\\.", -1);
    for (int i = 0; i < segments.length; i++) {
      String segment = segments[i];
      if (segment.isEmpty()) {
        throw new IllegalArgumentException("'" + path + "' is not a field path: it has an empty name (use dots "
            + "between names, like settings.temperature)");
      }
      if (message == null) {
        names.add(segment); // below a map or a Struct, any key is a field
        continue;
      }
      FieldDescriptor field = fieldNamed(message, segment);
      if (field == null) {
        String parent = i == 0 ? "a request" : String.join(".", names);
        throw new IllegalArgumentException("'" + path + "': " + parent + " has no field '" + segment + "'; its "
            + "fields are " + message.getFields().stream().map(FieldDescriptor::getName)
                .collect(Collectors.joining(", ")));
      }
      names.add(field.getName());
      boolean hasFields = field.getJavaType() == FieldDescriptor.JavaType.MESSAGE;
      if (!hasFields && i < segments.length - 1) {
        throw new IllegalArgumentException("'" + path + "': " + String.join(".", names) + " is a value, with no "
            + "fields below it");
      }
      message = !hasFields || field.isMapField() || FREE_FORM_TYPES.contains(field.getMessageType().getFullName())
          ? null : field.getMessageType();
    }
    return List.copyOf(names);
  }

  private static FieldDescriptor fieldNamed(Descriptor message, String name) {
    FieldDescriptor byProtoName = message.findFieldByName(name);
    return byProtoName != null ? byProtoName
        : message.getFields().stream().filter(field -> field.getJsonName().equals(name)).findFirst().orElse(null);
  }

  /** {@code *} matches any characters ({@code /} too), {@code ?} one; everything else stands for itself. */
  private static Pattern globPattern(String glob) {
    StringBuilder regex = new StringBuilder();
    StringBuilder literal = new StringBuilder();
    for (char c : glob.toCharArray()) {
      if (c == '*' || c == '?') {
        regex.append(Pattern.quote(literal.toString())).append(c == '*' ? ".*" : ".");
        literal.setLength(0);
      } else {
        literal.append(c);
      }
    }
    return Pattern.compile(regex.append(Pattern.quote(literal.toString())).toString());
  }
}
