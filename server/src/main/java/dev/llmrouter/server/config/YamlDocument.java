package dev.llmrouter.server.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A YAML document read into a tree, with the line of each field, so that an error can point at the line to fix.
 *
 * @param tree the document; the missing node when it is empty
 * @param lines the line (from 1) of each field and list item, by its JSON pointer (`/providers/0/name`)
 */
public record YamlDocument(JsonNode tree, Map<String, Integer> lines) {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** @throws IOException when the text is not YAML ({@link JsonProcessingException} with its location) */
  public static YamlDocument parse(String yaml) throws IOException {
    Map<String, Integer> lines = new HashMap<>();
    try (JsonParser parser = YAML.createParser(yaml)) {
      for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
        if (token.isScalarValue() || token.isStructStart()) {
          lines.putIfAbsent(parser.getParsingContext().pathAsPointer().toString(),
              parser.currentTokenLocation().getLineNr());
        }
      }
    }
    JsonNode tree = YAML.readTree(yaml);
    return new YamlDocument(tree == null || tree.isNull() ? com.fasterxml.jackson.databind.node.MissingNode.getInstance()
        : tree, Map.copyOf(lines));
  }

  /** The line of the field at {@code pointer}; empty when the document does not have it. */
  public Optional<Integer> lineOf(String pointer) {
    return Optional.ofNullable(lines.get(pointer));
  }

  /** Where a parse failure is: its message and line, as `... (line N)`. */
  public static String describe(IOException notYaml) {
    return notYaml instanceof JsonProcessingException p && p.getLocation() != null
        ? p.getOriginalMessage() + " (line " + p.getLocation().getLineNr() + ")" : notYaml.getMessage();
  }
}
