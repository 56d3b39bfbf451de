package dev.llmrouter.cassettes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.llmrouter.api.v1.ChatEvent;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Removes secrets before a cassette is written. The default rules always apply; user rules add to them. A value
 * matching a secret pattern has the match replaced by {@value #REPLACEMENT}; a field whose name looks like a secret
 * has its whole value replaced. Content without secrets comes out unchanged, so re-recording stays byte-identical.
 */
public final class Redactor {

  public static final String REPLACEMENT = "[REDACTED]";

  private static final List<Pattern> DEFAULT_VALUE_PATTERNS = List.of(
      // OpenAI keys (sk-..., sk-proj-...) and Anthropic keys (sk-ant-...).
      Pattern.compile("(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}"),
      // Google API keys.
      Pattern.compile("(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}"),
      // Bearer tokens; the token must hold a digit or an inner separator, so prose ("the bearer of") survives.
      Pattern.compile("(?i)\\bbearer\\s+(?=[a-z0-9._~+/-]*[0-9._~+/-][a-z0-9])[a-z0-9._~+/-]*[a-z0-9]=*"));

  private static final List<String> SECRET_FIELD_NAME_PARTS =
      List.of("api_key", "apikey", "api-key", "secret", "password", "authorization");

  private final List<Pattern> valuePatterns;
  private final Set<String> userFieldNames;

  /**
   * @param userValuePatterns extra patterns; every match inside a string value is replaced
   * @param userFieldNames extra field names (matched whole, ignoring case) whose values are replaced
   */
  public Redactor(List<Pattern> userValuePatterns, List<String> userFieldNames) {
    List<Pattern> patterns = new ArrayList<>(DEFAULT_VALUE_PATTERNS);
    patterns.addAll(userValuePatterns);
    this.valuePatterns = List.copyOf(patterns);
    this.userFieldNames = userFieldNames.stream()
        .map(name -> name.toLowerCase(Locale.ROOT))
        .collect(Collectors.toUnmodifiableSet());
  }

  /** Only the default rules. */
  public static Redactor defaults() {
    return new Redactor(List.of(), List.of());
  }

  /** A redacted deep copy. */
  public ObjectNode redact(ObjectNode json) {
    return (ObjectNode) redactNode(json);
  }

  /** The cassette with its canonical request and every event redacted; the key stays as it was. */
  public Cassette redact(Cassette cassette) {
    List<Cassette.Take> takes = cassette.takes().stream()
        .map(take -> new Cassette.Take(take.events().stream().map(this::redact).toList(),
            take.offsetsMillis()))
        .toList();
    return new Cassette(cassette.formatVersion(), cassette.key(), redact(cassette.request()),
        cassette.servedBy(), takes);
  }

  private ChatEvent redact(ChatEvent event) {
    ObjectNode json = Json.toTree(event);
    ObjectNode redacted = redact(json);
    if (redacted.equals(json)) {
      return event;
    }
    try {
      return Json.fromTree(redacted, ChatEvent.newBuilder()).build();
    } catch (InvalidProtocolBufferException e) {
      // Only a non-string proto field with a secret-looking name could get here; the API has none.
      throw new IllegalStateException("redacting a ChatEvent made it invalid: " + e.getMessage(), e);
    }
  }

  private JsonNode redactNode(JsonNode node) {
    if (node.isObject()) {
      ObjectNode copy = JsonNodeFactory.instance.objectNode();
      for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
        Map.Entry<String, JsonNode> field = fields.next();
        boolean secret = isSecretFieldName(field.getKey()) && !field.getValue().isNull();
        copy.set(field.getKey(), secret ? TextNode.valueOf(REPLACEMENT) : redactNode(field.getValue()));
      }
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = JsonNodeFactory.instance.arrayNode();
      node.forEach(element -> copy.add(redactNode(element)));
      return copy;
    }
    // Other value nodes are immutable, so sharing them still makes a deep copy.
    return node.isTextual() ? TextNode.valueOf(redactText(node.textValue())) : node;
  }

  /** The text with every match of a secret pattern replaced (the field-name rules need JSON: see the others). */
  public String redactText(String text) {
    String redacted = text;
    for (Pattern pattern : valuePatterns) {
      redacted = pattern.matcher(redacted).replaceAll(REPLACEMENT);
    }
    return redacted;
  }

  /** Names like {@code api_key} or {@code x-auth-token}, but not token counts like {@code max_output_tokens}. */
  private boolean isSecretFieldName(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return userFieldNames.contains(lower)
        || SECRET_FIELD_NAME_PARTS.stream().anyMatch(lower::contains)
        || lower.contains("token") && !lower.endsWith("tokens");
  }
}
