package dev.llmrouter.server.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedTaskType;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.Embedding;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.server.testing.AzureOpenAiEmbeddingWire;
import dev.llmrouter.server.testing.BedrockEmbeddingWire;
import dev.llmrouter.server.testing.CohereEmbeddingWire;
import dev.llmrouter.server.testing.EmbeddingWire;
import dev.llmrouter.server.testing.GeminiEmbeddingWire;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.OpenAiEmbeddingWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.VertexEmbeddingWire;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The conformance suite of the embedding adapters, beside {@link ProviderConformanceTest} for chat: each recorded
 * embeddings exchange (the shared corpus of real traffic, and this project's own samples) is served byte for byte by
 * a local upstream, through the real router, with `Embed`. The vectors must be the recorded ones to the bit, with
 * the recorded model and usage, and the request the adapter sent must be the recorded one; an error answer must
 * reach the caller with its status mapped and the provider's message.
 */
class EmbeddingConformanceTest {

  /** Every embedding adapter's test-side wire knowledge; a new one adds itself here. */
  static final List<EmbeddingWire> WIRES = List.of(new OpenAiEmbeddingWire(), new AzureOpenAiEmbeddingWire(),
      new GeminiEmbeddingWire(), new CohereEmbeddingWire(), new VertexEmbeddingWire(), new BedrockEmbeddingWire());

  private static final Map<Integer, Status.Code> STATUS_OF_HTTP = Map.of(
      400, Status.Code.INVALID_ARGUMENT, 401, Status.Code.FAILED_PRECONDITION, 403, Status.Code.FAILED_PRECONDITION,
      404, Status.Code.NOT_FOUND, 429, Status.Code.RESOURCE_EXHAUSTED, 500, Status.Code.UNAVAILABLE);

  private static final ManualClock CLOCK = new ManualClock();
  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("cassettes: { mode: \"off\" }\n"
        // Adapters are tested here, not resilience: one attempt, and no circuit opened by the error cases.
        + "retry: { max_attempts: 1 }\ncircuit_breaker: { failure_threshold: 1000 }\nproviders:\n"
        + WIRES.stream().map(w -> w.providersYaml("%1$s")).collect(Collectors.joining()), CLOCK);
  }

  @BeforeEach
  void pastEveryRetryAfter() {
    CLOCK.advance(Duration.ofDays(1)); // a recorded 429 leaves its deployment rate-limited: not for the next exchange
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  static Stream<Arguments> exchanges() {
    return WIRES.stream().flatMap(wire -> exchangesOf(wire).map(exchange -> Arguments.of(wire, exchange)));
  }

  private static Stream<WireExchange> exchangesOf(EmbeddingWire wire) {
    return wire.folders().stream()
        .flatMap(folder -> Stream.concat(WireExchange.own(folder).stream(), WireExchange.shared(folder).stream()))
        .filter(wire::speaks);
  }

  /** Each wire's first answer with vectors. */
  static Stream<Arguments> firstAnswerOfEachWire() {
    return WIRES.stream().flatMap(wire -> exchangesOf(wire).filter(exchange -> exchange.status() == 200).limit(1)
        .map(exchange -> Arguments.of(wire, exchange)));
  }

  @Test
  void everyWireHasItsOwnSamples() {
    for (EmbeddingWire wire : WIRES) {
      assertFalse(wire.folders().stream().allMatch(folder -> WireExchange.own(folder).stream().noneMatch(wire::speaks)),
          wire.type());
    }
  }

  @Test
  void sharedCorpusIsPresent() {
    assumeTrue(WireExchange.sharedCorpus().isPresent(),
        "../shared/conformance is not beside this checkout: the real-traffic exchanges were skipped, "
            + "only the project's own wire samples ran");
    for (String folder : List.of("embeddings-openai", "embeddings-mistral", "embeddings-azure", "embeddings-cohere",
        "embeddings-vertex")) {
      assertFalse(WireExchange.shared(folder).isEmpty(), folder);
    }
  }

  @ParameterizedTest(name = "Embed {1}")
  @MethodSource("exchanges")
  void embed(EmbeddingWire wire, WireExchange exchange) {
    setup.upstream().replay(exchange);
    EmbedRequest request = wire.requestFor(exchange);
    if (exchange.status() != 200) {
      StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
          () -> setup.router().embeddings().embed(request));
      assertEquals(STATUS_OF_HTTP.get(exchange.status()), error.getStatus().getCode(), error.getMessage());
      assertTrue(error.getStatus().getDescription().contains(wire.errorMessageOf(exchange)),
          "the provider's message reaches the caller: " + error.getStatus().getDescription());
    } else {
      EmbedResponse response = setup.router().embeddings().embed(request);
      EmbeddingWire.Answer expected = wire.answerOf(exchange);
      assertEquals(request.getInputsCount(), response.getEmbeddingsCount(), "one vector per input");
      assertEquals(expected.vectors(), response.getEmbeddingsList().stream().map(EmbeddingConformanceTest::bits)
          .toList(), "the recorded vectors, to the bit");
      assertEquals(expected.model(), response.getModel(), "model");
      assertEquals(expected.inputTokens() != null, response.getUsage().hasInputTokens(), "usage reported");
      if (expected.inputTokens() != null) {
        assertEquals(expected.inputTokens().longValue(), response.getUsage().getInputTokens(), "input tokens");
      }
      assertFalse(response.getUsage().hasOutputTokens(), "an embedding has no output tokens");
      assertEquals(wire.providerFor(exchange), response.getProvider());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_LIVE, response.getOrigin().getCassette());
      assertEquals(wire.providerFor(exchange), response.getOrigin().getDeployment());
    }
    wire.assertSent(exchange, setup.upstream().lastRequest());
  }

  /**
   * What each hosted adapter declares is what its host does: a chat model of a host that names its embedding models
   * does not embed; an option a model lacks, and several texts to Titan (one per InvokeModel), are refused naming
   * what to change, and nothing is sent.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedRequests")
  void whatAHostCannotDoIsRefusedBeforeAnythingIsSent(String model, EmbedRequest.Builder request, String refusal) {
    int sentBefore = setup.upstream().received().size();
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> setup.router().embeddings().embed(request.setModel(model).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().contains(refusal), refused.getStatus().getDescription());
    assertEquals(sentBefore, setup.upstream().received().size(), "nothing is sent upstream");
  }

  static Stream<Arguments> refusedRequests() {
    EmbedRequest.Builder one = EmbedRequest.newBuilder().addInputs(EmbedInput.newBuilder().setText("Hi"));
    return Stream.of(
        Arguments.of("bedrock/anthropic.claude-3-haiku-20240307-v1:0", one.clone(),
            "provider bedrock (type bedrock) embeds only with its embedding models, and "
                + "anthropic.claude-3-haiku-20240307-v1:0 is none"),
        Arguments.of("vertex/claude-sonnet-4-5@20250929", one.clone(), "claude-sonnet-4-5@20250929 is none"),
        Arguments.of("bedrock/amazon.titan-embed-text-v2:0",
            one.clone().setTaskType(EmbedTaskType.EMBED_TASK_TYPE_SEARCH_QUERY), "cannot honour task_type"),
        Arguments.of("bedrock/amazon.titan-embed-text-v1", one.clone().setDimensions(256),
            "cannot honour dimensions"),
        Arguments.of("bedrock/cohere.embed-english-v3", one.clone().setDimensions(256), "cannot honour dimensions"),
        Arguments.of("vertex/textembedding-gecko@001", one.clone().setTaskType(
            EmbedTaskType.EMBED_TASK_TYPE_CLUSTERING), "cannot honour task_type"),
        Arguments.of("vertex/text-embedding-005", one.clone().addInputs(EmbedInput.newBuilder().setImage(
            Image.newBuilder().setUrl("https://example.com/cat.png"))), "cannot honour inputs.image"),
        Arguments.of("bedrock/amazon.titan-embed-text-v2:0", one.clone().addInputs(EmbedInput.newBuilder()
            .setText("Hello")), "embeds one text per call (InvokeModel takes one inputText), and this call has 2"));
  }

  /**
   * Each adapter's answer, recorded, replays with its upstream never called: the recorded vectors to the bit, with
   * the same model, provider and usage.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("firstAnswerOfEachWire")
  void eachAdaptersAnswerReplaysToTheBitWithoutItsUpstream(EmbeddingWire wire, WireExchange exchange,
      @TempDir Path cassettes) throws Exception {
    String config = "cassettes: { dir: \"" + cassettes + "\", mode: %2$s }\nproviders:\n" + wire.providersYaml("%1$s");
    EmbedResponse recorded;
    try (RouterWithUpstream recording = RouterWithUpstream.start(config.replace("%2$s", "record"))) {
      recording.upstream().replay(exchange);
      recorded = recording.router().embeddings().embed(wire.requestFor(exchange));
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_RECORDED, recorded.getOrigin().getCassette());
    }
    try (RouterWithUpstream replaying = RouterWithUpstream.start(config.replace("%2$s", "replay"))) {
      EmbedResponse replayed = replaying.router().embeddings().embed(wire.requestFor(exchange));
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, replayed.getOrigin().getCassette());
      assertEquals(wire.answerOf(exchange).vectors(), replayed.getEmbeddingsList().stream()
          .map(EmbeddingConformanceTest::bits).toList(), "the recorded vectors, to the bit");
      assertEquals(recorded.toBuilder().clearOrigin().build(), replayed.toBuilder().clearOrigin().build());
      assertEquals(0, replaying.upstream().received().size(), "the upstream is never called");
    }
  }

  private static List<Integer> bits(Embedding embedding) {
    return embedding.getValuesList().stream().map(Float::floatToRawIntBits).toList();
  }
}
