package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.llmrouter.server.testing.RouterWithUpstream;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official `openai` SDK's `embeddings.create` (pinned in `src/test/node/sdks`) against the real router's
 * `POST /v1/embeddings`, changing nothing but its base URL: the SDK's default (it asks for base64 and decodes it),
 * `encoding_format: "float"` and `"base64"`, all giving the upstream's floats to the bit; the SDK's typed errors; a
 * recording replayed with the upstream gone.
 */
class OpenAiEmbeddingsSdkTest {

  private static final String FILE = "openai-embeddings.mjs";
  private static final String MODEL = "openai/text-embedding-3-small";
  /** Floats a careless decimal round trip would change (not -0: JavaScript's JSON.stringify writes it as 0). */
  private static final float[] VECTOR = {Float.MIN_VALUE, 1f / 3, -0.016099498f, 3.4028235e38f, 0.1f, 7e-45f};

  @TempDir
  Path cassettes;
  private RouterWithUpstream setup;

  @BeforeAll
  static void install() {
    NodeSdks.install();
  }

  @BeforeEach
  void start() {
    setup = RouterWithUpstream.start("""
        cassettes: { dir: "%s", mode: "off", allow_mode_override: true }
        providers:
          - { name: openai, type: openai, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
          - { name: anthropic, type: anthropic, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
        """.formatted(cassettes));
    setup.upstream().answer(r -> {
      int inputs = new JsonObject(setup.upstream().lastRequest().body()).getJsonArray("input").size();
      JsonArray data = new JsonArray();
      for (int i = 0; i < inputs; i++) {
        data.add(new JsonObject().put("object", "embedding").put("index", i).put("embedding", base64(VECTOR)));
      }
      r.response().putHeader("content-type", "application/json").end(new JsonObject().put("object", "list")
          .put("data", data).put("model", "text-embedding-3-small")
          .put("usage", new JsonObject().put("prompt_tokens", 4).put("total_tokens", 4)).encode());
    });
  }

  @AfterEach
  void stop() throws Exception {
    setup.close();
  }

  private JsonObject run(JsonObject arguments) {
    return NodeSdks.run(FILE, "create", setup.router().port(), arguments);
  }

  private static JsonObject embed(Object input) {
    return new JsonObject().put("model", MODEL).put("input", input);
  }

  @Test
  void theSdksDefaultBase64IsDecodedToTheUpstreamsFloats() {
    JsonObject result = result(run(embed(new JsonArray().add("The food was delicious").add("The waiter"))));

    assertEquals("list", result.getString("object"));
    assertEquals("text-embedding-3-small", result.getString("model"));
    assertEquals(4, result.getJsonObject("usage").getInteger("prompt_tokens"));
    JsonArray data = result.getJsonArray("data");
    assertEquals(2, data.size());
    assertEquals(bits(VECTOR), bits(data.getJsonObject(1).getJsonArray("embedding")));
    assertEquals(1, data.getJsonObject(1).getInteger("index"));
  }

  @Test
  void floatAndBase64AreExactToo() {
    JsonObject floats = result(run(embed("Hello").put("request", new JsonObject().put("encoding_format", "float"))));
    assertEquals(bits(VECTOR), bits(floats.getJsonArray("data").getJsonObject(0).getJsonArray("embedding")));

    JsonObject base64 = result(run(embed("Hello").put("request", new JsonObject().put("encoding_format", "base64"))));
    assertEquals(base64(VECTOR), base64.getJsonArray("data").getJsonObject(0).getString("embedding"));

    JsonObject shortened = result(run(embed("Hello").put("request", new JsonObject().put("dimensions", 6))));
    assertFalse(shortened.getJsonArray("data").isEmpty());
    assertEquals(6, new JsonObject(setup.upstream().lastRequest().body()).getInteger("dimensions"));
  }

  @Test
  void aRecordingReplaysIdenticallyWithTheUpstreamGone() {
    JsonObject input = embed(new JsonArray().add("cat").add("dog"));
    JsonObject recorded = result(run(input.copy().put("headers", new JsonObject().put("x-cassette-mode", "record"))));
    setup.upstream().close();
    JsonObject replayed = result(run(input.copy().put("headers", new JsonObject().put("x-cassette-mode", "replay"))));

    assertEquals(recorded, replayed);
    assertEquals(bits(VECTOR), bits(replayed.getJsonArray("data").getJsonObject(0).getJsonArray("embedding")));
  }

  @Test
  void errorsBecomeTheSdksTypedErrors() {
    JsonObject notFound = run(embed("Hi").put("model", "nobody/x")).getJsonObject("error");
    assertEquals("NotFoundError", notFound.getString("class"), notFound::encode);

    JsonObject cannotEmbed = run(embed("Hi").put("model", "anthropic/claude-haiku-4-5")).getJsonObject("error");
    assertEquals("BadRequestError", cannotEmbed.getString("class"), cannotEmbed::encode);
    assertEquals(400, cannotEmbed.getInteger("status"));

    JsonObject tokens = run(embed(new JsonArray().add(1).add(2))).getJsonObject("error");
    assertEquals("BadRequestError", tokens.getString("class"), tokens::encode);
    assertEquals(0, setup.upstream().received().size(), "nothing was sent upstream");
  }

  private static JsonObject result(JsonObject run) {
    assertFalse(run.containsKey("error"), run::encode);
    return run.getJsonObject("result");
  }

  /** The float bits of numbers the SDK printed (a float32 widened to a double, written in full). */
  private static List<Integer> bits(JsonArray numbers) {
    List<Integer> bits = new ArrayList<>();
    for (int i = 0; i < numbers.size(); i++) {
      bits.add(Float.floatToRawIntBits(((Number) numbers.getValue(i)).floatValue()));
    }
    return bits;
  }

  private static List<Integer> bits(float[] values) {
    List<Integer> bits = new ArrayList<>();
    for (float value : values) {
      bits.add(Float.floatToRawIntBits(value));
    }
    return bits;
  }

  private static String base64(float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float value : values) {
      bytes.putFloat(value);
    }
    return Base64.getEncoder().encodeToString(bytes.array());
  }
}
