package dev.llmrouter.cassettes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.llmrouter.api.v1.ChatEvent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Removes secrets before a cassette or a call record is written. The default rules always apply; user rules add to
 * them. A value matching a secret pattern has the match replaced by {@value #REPLACEMENT} (the patterns follow
 * gitleaks' rules for the common providers); a field whose name looks like a secret has its value replaced, except
 * where the name is a JSON-schema property being defined (`"properties": {"api_key": {"type": "string"}}`); a
 * string that holds a JSON object or array (a tool call's `arguments_json`) is redacted as JSON. Content without
 * secrets comes out unchanged, so re-recording stays byte-identical.
 */
public final class Redactor {

  public static final String REPLACEMENT = "[REDACTED]";

  /**
   * A secret pattern, and lowercase texts of which the value must hold one for it to match (compared ignoring case);
   * the texts are looked for first, because a plain search costs much less than the pattern's. Where the pattern
   * has a group named {@code secret}, only that group is replaced (the name before it stays readable).
   */
  private record ValueRule(Pattern pattern, List<String> mustContainOne) {
    boolean mayMatch(String lowercase) {
      if (mustContainOne == null) {
        return true;
      }
      for (String text : mustContainOne) {
        if (lowercase.contains(text)) {
          return true;
        }
      }
      return false;
    }

    String redact(String text) {
      if (!pattern.pattern().contains("(?<secret>")) {
        return pattern.matcher(text).replaceAll(REPLACEMENT);
      }
      Matcher match = pattern.matcher(text);
      StringBuilder redacted = new StringBuilder();
      while (match.find()) {
        match.appendReplacement(redacted, Matcher.quoteReplacement(text.substring(match.start(), match.start("secret"))
            + REPLACEMENT + text.substring(match.end("secret"), match.end())));
      }
      return match.appendTail(redacted).toString();
    }
  }

  private static ValueRule rule(String pattern, String... mustContainOne) {
    return new ValueRule(Pattern.compile(pattern), List.of(mustContainOne));
  }

  private static final List<ValueRule> DEFAULT_VALUE_RULES = List.of(
      // OpenAI keys (sk-..., sk-proj-...) and Anthropic keys (sk-ant-...).
      rule("(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}", "sk-"),
      // Google API keys.
      rule("(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}", "aiza"),
      // AWS access key ids.
      rule("(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])",
          "a3t", "akia", "asia", "abia", "acca"),
      // GitHub tokens: classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained (github_pat_).
      rule("(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,})",
          "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
      // Slack tokens.
      rule("(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9-]{10,}", "xox"),
      // Stripe secret and restricted keys.
      rule("(?<![A-Za-z0-9])[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", "_live_", "_test_"),
      // JSON web tokens.
      rule("(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}", "eyj"),
      // PEM private keys, whole.
      rule("-----BEGIN[A-Z ]* PRIVATE KEY-----[\\s\\S]*?-----END[A-Z ]* PRIVATE KEY-----", "private key"),
      // Bearer tokens; the token must hold a digit or an inner separator, so prose ("the bearer of") survives.
      rule("(?i)\\bbearer\\s+(?=[a-z0-9._~+/-]*[0-9._~+/-][a-z0-9])[a-z0-9._~+/-]*[a-z0-9]=*", "bearer"),
      // `password=hunter2`, `api_key: "k3y..."` in text: the value must hold a digit or a symbol, so prose survives.
      rule("(?i)\\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|client[_-]?secret|auth[_-]?token"
          + "|access[_-]?token)[\"']?\\s*[:=]\\s*[\"']?(?<secret>(?=[^\\s\"']*[0-9_!@#$%^&*+/=-])[^\\s\"',;]{6,})",
          "pass", "pwd", "secret", "key", "token"));

  private static final List<String> SECRET_FIELD_NAME_PARTS =
      List.of("api_key", "apikey", "api-key", "secret", "password", "authorization");

  private final List<ValueRule> valueRules;
  private final Set<String> userFieldNames;
  /** Lowercase texts of which a message must hold one to hold a secret; null when a user pattern allows no test. */
  private final List<String> secretTexts;
  /** The same texts, looked for in a message's bytes; null when they cannot be (see {@link TextSearch#of}). */
  private final TextSearch secretTextSearch;

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
    boolean everyRuleHasTexts = valueRules.stream().allMatch(rule -> rule.mustContainOne() != null);
    valueRules.stream().filter(rule -> rule.mustContainOne() != null).forEach(rule -> texts.addAll(rule.mustContainOne()));
    this.secretTexts = everyRuleHasTexts ? List.copyOf(texts) : null;
    this.secretTextSearch = everyRuleHasTexts ? TextSearch.of(secretTexts) : null;
  }

  /** Only the default rules. */
  public static Redactor defaults() {
    return new Redactor(List.of(), List.of());
  }

  /** A redacted deep copy. */
  public ObjectNode redact(ObjectNode json) {
    return (ObjectNode) redactNode(json, false);
  }

  /**
   * The cassette with its canonical request (both forms) and every event redacted; the key stays as it was. A take whose events
   * had to change is marked {@link Cassette.Take#redacted()}: its replay is not what the provider sent.
   */
  public Cassette redact(Cassette cassette) {
    List<Cassette.Take> takes = cassette.takes().stream().map(take -> {
      List<ChatEvent> events = take.events().stream().map(event -> redact(event)).toList();
      return new Cassette.Take(events, take.offsetsMillis(), take.redacted() || !events.equals(take.events()),
          take.embedding(), take.tokenCount());
    }).toList();
    return new Cassette(cassette.formatVersion(), cassette.key(), redact(cassette.request()),
        cassette.normalizedRequest().map(this::redact), cassette.servedBy(), takes);
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
    // Strings and map keys are in the encoding as they are (UTF-8); field names are not.
    return secretTextSearch == null || secretTextSearch.foundIn(encoded);
  }

  /**
   * Whether bytes hold one of some lowercase ASCII texts, ignoring ASCII case, in one pass: a position is compared
   * with the texts only where its two bytes begin one of them (a bit set of those pairs), where a search per text
   * would read the bytes once per text.
   */
  private static final class TextSearch {
    /** Each byte, with ASCII upper case made lower. */
    private static final int[] LOWER = new int[256];

    static {
      for (int b = 0; b < 256; b++) {
        LOWER[b] = b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b;
      }
    }

    /** The bytes of the texts, by their first two (a pair); read only where {@link #pairs} has the pair. */
    private final byte[][][] textsByPair = new byte[1 << 16][][];
    /** Which pairs begin a text, as bits: small enough to stay in the CPU's cache while bytes are scanned. */
    private final long[] pairs = new long[(1 << 16) / Long.SIZE];

    private TextSearch(List<String> texts) {
      for (String text : texts) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        int pair = LOWER[bytes[0]] << 8 | LOWER[bytes[1]];
        pairs[pair >>> 6] |= 1L << pair;
        byte[][] same = textsByPair[pair] == null ? new byte[0][] : textsByPair[pair];
        textsByPair[pair] = Arrays.copyOf(same, same.length + 1);
        textsByPair[pair][same.length] = bytes;
      }
    }

    /** The search, or null when a text is not lowercase ASCII or is shorter than a pair (a user's field name). */
    static TextSearch of(List<String> texts) {
      boolean searchable = texts.stream().allMatch(text -> text.length() >= 2
          && text.chars().allMatch(c -> c < 0x80 && !Character.isUpperCase(c)));
      return searchable ? new TextSearch(texts) : null;
    }

    boolean foundIn(byte[] bytes) {
      int pair = bytes.length == 0 ? 0 : LOWER[bytes[0] & 0xff];
      for (int i = 1; i < bytes.length; i++) {
        pair = (pair << 8 | LOWER[bytes[i] & 0xff]) & 0xffff;
        if ((pairs[pair >>> 6] & 1L << pair) != 0 && startsAt(bytes, i - 1, pair)) {
          return true;
        }
      }
      return false;
    }

    private boolean startsAt(byte[] bytes, int start, int pair) {
      for (byte[] text : textsByPair[pair]) {
        if (text.length <= bytes.length - start && startsAt(bytes, start, text)) {
          return true;
        }
      }
      return false;
    }

    private static boolean startsAt(byte[] bytes, int start, byte[] text) {
      for (int j = 0; j < text.length; j++) {
        if (LOWER[bytes[start + j] & 0xff] != text[j]) {
          return false;
        }
      }
      return true;
    }
  }

  private boolean mayHoldSecret(String lowercase) {
    if (secretTexts == null) {
      return true;
    }
    for (String text : secretTexts) {
      if (lowercase.contains(text)) {
        return true;
      }
    }
    return false;
  }

  /** @param definesSchemaProperties whether the node is a JSON schema's `properties`, whose keys name no values */
  private JsonNode redactNode(JsonNode node, boolean definesSchemaProperties) {
    if (node.isObject()) {
      ObjectNode copy = JsonNodeFactory.instance.objectNode();
      for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
        Map.Entry<String, JsonNode> field = fields.next();
        boolean secret = !definesSchemaProperties && isSecretFieldName(field.getKey()) && !field.getValue().isNull();
        copy.set(field.getKey(), secret ? TextNode.valueOf(REPLACEMENT)
            : redactNode(field.getValue(), field.getKey().equals("properties") && field.getValue().isObject()));
      }
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = JsonNodeFactory.instance.arrayNode();
      node.forEach(element -> copy.add(redactNode(element, false)));
      return copy;
    }
    // Other value nodes are immutable, so sharing them still makes a deep copy.
    return node.isTextual() ? TextNode.valueOf(redactString(node.textValue())) : node;
  }

  /** A string value: JSON inside it (a tool call's arguments) is redacted as JSON, other text by the patterns. */
  private String redactString(String text) {
    String lowercase = text.toLowerCase(Locale.ROOT);
    if (!mayHoldSecret(lowercase)) {
      return text;
    }
    String stripped = text.strip();
    if (stripped.startsWith("{") || stripped.startsWith("[")) {
      try {
        JsonNode inner = Json.MAPPER.readTree(stripped);
        if (inner != null && inner.isContainerNode()) {
          JsonNode redacted = redactNode(inner, false);
          return redacted.equals(inner) ? text : Json.MAPPER.writeValueAsString(redacted);
        }
      } catch (JsonProcessingException notJson) {
        // Text that merely starts like JSON: the patterns below apply.
      }
    }
    return redactText(text);
  }

  /** The text with every match of a secret pattern replaced (the field-name rules need JSON: see the others). */
  public String redactText(String text) {
    if (text.isEmpty()) {
      return text;
    }
    String lowercase = text.toLowerCase(Locale.ROOT);
    String redacted = text;
    for (ValueRule rule : valueRules) {
      if (rule.mayMatch(lowercase)) {
        redacted = rule.redact(redacted);
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
