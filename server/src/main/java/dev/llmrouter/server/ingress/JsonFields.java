package dev.llmrouter.server.ingress;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.rpc.BadRequest;
import dev.llmrouter.server.answer.CallError;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Typed reads of a caller's JSON body, each naming the field by its path (`messages[2].content`) when the value is
 * missing or of the wrong type: the 400 a dialect sends then says exactly what to fix.
 */
public final class JsonFields {

  private JsonFields() {
  }

  /** INVALID_ARGUMENT naming {@code field}. */
  public static CallError invalid(String field, String description) {
    return CallError.badRequest(BadRequest.newBuilder().addFieldViolations(BadRequest.FieldViolation.newBuilder()
        .setField(field).setDescription(description)).build());
  }

  /** The body as an object. */
  public static ObjectNode object(JsonNode node, String field) {
    if (node == null || !node.isObject()) {
      throw invalid(field, "must be a JSON object, not " + typeOf(node));
    }
    return (ObjectNode) node;
  }

  /** Refuses any field of {@code object} not in {@code known}, naming it and the fields this dialect reads. */
  public static void onlyKnown(ObjectNode object, String at, Set<String> known) {
    Iterator<String> names = object.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!known.contains(name)) {
        throw invalid(path(at, name), "is not a field the router reads here (it knows " + known.stream().sorted()
            .toList() + "); remove it");
      }
    }
  }

  public static String path(String at, String field) {
    return at.isEmpty() ? field : at + "." + field;
  }

  public static boolean present(ObjectNode object, String field) {
    JsonNode value = object.get(field);
    return value != null && !value.isNull();
  }

  public static String requiredText(ObjectNode object, String field, String at) {
    return text(object, field, at).orElseThrow(() -> invalid(path(at, field), "is required"));
  }

  public static Optional<String> text(ObjectNode object, String field, String at) {
    JsonNode value = object.get(field);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isTextual()) {
      throw invalid(path(at, field), "must be a string, not " + typeOf(value));
    }
    return Optional.of(value.textValue());
  }

  public static ObjectNode requiredObject(ObjectNode object, String field, String at) {
    return optionalObject(object, field, at).orElseThrow(() -> invalid(path(at, field), "is required"));
  }

  public static Optional<ObjectNode> optionalObject(ObjectNode object, String field, String at) {
    JsonNode value = object.get(field);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    return Optional.of(object(value, path(at, field)));
  }

  /** The elements of an array field; empty when the field is absent. */
  public static List<JsonNode> array(ObjectNode object, String field, String at) {
    JsonNode value = object.get(field);
    if (value == null || value.isNull()) {
      return List.of();
    }
    if (!value.isArray()) {
      throw invalid(path(at, field), "must be an array, not " + typeOf(value));
    }
    List<JsonNode> elements = new ArrayList<>(value.size());
    value.forEach(elements::add);
    return elements;
  }

  public static Optional<Boolean> bool(ObjectNode object, String field, String at) {
    JsonNode value = object.get(field);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isBoolean()) {
      throw invalid(path(at, field), "must be true or false, not " + typeOf(value));
    }
    return Optional.of(value.booleanValue());
  }

  public static OptionalDouble number(ObjectNode object, String field, String at) {
    JsonNode value = object.get(field);
    if (value == null || value.isNull()) {
      return OptionalDouble.empty();
    }
    if (!value.isNumber()) {
      throw invalid(path(at, field), "must be a number, not " + typeOf(value));
    }
    return OptionalDouble.of(value.doubleValue());
  }

  public static OptionalLong integer(ObjectNode object, String field, String at, long min, long max) {
    JsonNode value = object.get(field);
    if (value == null || value.isNull()) {
      return OptionalLong.empty();
    }
    if (!value.isIntegralNumber() && !(value.isNumber() && value.doubleValue() == Math.rint(value.doubleValue()))) {
      throw invalid(path(at, field), "must be a whole number, not " + typeOf(value));
    }
    if (!value.canConvertToLong() || value.longValue() < min || value.longValue() > max) {
      throw invalid(path(at, field), "must be between " + min + " and " + max + ", not " + value);
    }
    return OptionalLong.of(value.longValue());
  }

  /** How an error message names the type of a value. */
  public static String typeOf(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "nothing";
    }
    return switch (node.getNodeType()) {
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      default -> node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    };
  }
}
