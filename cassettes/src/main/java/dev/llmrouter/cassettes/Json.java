package dev.llmrouter.cassettes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The one JSON setup of this module: a Jackson mapper, protobuf JSON in both directions, and sha256. */
final class Json {

  /**
   * Writes doubles with Jackson's own shortest-representation writer, so the bytes (and thus cassette keys) do
   * not depend on the JDK's {@code Double.toString}; rejects duplicate keys and trailing garbage when reading.
   */
  static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  private Json() {
  }

  /** The protobuf JSON form of a message (snake_case names, default values absent) as a Jackson tree. */
  static ObjectNode toTree(MessageOrBuilder message) {
    try {
      return (ObjectNode) MAPPER.readTree(PRINTER.print(message));
    } catch (InvalidProtocolBufferException | JsonProcessingException e) {
      // Printing fails only for google.protobuf.Any, which the API does not use.
      throw new IllegalStateException("cannot convert " + message.getDescriptorForType().getFullName()
          + " to JSON", e);
    }
  }

  /** Parses a protobuf JSON tree into the given builder, which it returns. */
  static <B extends Message.Builder> B fromTree(JsonNode tree, B builder) throws InvalidProtocolBufferException {
    PARSER.merge(compactString(tree), builder);
    return builder;
  }

  static String compactString(JsonNode tree) {
    try {
      return MAPPER.writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a Jackson tree always serialises", e);
    }
  }

  static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM provides SHA-256", e);
    }
  }
}
