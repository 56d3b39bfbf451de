package dev.llmrouter.cassettes;

import static dev.llmrouter.cassettes.Fixtures.userRequest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.EmbedTaskType;
import dev.llmrouter.api.v1.Embedding;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.Usage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Embedding calls in cassettes: a key of their own kind over the model, the inputs in order and the options (not the
 * metadata), and vectors stored as base64 of little-endian float32, so that a replayed vector is the recorded one to
 * the bit.
 */
class EmbeddingCassetteTest {

  private static final Path PATH = Path.of("cassettes", "default", "0123456789abcdef.json");
  /** Floats that a decimal round trip or a careless copy would change: signed zero, a NaN payload, a subnormal. */
  private static final float[] AWKWARD = {-0.0f, Float.intBitsToFloat(0x7fc01234), Float.MIN_VALUE, Float.MAX_VALUE,
      1f / 3, -0.016099498f, Float.NEGATIVE_INFINITY};

  private static EmbedRequest request(String... texts) {
    EmbedRequest.Builder request = EmbedRequest.newBuilder().setModel("openai/text-embedding-3-small");
    for (String text : texts) {
      request.addInputs(EmbedInput.newBuilder().setText(text));
    }
    return request.build();
  }

  private static String key(EmbedRequest request) {
    return CanonicalEmbedRequest.of(request).key();
  }

  @Test
  void theOrderOfTheInputsIsInTheKey() {
    assertNotEquals(key(request("cat", "dog")), key(request("dog", "cat")));
    assertNotEquals(key(request("cat")), key(request("cat", "cat")));
  }

  @Test
  void everyOptionIsInTheKey() {
    EmbedRequest plain = request("cat");
    List<EmbedRequest> variants = List.of(plain,
        plain.toBuilder().setModel("openai/text-embedding-3-large").build(),
        plain.toBuilder().setDimensions(256).build(),
        plain.toBuilder().setDimensions(512).build(),
        plain.toBuilder().setTaskType(EmbedTaskType.EMBED_TASK_TYPE_SEARCH_QUERY).build(),
        plain.toBuilder().setTaskType(EmbedTaskType.EMBED_TASK_TYPE_SEARCH_DOCUMENT).build(),
        plain.toBuilder().setDropUnsupportedSettings(true).build());
    assertEquals(variants.size(), variants.stream().map(EmbeddingCassetteTest::key).distinct().count());
  }

  @Test
  void metadataIsNotInTheKey() {
    EmbedRequest plain = request("cat");
    EmbedRequest tagged = plain.toBuilder().putMetadata("trace-id", "abc123").putMetadata("user", "ann").build();

    assertEquals(key(plain), key(tagged));
    assertFalse(CanonicalEmbedRequest.of(tagged).json().has("metadata"));
  }

  @Test
  void anEmbeddingKeyIsOfItsOwnKind() {
    CanonicalRequest embedding = CanonicalEmbedRequest.of(request("Hi"));
    CanonicalRequest chat = CanonicalRequest.of(userRequest("Hi"));

    assertEquals("{\"inputs\":[{\"text\":\"Hi\"}],\"kind\":\"embed\",\"model\":\"openai/text-embedding-3-small\"}",
        Json.compactString(embedding.json()));
    assertFalse(chat.json().has("kind"), "no chat request's canonical form has a kind");
  }

  @Test
  void imageDataIsKeyedByItsDigest() {
    EmbedRequest image = EmbedRequest.newBuilder().setModel("cohere/embed-v4.0").addInputs(EmbedInput.newBuilder()
        .setImage(Image.newBuilder().setMimeType("image/png").setData(ByteString.copyFromUtf8("png bytes")))).build();

    String data = CanonicalEmbedRequest.of(image).json().path("inputs").get(0).path("image").path("data").asText();
    assertEquals("sha256:" + Json.sha256Hex("png bytes".getBytes(StandardCharsets.UTF_8)), data);
    assertNotEquals(key(image), key(image.toBuilder().setInputs(0, EmbedInput.newBuilder().setImage(Image.newBuilder()
        .setMimeType("image/png").setData(ByteString.copyFromUtf8("other bytes")))).build()));
  }

