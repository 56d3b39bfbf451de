package dev.llmrouter.server.pipeline;

import com.google.protobuf.Struct;
import com.google.rpc.BadRequest.FieldViolation;
import com.google.protobuf.Value;
import java.util.Optional;
import java.util.Set;

/**
 * Checks that a JSON Schema is well formed enough to send to a provider: `type` names JSON types, `properties` and
 * `$defs` hold schemas, `required` lists strings, `items` is a schema. Returns the first problem with its path.
 */
final class JsonSchemaCheck {

  private static final Set<String> TYPES = Set.of("object", "array", "string", "number", "integer", "boolean", "null");

  private JsonSchemaCheck() {
  }

  static Optional<FieldViolation> problem(Struct schema, String path) {
    if (schema.containsFields("type")) {
      Value type = schema.getFieldsOrThrow("type");
      boolean valid = switch (type.getKindCase()) {
        case STRING_VALUE -> TYPES.contains(type.getStringValue());
        case LIST_VALUE -> type.getListValue().getValuesList().stream()
            .allMatch(v -> v.hasStringValue() && TYPES.contains(v.getStringValue()));
        default -> false;
      };
      if (!valid) {
        return violation(path + ".type", "must be one of " + TYPES + " (or a list of them)");
      }
    }
    for (String container : new String[] {"properties", "$defs", "definitions"}) {
      if (schema.containsFields(container)) {
        Value value = schema.getFieldsOrThrow(container);
        if (!value.hasStructValue()) {
          return violation(path + "." + container, "must be an object of schemas");
        }
        for (var entry : value.getStructValue().getFieldsMap().entrySet()) {
          Optional<FieldViolation> inner = subschema(entry.getValue(), path + "." + container + "." + entry.getKey());
          if (inner.isPresent()) {
            return inner;
          }
        }
      }
    }
    if (schema.containsFields("required")) {
      Value required = schema.getFieldsOrThrow("required");
      if (!required.hasListValue() || !required.getListValue().getValuesList().stream().allMatch(Value::hasStringValue)) {
        return violation(path + ".required", "must be a list of property names");
      }
    }
    if (schema.containsFields("items")) {
      Optional<FieldViolation> inner = subschema(schema.getFieldsOrThrow("items"), path + ".items");
      if (inner.isPresent()) {
        return inner;
      }
    }
    for (String combinator : new String[] {"anyOf", "oneOf", "allOf"}) {
      if (schema.containsFields(combinator)) {
        Value list = schema.getFieldsOrThrow(combinator);
        if (!list.hasListValue()) {
          return violation(path + "." + combinator, "must be a list of schemas");
        }
        for (int i = 0; i < list.getListValue().getValuesCount(); i++) {
          Optional<FieldViolation> inner = subschema(list.getListValue().getValues(i), path + "." + combinator + "[" + i + "]");
          if (inner.isPresent()) {
            return inner;
          }
        }
      }
    }
    return Optional.empty();
  }

  private static Optional<FieldViolation> violation(String field, String description) {
    return Optional.of(FieldViolation.newBuilder().setField(field).setDescription(description).build());
  }

  private static Optional<FieldViolation> subschema(Value value, String path) {
    if (value.hasBoolValue()) {
      return Optional.empty();
    }
    if (!value.hasStructValue()) {
      return violation(path, "must be a schema object");
    }
    return problem(value.getStructValue(), path);
  }
}
