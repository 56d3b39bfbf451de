package dev.llmrouter.cassettes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** The leaf-level differences between a recorded and a requested JSON tree, as short lines in document order. */
final class JsonDiff {

  private static final int MAX_VALUE_CHARS = 60;
  /** How much of the common start of two differing texts is shown before the first difference. */
  private static final int CONTEXT_CHARS = 20;

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
      String where = path.isEmpty() ? "(root)" : path;
      if (recorded.isTextual() && requested.isTextual()
          && Math.max(recorded.textValue().length(), requested.textValue().length()) > MAX_VALUE_CHARS) {
        // Long texts are shown around where they start to differ, so the line names what changed (a date, an id).
        int from = Math.max(0, commonPrefixLength(recorded.textValue(), requested.textValue()) - CONTEXT_CHARS);
        lines.add(where + ": " + excerpt(recorded.textValue(), from) + " -> " + excerpt(requested.textValue(), from));
      } else {
        lines.add(where + ": " + show(recorded) + " -> " + show(requested));
      }
    }
  }

  private static boolean isObjectOrAbsent(JsonNode node) {
    return node.isObject() || node.isMissingNode();
  }

  private static boolean isArrayOrAbsent(JsonNode node) {
    return node.isArray() || node.isMissingNode();
  }

  private static int commonPrefixLength(String a, String b) {
    int length = 0;
    while (length < a.length() && length < b.length() && a.charAt(length) == b.charAt(length)) {
      length++;
    }
    return length;
  }

  /** The text from {@code from} on, shown as {@link #show} shows a value, with "..." before it when cut there. */
  private static String excerpt(String text, int from) {
    return (from > 0 ? "..." : "") + show(TextNode.valueOf(text.substring(Math.min(from, text.length()))));
  }

  private static String show(JsonNode value) {
    if (value.isMissingNode()) {
      return "(absent)";
    }
    String json = Json.compactString(value);
    return json.length() <= MAX_VALUE_CHARS ? json : json.substring(0, MAX_VALUE_CHARS - 3) + "...";
  }
}