  @Test
  void vectorsRoundTripToTheBit() throws Exception {
    Cassette cassette = embeddingCassette(request("cat", "dog"), vector(AWKWARD), vector(2.5f, -1f));

    byte[] written = CassetteCodec.write(cassette);
    Cassette read = CassetteCodec.read(written, PATH);

    assertEquals(cassette.takes().get(0).embedding(), read.takes().get(0).embedding());
    Embedding replayed = read.takes().get(0).embedding().orElseThrow().getEmbeddings(0);
    for (int i = 0; i < AWKWARD.length; i++) {
      assertEquals(Float.floatToRawIntBits(AWKWARD[i]), Float.floatToRawIntBits(replayed.getValues(i)), "value " + i);
    }
    assertArrayEquals(written, CassetteCodec.write(read), "the same cassette gives the same bytes");
  }

  @Test
  void theFileHoldsTheVectorsAsBase64OfLittleEndianFloats() {
    Cassette cassette = embeddingCassette(request("cat"), vector(1f, -2f));

    String file = new String(CassetteCodec.write(cassette), StandardCharsets.UTF_8);

    String expected = """
          "takes": [
            {
              "embedding": {
                "model": "text-embedding-3-small",
                "provider": "openai",
                "usage": {
                  "input_tokens": "1"
                },
                "vectors": [
                  "AACAPwAAAMA="
                ]
              }
            }
          ]
        }
        """;
    assertTrue(file.endsWith(expected), file);
  }

  @Test
  void aVectorThatIsNotWholeFloatsIsCorruptNamingWhere() {
    String file = new String(CassetteCodec.write(embeddingCassette(request("cat"), vector(1f))),
        StandardCharsets.UTF_8).replace("\"AACAPw==\"", "\"AACAPwA=\"");

    CorruptCassetteException e = assertThrows(CorruptCassetteException.class,
        () -> CassetteCodec.read(file.getBytes(StandardCharsets.UTF_8), PATH));
    assertTrue(e.getMessage().contains("\"takes[0].embedding\" is not a valid embedding: a vector of 5 bytes"),
        e.getMessage());
  }

  @Test
  void aStoredEmbeddingCassetteVerifiesAndKeepsItsVectorsThroughRedaction(@TempDir Path dir) throws Exception {
    String secret = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789";
    CassetteStore store = new CassetteStore(dir, 1 << 20, Redactor.defaults());
    Cassette cassette = embeddingCassette(request("my key is " + secret), vector(AWKWARD));

    store.write("default", cassette);

    String file = Files.readString(store.pathOf("default", cassette.key()));
    assertFalse(file.contains(secret), "the input was redacted");
    Cassette stored = store.load("default", cassette.key()).orElseThrow();
    assertEquals(cassette.takes().get(0).embedding(), stored.takes().get(0).embedding());
    CassetteVerifier.Report report = CassetteVerifier.verify(new CassetteStore(dir, 1 << 20, Redactor.defaults()));
    assertEquals(0, report.problems(), report.findings().toString());
  }

  private static Embedding vector(float... values) {
    Embedding.Builder embedding = Embedding.newBuilder();
    for (float value : values) {
      embedding.addValues(value);
    }
    return embedding.build();
  }

  private static Cassette embeddingCassette(EmbedRequest request, Embedding... vectors) {
    EmbedResponse response = EmbedResponse.newBuilder().setModel("text-embedding-3-small").setProvider("openai")
        .setUsage(Usage.newBuilder().setInputTokens(1)).addAllEmbeddings(List.of(vectors)).build();
    return Cassette.of(CanonicalEmbedRequest.of(request), new Cassette.ServedBy("openai", "text-embedding-3-small"),
        List.of(Cassette.Take.of(response)));
  }
}
