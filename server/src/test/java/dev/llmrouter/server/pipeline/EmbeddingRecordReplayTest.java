package dev.llmrouter.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.EmbeddingServiceGrpc;
import dev.llmrouter.api.v1.Embedding;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Embedding calls recorded and replayed through the real router: a replay with the upstream gone gives the recorded
 * vectors to the bit; the key follows the inputs in order and the options, not the metadata; a miss is explained; an
 * embedding never answers a chat call.
 */
class EmbeddingRecordReplayTest {

  private static final String MODEL = "openai/text-embedding-3-small";
  /** Floats that a decimal round trip or a careless copy would change: signed zero, a subnormal, extremes, 1/3. */
  private static final float[] FIRST = {-0.0f, Float.MIN_VALUE, Float.MAX_VALUE, 1f / 3, -0.016099498f, 7e-45f};
  private static final float[] SECOND = {0.1f, -0.2f, 0.3f, Float.MIN_NORMAL, -1f / 3, 123456.79f};

  @TempDir
  Path cassettes;
  private Vertx vertx;
  private MockUpstream upstream;
  private final List<RunningRouter> routers = new ArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx);
    // OpenAI's answer in base64, as the router asks for it (the vectors' exact bits): FIRST, SECOND, FIRST...
    upstream.answer(r -> {
      int inputs = new JsonObject(upstream.lastRequest().body()).getJsonArray("input").size();
      JsonArray data = new JsonArray();
      for (int i = 0; i < inputs; i++) {
        data.add(new JsonObject().put("object", "embedding").put("index", i)
            .put("embedding", base64(i % 2 == 0 ? FIRST : SECOND)));
      }
      r.response().putHeader("content-type", "application/json").end(new JsonObject().put("object", "list")
          .put("data", data).put("model", "text-embedding-3-small")
          .put("usage", new JsonObject().put("prompt_tokens", 2 * inputs).put("total_tokens", 2 * inputs)).encode());
    });
  }

  @AfterEach
  void stop() throws Exception {
    for (RunningRouter router : routers) {
      router.close();
    }
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private RunningRouter router(String mode) {
    RunningRouter router = RunningRouter.start(vertx, """
        cassettes: { dir: "%s", mode: %s }
        providers:
          - { name: openai, type: openai, base_url: "%s", api_key: "${TEST_API_KEY}" }
        """.formatted(cassettes, mode, upstream.baseUrl()));
    routers.add(router);
    return router;
  }

  private static EmbedRequest request(String... texts) {
    EmbedRequest.Builder request = EmbedRequest.newBuilder().setModel(MODEL);
    Stream.of(texts).forEach(text -> request.addInputs(EmbedInput.newBuilder().setText(text)));
    return request.build();
  }

  @Test
  void aReplayWithTheUpstreamGoneGivesTheRecordedVectorsToTheBit() throws Exception {
    EmbedResponse recorded = router("record").embeddings().embed(request("cat", "dog"));
    upstream.close();
    EmbedResponse replayed = router("replay").embeddings().embed(request("cat", "dog"));

    assertEquals(List.of(FIRST.length, SECOND.length), replayed.getEmbeddingsList().stream()
        .map(Embedding::getValuesCount).toList());
    assertEquals(bits(FIRST), bits(recorded.getEmbeddings(0)), "live: the upstream's bits");
    assertEquals(bits(FIRST), bits(replayed.getEmbeddings(0)), "replayed: the same bits");
    assertEquals(bits(SECOND), bits(replayed.getEmbeddings(1)));
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, recorded.getOrigin().getCassette());
    assertEquals(1, recorded.getOrigin().getAttempts());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, replayed.getOrigin().getCassette());
    assertEquals(0, replayed.getOrigin().getAttempts());
    assertEquals(recorded.getOrigin().getCassetteKey(), replayed.getOrigin().getCassetteKey());
    assertEquals(recorded.toBuilder().clearOrigin().build(), replayed.toBuilder().clearOrigin().build(),
        "model, provider, usage and cost replay as they were recorded");
    assertEquals("openai", replayed.getProvider());
    assertEquals(4, replayed.getUsage().getInputTokens());
    assertTrue(replayed.getUsage().getCostUsd() > 0, "priced from the bundled table: " + replayed.getUsage());

    Path file = cassettes.resolve("default").resolve(recorded.getOrigin().getCassetteKey().substring(0, 16) + ".json");
    String stored = Files.readString(file);
    assertTrue(stored.contains("\"" + base64(FIRST) + "\""), "the vector is stored as base64 of its floats:\n"
        + stored);
    assertTrue(stored.contains("\"kind\": \"embed\""), stored);
  }

  @Test
  void theKeyFollowsTheInputsInOrderAndTheOptionsNotTheMetadata() {
    router("record").embeddings().embed(request("cat", "dog"));
    RunningRouter replay = router("replay");

    EmbedResponse withMetadata = withHeaders(replay, Map.of("x-call-meta-team", "search", "x-tags", "nightly"))
        .embed(request("cat", "dog").toBuilder().putMetadata("run", "42").build());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, withMetadata.getOrigin().getCassette());

    StatusRuntimeException reordered = assertThrows(StatusRuntimeException.class,
        () -> replay.embeddings().embed(request("dog", "cat")));
    assertEquals(Status.Code.FAILED_PRECONDITION, reordered.getStatus().getCode());
    assertTrue(reordered.getStatus().getDescription().contains("inputs[0].text"), reordered.getMessage());

    StatusRuntimeException shortened = assertThrows(StatusRuntimeException.class,
        () -> replay.embeddings().embed(request("cat", "dog").toBuilder().setDimensions(256).build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, shortened.getStatus().getCode());
    assertTrue(shortened.getStatus().getDescription().contains("dimensions"), shortened.getMessage());
    assertEquals(1, upstream.received().size(), "replay mode never calls the upstream");
  }

  @Test
  void autoModeRecordsOnceThenReplaysAndScopesKeepTheirOwn() {
    RunningRouter auto = router("auto");
    EmbeddingServiceGrpc.EmbeddingServiceBlockingStub suiteA = withHeaders(auto, Map.of("x-cassette-scope", "suite-a"));

    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, suiteA.embed(request("cat")).getOrigin().getCassette());
    EmbedResponse again = suiteA.embed(request("cat"));
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, again.getOrigin().getCassette());
    assertEquals("suite-a", again.getOrigin().getCassetteScope());
    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, withHeaders(auto, Map.of("x-cassette-scope", "suite-b"))
        .embed(request("cat")).getOrigin().getCassette());
    assertEquals(2, upstream.received().size());
    assertTrue(Files.isDirectory(cassettes.resolve("suite-a")) && Files.isDirectory(cassettes.resolve("suite-b")));
  }

  @Test
  void offModeLeavesTheCassettesAlone() throws Exception {
    EmbedResponse live = router("\"off\"").embeddings().embed(request("cat"));

    assertEquals(CassetteOutcome.CASSETTE_OUTCOME_LIVE, live.getOrigin().getCassette());
    assertTrue(live.getOrigin().getCassetteKey().isEmpty());
    assertFalse(Files.exists(cassettes.resolve("default")));
  }

  @Test
  void aFailedExchangeWritesNothing() {
    upstream.reply(200, "application/json", "{\"object\": \"list\", \"data\": [], \"model\": \"m\"}");
    StatusRuntimeException malformed = assertThrows(StatusRuntimeException.class,
        () -> router("record").embeddings().embed(request("cat")));

    assertEquals(Status.Code.UNAVAILABLE, malformed.getStatus().getCode());
    assertTrue(malformed.getStatus().getDescription().contains("0 vectors for 1 inputs"), malformed.getMessage());
    assertFalse(Files.exists(cassettes.resolve("default")), "nothing recorded");
  }

  @Test
  void anEmbeddingNeverAnswersAChatCall() {
    router("record").embeddings().embed(request("Hi"));
    ChatRequest chat = ChatRequest.newBuilder().setModel(MODEL).addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hi"))).build();

    StatusRuntimeException miss = assertThrows(StatusRuntimeException.class, () -> router("replay").chat().chat(chat));
    assertEquals(Status.Code.FAILED_PRECONDITION, miss.getStatus().getCode());
    assertTrue(miss.getStatus().getDescription().startsWith("no cassette for key"), miss.getMessage());
  }

  private static EmbeddingServiceGrpc.EmbeddingServiceBlockingStub withHeaders(RunningRouter router,
      Map<String, String> headers) {
    Metadata metadata = new Metadata();
    headers.forEach((name, value) -> metadata.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value));
    return router.embeddings().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata));
  }

  /** Base64 of little-endian float32, written here independently of the router's encoder. */
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

  private static List<Integer> bits(Embedding embedding) {
    return embedding.getValuesList().stream().map(Float::floatToRawIntBits).toList();
  }
}
