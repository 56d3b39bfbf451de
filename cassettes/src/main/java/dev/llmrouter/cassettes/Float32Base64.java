package dev.llmrouter.cassettes;

import dev.llmrouter.api.v1.Embedding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Base64;

/**
 * A vector as base64 of its little-endian 32-bit floats: how a cassette stores an embedding (exact to the bit, and
 * about a third of the size of decimal text), and what OpenAI's `encoding_format: base64` sends and expects.
 */
public final class Float32Base64 {

  private Float32Base64() {
  }

  public static String encode(Embedding embedding) {
    ByteBuffer bytes = ByteBuffer.allocate(embedding.getValuesCount() * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < embedding.getValuesCount(); i++) {
      bytes.putFloat(embedding.getValues(i));
    }
    return Base64.getEncoder().encodeToString(bytes.array());
  }

  /** @throws IllegalArgumentException when the text is not base64 of a whole number of 4-byte floats */
  public static Embedding decode(String base64) {
    byte[] bytes = Base64.getDecoder().decode(base64);
    if (bytes.length % Float.BYTES != 0) {
      throw new IllegalArgumentException("a vector of " + bytes.length + " bytes is not a whole number of 32-bit "
          + "floats");
    }
    FloatBuffer floats = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    Embedding.Builder embedding = Embedding.newBuilder();
    while (floats.hasRemaining()) {
      embedding.addValues(floats.get());
    }
    return embedding.build();
  }
}
