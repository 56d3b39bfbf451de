package dev.llmrouter.cassettes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.nio.charset.StandardCharsets;
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

  /**
   * A secret pattern, and a lowercase text without which it cannot match (compared ignoring case); the text is
   * looked for first, because a plain search costs much less than the pattern's.
   */
  private record ValueRule(Pattern pattern, String mustContain) {
    boolean mayMatch(String lowercase) {
      return mustContain == null || lowercase.contains(mustContain);
    }
  }

  private static final List<ValueRule> DEFAULT_VALUE_RULES = List.of(
      // OpenAI keys (sk-..., sk-proj-...) and Anthropic keys (sk-ant-...).
      new ValueRule(Pattern.compile("(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}"), "sk-"),
      // Google API keys.
      new ValueRule(Pattern.compile("(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}"), "aiza"),
      // Bearer tokens; the token must hold a digit or an inner separator, so prose ("the bearer of") survives.
      new ValueRule(Pattern.compile(
          "(?i)\\bbearer\\s+(?=[a-z0-9._~+/-]*[0-9._~+/-][a-z0-9])[a-z0-9._~+/-]*[a-z0-9]=*"), "bearer"));

  private static final List<String> SECRET_FIELD_NAME_PARTS =
      List.of("api_key", "apikey", "api-key", "secret", "password", "authorization");

  private final List<ValueRule> valueRules;
  private final Set<String> userFieldNames;
  /** Lowercase texts of which a message must hold one to hold a secret; null when a user pattern allows no test. */
  private final List<String> secretTexts;

  /**
   * @param userValuePatterns extra patterns; every match inside a string value is replaced
   * @param userFieldNames extra field names (matched whole, ignoring case) whose values are replaced
   */
  public Redactor(List<Pattern> userValuePatterns, List<String> userFieldNames) {
    List<ValueRule> rules = new ArrayList<>(DEFAULT_VALUE_RULES);
    userValuePatterns.forEach(pattern -> rules.add(new ValueRule(pattern, null)));
    this.valueRules = List.copyOf(rules);
    this.userFieldNames = userFieldNames.stream()
        .map(name -> name.toLowerCase(Locale.ROOT))
        .collect(Collectors.toUnmodifiableSet());
    List<String> texts = new ArrayList<>(SECRET_FIELD_NAME_PARTS);
    texts.add("token");
    texts.addAll(this.userFieldNames);
    valueRules.forEach(rule -> texts.add(rule.mustContain()));
    this.secretTexts = texts.contains(null) ? null : List.copyOf(texts);
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
        .map(take -> new Cassette.Take(take.events().stream().map(event -> redact(event)).toList(),
            take.offsetsMillis()))
        .toList();
    return new Cassette(cassette.formatVersion(), cassette.key(), redact(cassette.request()),
        cassette.servedBy(), takes);
  }

  /**
   * A redacted copy of a protobuf message, by the same rules as its JSON form; the message itself when nothing in it
   * can match a rule (its bytes hold none of the texts the rules need), which is the cheap common case.
   */
  public <M extends Message> M redact(M message) {
    return mayHoldSecret(message.toByteArray()) ? redactAsJson(message) : message;
  }

  /** The bytes of the message redacted: serialized once when nothing in it can match a rule (the common case). */
  public byte[] redactToBytes(Message message) {
    byte[] bytes = message.toByteArray();
    return mayHoldSecret(bytes) ? redactAsJson(message).toByteArray() : bytes;
  }

  @SuppressWarnings("unchecked")
  private <M extends Message> M redactAsJson(M message) {
    ObjectNode json = Json.toTree(message);
    ObjectNode redacted = redact(json);
    if (redacted.equals(json)) {
      return message;
    }
    try {
      return (M) Json.fromTree(redacted, message.newBuilderForType()).build();
    } catch (InvalidProtocolBufferException e) {
      // Only a non-string proto field with a secret-looking name could get here; the API has none.
      throw new IllegalStateException("redacting a " + message.getDescriptorForType().getName() + " made it invalid: "
          + e.getMessage(), e);
    }
  }

  /** False when no rule can match: the bytes hold none of the texts a rule needs. Runs for every call logged. */
  private boolean mayHoldSecret(byte[] encoded) {
    if (secretTexts == null) {
      return true;
    }
    // Strings and map keys are in the encoding as they are; field names are not. Latin-1 keeps ASCII as is.
    String bytes = new String(encoded, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
    for (String text : secretTexts) {
      if (bytes.contains(text)) {
        return true;
      }
    }
    return false;
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
    String lowercase = text.toLowerCase(Locale.ROOT);
    String redacted = text;
    for (ValueRule rule : valueRules) {
      if (rule.mayMatch(lowercase)) {
        redacted = rule.pattern().matcher(redacted).replaceAll(REPLACEMENT);
      }
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
