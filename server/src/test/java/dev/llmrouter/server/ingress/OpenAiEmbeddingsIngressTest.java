package dev.llmrouter.server.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.EmbeddingServiceGrpc;
import dev.llmrouter.server.testing.EmbeddingWire;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.RouterWithUpstream;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `POST /v1/embeddings` in OpenAI's shape: vectors as numbers (the default) or as base64 of little-endian float32, both
 * exact; one input or several; `dimensions` passed on; usage; the cassette headers; one cassette for this door and
 * gRPC; bad requests refused in OpenAI's error shape before anything goes upstream.
 */
class OpenAiEmbeddingsIngressTest {

  private static final float[] VECTOR = {-0.0f, Float.MIN_VALUE, 1f / 3, -0.016099498f, 3.4028235e38f};

  @TempDir
  Path cassettes;
  private RouterWithUpstream setup;
  private IngressClient client;

  @BeforeEach
  void start() {
    setup = RouterWithUpstream.start("""
        cassettes: { dir: "%s", mode: "off", allow_mode_override: true }
        providers:
          - { name: openai, type: openai, base_url: "%%1$s/v1", api_key: "${TEST_API_KEY}" }
          - { name: anthropic, type: anthropic, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
        """.formatted(cassettes));
    client = new IngressClient(setup.router().port());
    setup.upstream().answer(r -> {
      int inputs = new JsonObject(setup.upstream().lastRequest().body()).getJsonArray("input").size();
      JsonArray data = new JsonArray();
      for (int i = 0; i < inputs; i++) {
        data.add(new JsonObject().put("object", "embedding").put("index", i).put("embedding", base64(VECTOR)));
      }
      r.response().putHeader("content-type", "application/json").end(new JsonObject().put("object", "list")
          .put("data", data).put("model", "text-embedding-3-small")
          .put("usage", new JsonObject().put("prompt_tokens", 3).put("total_tokens", 3)).encode());
    });
  }

  @AfterEach
  void stop() throws Exception {
    setup.close();
  }

  @Test
  void vectorsComeBackAsExactNumbersByDefault() {
    IngressClient.Reply reply = client.post("/v1/embeddings", """
        {"model": "openai/text-embedding-3-small", "input": "The food was delicious", "dimensions": 5}""");

    assertEquals(200, reply.status(), reply.body());
    JsonNode body = reply.json();
    assertEquals("list", body.path("object").asText());
    assertEquals("text-embedding-3-small", body.path("model").asText());
    assertEquals(3, body.path("usage").path("prompt_tokens").asInt());
    assertEquals(3, body.path("usage").path("total_tokens").asInt());
    JsonNode item = body.path("data").get(0);
    assertEquals("embedding", item.path("object").asText());
    assertEquals(0, item.path("index").asInt());
    JsonNode exact = EmbeddingWire.readExact(reply.body()).path("data").get(0).path("embedding");
    List<Integer> expected = bits(VECTOR);
    expected.set(0, 0); // an exact decimal reader knows no -0: the sign is checked in the text itself
    assertEquals(expected, EmbeddingWire.bitsOf(exact), "each number reads back as the upstream's float");
    assertTrue(reply.body().replace(" ", "").contains("\"embedding\":[-0.0,"), reply.body());
    assertEquals(5, new JsonObject(setup.upstream().lastRequest().body()).getInteger("dimensions"));
    assertEquals("live", reply.header("x-cassette-outcome"));
    assertTrue(reply.header("x-request-id") != null);
  }

  @Test
  void base64VectorsAreTheFloatsBytes() {
    IngressClient.Reply reply = client.post("/v1/embeddings", """
        {"model": "openai/text-embedding-3-small", "input": ["one", "two"], "encoding_format": "base64"}""");

    assertEquals(200, reply.status(), reply.body());
    JsonNode data = reply.json().path("data");
    assertEquals(2, data.size());
    assertEquals(base64(VECTOR), data.get(0).path("embedding").asText());
    assertEquals(1, data.get(1).path("index").asInt());
  }

  @Test
  void theSdkDoorAndGrpcShareOneCassette() {
    IngressClient.Reply recorded = client.post("/v1/embeddings", """
        {"model": "openai/text-embedding-3-small", "input": ["one", "two"]}""", "x-cassette-mode", "record");
    assertEquals("recorded", recorded.header("x-cassette-outcome"), recorded.body());

    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-cassette-mode", Metadata.ASCII_STRING_MARSHALLER), "replay");
    EmbeddingServiceGrpc.EmbeddingServiceBlockingStub grpc = setup.router().embeddings()
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    EmbedResponse replayed = grpc.embed(EmbedRequest.newBuilder().setModel("openai/text-embedding-3-small")
        .addInputs(EmbedInput.newBuilder().setText("one")).addInputs(EmbedInput.newBuilder().setText("two")).build());

    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, replayed.getOrigin().getCassette());
    assertEquals(recorded.header("x-cassette-key"), replayed.getOrigin().getCassetteKey());
    assertEquals(bits(VECTOR), replayed.getEmbeddings(1).getValuesList().stream().map(Float::floatToRawIntBits)
        .toList());
    assertEquals(1, setup.upstream().received().size());
  }

  @Test
  void badRequestsAreRefusedInOpenAisShapeBeforeAnythingGoesUpstream() {
    assertRefused(400, "input", """
        {"model": "openai/text-embedding-3-small"}""");
    assertRefused(400, "input", """
        {"model": "openai/text-embedding-3-small", "input": []}""");
    assertRefused(400, "input[0]", """
        {"model": "openai/text-embedding-3-small", "input": [[1, 2, 3]]}""");
    assertRefused(400, "input[1]", """
        {"model": "openai/text-embedding-3-small", "input": ["fine", ""]}""");
    assertRefused(400, "encoding_format", """
        {"model": "openai/text-embedding-3-small", "input": "x", "encoding_format": "int8"}""");
    assertRefused(400, "dimensions", """
        {"model": "openai/text-embedding-3-small", "input": "x", "dimensions": 0}""");
    assertRefused(400, "model", """
        {"input": "x"}""");
    assertRefused(404, null, """
        {"model": "nobody/x", "input": "x"}""");
    IngressClient.Reply noEmbeddings = assertRefused(400, null, """
        {"model": "anthropic/claude-haiku-4-5", "input": "x"}""");
    assertTrue(noEmbeddings.json().path("error").path("message").asText().contains("has no embeddings"),
        noEmbeddings.body());
    assertEquals(0, setup.upstream().received().size());
  }

  private IngressClient.Reply assertRefused(int status, String param, String body) {
    IngressClient.Reply reply = client.post("/v1/embeddings", body);
    assertEquals(status, reply.status(), reply.body());
    JsonNode error = reply.json().path("error");
    assertEquals("invalid_request_error", error.path("type").asText(), reply.body());
    if (param != null) {
      assertEquals(param, error.path("param").asText(), reply.body());
    }
    return reply;
  }

  private static String base64(float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float value : values) {
      bytes.putFloat(value);
    }
    return Base64.getEncoder().encodeToString(bytes.array());
  }

  private static List<Integer> bits(float[] values) {
    List<Integer> bits = new ArrayList<>();
    for (float value : values) {
      bits.add(Float.floatToRawIntBits(value));
    }
    return bits;
  }
}
