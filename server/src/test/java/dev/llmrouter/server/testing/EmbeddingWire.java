package dev.llmrouter.server.testing;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmrouter.api.v1.EmbedRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * What the embedding conformance suite needs to know about one host's embeddings wire format, written on the test
 * side and independently of the adapter: which recorded exchanges exist, what each recorded answer says the vectors
 * are (to the bit), which {@link EmbedRequest} makes the adapter send a recorded request, and how to check what it
 * sent.
 */
public interface EmbeddingWire {

  /** Reads numbers as their exact decimals, so that an expected float is the decimal's own nearest float. */
  ObjectMapper EXACT_JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  /**
   * What the caller must receive for a recorded successful answer.
   *
   * @param vectors each vector's values as their float bits ({@link Float#floatToRawIntBits})
   * @param model the model the answer names
   * @param inputTokens the input tokens reported, or null when the host reports none
   */
  record Answer(List<List<Integer>> vectors, String model, Long inputTokens) {
  }

  /** The adapter's provider type, as in config (`openai`). */
  String type();

  /** The folders of recorded exchanges: this project's own samples and the shared corpus use the same names. */
  List<String> folders();

  /** Whether an exchange is an embeddings call: a host's folder may also hold its chat exchanges. */
  default boolean speaks(WireExchange exchange) {
    return true;
  }

  /** The `providers:` entries this wire needs, pointing at the mock upstream's base URL. */
  String providersYaml(String baseUrl);

  /** The configured provider name that serves an exchange. */
  String providerFor(WireExchange exchange);

  Answer answerOf(WireExchange exchange);

  /** The provider's own error message in a recorded error response. */
  String errorMessageOf(WireExchange exchange);

  /** The request a caller sends to make the adapter send the recorded one. */
  EmbedRequest requestFor(WireExchange exchange);

  /** Asserts the adapter's upstream request (path, credentials, body) matches the recording. */
  void assertSent(WireExchange exchange, MockUpstream.Received sent);

  /** A JSON text read with exact decimals. */
  static JsonNode readExact(String json) {
    try {
      return EXACT_JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A vector's float bits: from an array of decimals (each the nearest float to its exact decimal), or from base64 of
   * little-endian float32.
   */
  static List<Integer> bitsOf(JsonNode vector) {
    List<Integer> bits = new ArrayList<>();
    if (vector.isTextual()) {
      ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(vector.textValue()))
          .order(ByteOrder.LITTLE_ENDIAN);
      while (bytes.hasRemaining()) {
        bits.add(Float.floatToRawIntBits(bytes.getFloat()));
      }
    } else {
      vector.forEach(value -> bits.add(Float.floatToRawIntBits(Float.parseFloat(value.decimalValue().toString()))));
    }
    return bits;
  }
}
