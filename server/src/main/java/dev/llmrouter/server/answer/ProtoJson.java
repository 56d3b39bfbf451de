package dev.llmrouter.server.answer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.Map;

/** Converts between protobuf {@link Struct} values and Jackson trees, as adapters build provider JSON from them. */
public final class ProtoJson {

  public static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private ProtoJson() {
  }

  public static ObjectNode toJson(Struct struct) {
    ObjectNode node = NODES.objectNode();
    for (Map.Entry<String, Value> field : struct.getFieldsMap().entrySet()) {
      node.set(field.getKey(), toJson(field.getValue()));
    }
    return node;
  }

  public static JsonNode toJson(Value value) {
    return switch (value.getKindCase()) {
      case STRUCT_VALUE -> toJson(value.getStructValue());
      case LIST_VALUE -> {
        ArrayNode array = NODES.arrayNode();
        value.getListValue().getValuesList().forEach(v -> array.add(toJson(v)));
        yield array;
      }
      case STRING_VALUE -> NODES.textNode(value.getStringValue());
      case BOOL_VALUE -> NODES.booleanNode(value.getBoolValue());
      // Struct has only doubles; whole numbers go out as integers (`"minimum": 1`, not `1.0`).
      case NUMBER_VALUE -> {
        double d = value.getNumberValue();
        yield d == Math.rint(d) && Math.abs(d) < 1e15 ? NODES.numberNode((long) d) : NODES.numberNode(d);
      }
      default -> NODES.nullNode();
    };
  }

  public static Struct toStruct(JsonNode object) {
    Struct.Builder struct = Struct.newBuilder();
    object.fields().forEachRemaining(f -> struct.putFields(f.getKey(), toValue(f.getValue())));
    return struct.build();
  }

  public static Value toValue(JsonNode node) {
    if (node.isObject()) {
      return Value.newBuilder().setStructValue(toStruct(node)).build();
    }
    if (node.isArray()) {
      ListValue.Builder list = ListValue.newBuilder();
      node.forEach(item -> list.addValues(toValue(item)));
      return Value.newBuilder().setListValue(list).build();
    }
    if (node.isNumber()) {
      return Value.newBuilder().setNumberValue(node.asDouble()).build();
    }
    if (node.isBoolean()) {
      return Value.newBuilder().setBoolValue(node.asBoolean()).build();
    }
    if (node.isNull()) {
      return Value.newBuilder().setNullValue(com.google.protobuf.NullValue.NULL_VALUE).build();
    }
    return Value.newBuilder().setStringValue(node.asText()).build();
  }
}
