package dev.llmrouter.cassettes;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** The leaf-level differences between a recorded and a requested JSON tree, as short lines in document order. */
final class JsonDiff {

  private static final int MAX_VALUE_CHARS = 60;

  private JsonDiff() {
  }

  /** Lines like {@code settings.temperature: (absent) -> 0.2}, recorded value first. */
  static List<String> differences(JsonNode recorded, JsonNode requested) {
    List<String> lines = new ArrayList<>();
    collect("", recorded, requested, lines);
    return lines;
  }

  private static void collect(String path, JsonNode recorded, JsonNode requested, List<String> lines) {
    if (recorded.equals(requested)) {
      return;
    }
    int linesBefore = lines.size();
    if (isObjectOrAbsent(recorded) && isObjectOrAbsent(requested)) {
      TreeSet<String> names = new TreeSet<>();
      recorded.fieldNames().forEachRemaining(names::add);
      requested.fieldNames().forEachRemaining(names::add);
      for (String name : names) {
        collect(path.isEmpty() ? name : path + "." + name, recorded.path(name), requested.path(name), lines);
      }
    } else if (isArrayOrAbsent(recorded) && isArrayOrAbsent(requested)) {
      for (int index = 0; index < Math.max(recorded.size(), requested.size()); index++) {
        collect(path + "[" + index + "]", recorded.path(index), requested.path(index), lines);
      }
    }
    // A changed leaf, a changed type, or an empty container against an absent one.
    if (lines.size() == linesBefore) {
      lines.add((path.isEmpty() ? "(root)" : path) + ": " + show(recorded) + " -> " + show(requested));
    }
  }

  private static boolean isObjectOrAbsent(JsonNode node) {
    return node.isObject() || node.isMissingNode();
  }

  private static boolean isArrayOrAbsent(JsonNode node) {
    return node.isArray() || node.isMissingNode();
  }

  private static String show(JsonNode value) {
    if (value.isMissingNode()) {
      return "(absent)";
    }
    String json = Json.compactString(value);
    return json.length() <= MAX_VALUE_CHARS ? json : json.substring(0, MAX_VALUE_CHARS - 3) + "...";
  }
}
