package dev.llmrouter.cassettes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.ToolCall;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The canonical form of a {@link ChatRequest} and its cassette key: everything that shapes the answer (model as the
 * caller named it, messages, tools, tool choice, parallel tool calls, response format, settings) and nothing else
 * (not the metadata, nor `skip_context_check`, a check made before any cassette). Object keys are sorted, numbers have one form, tool-call ids are renumbered and binary data is
 * replaced by its sha256, so equivalent requests get the same key.
 *
 * <p>Match rules ({@link #normalizedBy}) may normalize the canonical form before it is keyed: the key is then the
 * key of the normalized form, and the form as requested stays readable beside it.
 *
 * <p>`drop_unsupported_settings` is in the key when true (and, like every unset field, absent when false, so keys
 * recorded before it existed stand): it changes what is sent upstream, and a replay must not answer a request that
 * live would refuse for a setting the model cannot honour.
 */
public final class CanonicalRequest {

  /** Integral doubles up to 2^53 are exact as longs; beyond that a double is kept as a double. */
  private static final double LARGEST_EXACT_INTEGER = 0x1p53;
  private static final List<String> BINARY_PART_KINDS = List.of("image", "document");

  private final ObjectNode json;
  private final ObjectNode normalized;
  private final List<MatchRule> appliedRules;
  private final String key;

  /** A request already in canonical form (see {@link #canonical}), no match rule applied; its key is computed here. */
  CanonicalRequest(ObjectNode json) {
    this(json, json, List.of());
  }

  private CanonicalRequest(ObjectNode json, ObjectNode normalized, List<MatchRule> appliedRules) {
    this.json = json;
    this.normalized = normalized;
    this.appliedRules = List.copyOf(appliedRules);
    this.key = keyOf(normalized);
  }

  public static CanonicalRequest of(ChatRequest request) {
    return new CanonicalRequest(canonicalJson(request));
  }

  /** The canonical form of a request, before any match rule. */
  static ObjectNode canonicalJson(ChatRequest request) {
    ObjectNode json = Json.toTree(withRenumberedToolCallIds(request.toBuilder().clearMetadata()
        .clearSkipContextCheck()));
    replaceBinaryDataByDigest(json);
    return (ObjectNode) canonical(json);
  }

  /**
   * The request with the rules applied in order, keyed on what they made of it; this request itself when no rule
   * changed anything.
   */
  public CanonicalRequest normalizedBy(List<MatchRule> rules) {
    if (rules.isEmpty()) {
      return this;
    }
    ObjectNode normalizedJson = normalized.deepCopy();
    List<MatchRule> applied = rules.stream().filter(rule -> rule.applyTo(normalizedJson)).toList();
    return applied.isEmpty() ? this : new CanonicalRequest(json, normalizedJson, appliedRules(applied));
  }

  private List<MatchRule> appliedRules(List<MatchRule> more) {
    List<MatchRule> all = new ArrayList<>(appliedRules);
    all.addAll(more);
    return all;
  }

  /** The canonical form as requested, before any match rule (a copy). */
  public ObjectNode json() {
    return json.deepCopy();
  }

  /** The form the key is computed on: {@link #json()} with the match rules applied (a copy). */
  public ObjectNode normalizedJson() {
    return normalized.deepCopy();
  }

  /** The match rules that changed the request, in the order they applied; empty when the key is of the request as is. */
  public List<MatchRule> appliedRules() {
    return appliedRules;
  }

  /** Lowercase hex sha256 of the compact UTF-8 normalized canonical JSON. */
  public String key() {
    return key;
  }

  /**
   * The key of a request already in canonical form, such as a cassette's stored {@code request}: lowercase hex
   * sha256 of its compact UTF-8 JSON.
   */
  public static String keyOf(ObjectNode canonicalJson) {
    return Json.sha256Hex(Json.compactString(canonicalJson).getBytes(StandardCharsets.UTF_8));
  }

  /** The first 16 hex characters of the key: the cassette's file name. */
  public String shortKey() {
    return key.substring(0, 16);
  }

  /** Whether the text has the form of a key: 64 lowercase hex characters. */
  static boolean isKey(String text) {
    if (text.length() != 64) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) { // a loop, not a regular expression: this runs on every lookup
      char c = text.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return key;
  }

  /** Upstream tool-call ids are random, so the history names them {@code call_1, call_2, ...} by first use. */
  private static ChatRequest.Builder withRenumberedToolCallIds(ChatRequest.Builder request) {
    Map<String, String> renumbered = new HashMap<>();
    for (Message.Builder message : request.getMessagesBuilderList()) {
      for (ToolCall.Builder call : message.getToolCallsBuilderList()) {
        call.setId(renumber(call.getId(), renumbered));
      }
      message.setToolCallId(renumber(message.getToolCallId(), renumbered));
    }
    return request;
  }

  private static String renumber(String id, Map<String, String> renumbered) {
    return id.isEmpty() ? id : renumbered.computeIfAbsent(id, unused -> "call_" + (renumbered.size() + 1));
  }

  /** Inline images and documents would bloat the cassette: their base64 data becomes {@code sha256:<hex>}. */
  private static void replaceBinaryDataByDigest(ObjectNode request) {
    for (JsonNode message : request.path("messages")) {
      for (JsonNode part : message.path("parts")) {
        for (String kind : BINARY_PART_KINDS) {
          replaceDataByDigest(part.path(kind));
        }
      }
    }
  }

  /** Replaces the base64 {@code data} of an image or document (when it has some) by {@code sha256:<hex>}. */
  static void replaceDataByDigest(JsonNode binary) {
    if (binary.has("data")) {
      byte[] data = Base64.getDecoder().decode(binary.get("data").textValue());
      ((ObjectNode) binary).put("data", "sha256:" + Json.sha256Hex(data));
    }
  }

  /** A copy with object keys sorted at every level and every number in its canonical form. */
  static JsonNode canonical(JsonNode node) {
    if (node.isObject()) {
      TreeSet<String> names = new TreeSet<>();
      node.fieldNames().forEachRemaining(names::add);
      ObjectNode sorted = JsonNodeFactory.instance.objectNode();
      for (String name : names) {
        sorted.set(name, canonical(node.get(name)));
      }
      return sorted;
    }
    if (node.isArray()) {
      ArrayNode array = JsonNodeFactory.instance.arrayNode();
      node.forEach(element -> array.add(canonical(element)));
      return array;
    }
    return node.isNumber() ? canonicalNumber(node) : node;
  }

  /** Integral values become integers (1.0 -> 1), other values doubles; node types match what a parser builds. */
  private static JsonNode canonicalNumber(JsonNode number) {
    if (number.isIntegralNumber()) {
      return number.canConvertToLong() ? integer(number.longValue()) : number;
    }
    double value = number.doubleValue();
    boolean exactInteger = value == Math.rint(value) && Math.abs(value) <= LARGEST_EXACT_INTEGER;
    return exactInteger ? integer((long) value) : DoubleNode.valueOf(value);
  }

  private static JsonNode integer(long value) {
    return value == (int) value ? IntNode.valueOf((int) value) : LongNode.valueOf(value);
  }
}
