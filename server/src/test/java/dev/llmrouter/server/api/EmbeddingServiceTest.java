package dev.llmrouter.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.CallType;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.EmbedTaskType;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.ListCallsRequest;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.api.v1.ObservabilityServiceGrpc;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.TwoUpstreams;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * `EmbeddingService.Embed` through the real router: bad requests get INVALID_ARGUMENT naming each field and send
 * nothing; a model whose provider type has no embeddings, or lacks what the request asks, is refused naming it (or
 * served without a setting, where dropping is allowed); an alias falls back as for chat; ListModels and the call log
 * know embeddings.
 */
class EmbeddingServiceTest {

  private static TwoUpstreams setup;

  @BeforeAll
  static void start() {
    setup = TwoUpstreams.start("""
        cassettes: { mode: "off" }
        retry: { max_attempts: 2, initial_backoff: 1ms, max_backoff: 2ms }
        providers:
          - { name: openai, type: openai, base_url: "%1$s/v1", api_key: "${TEST_API_KEY}",
              models: [text-embedding-3-small] }
          - { name: backup, type: openai, base_url: "%2$s/v1", api_key: "${TEST_API_KEY}" }
          - { name: lenient, type: openai, base_url: "%1$s/v1", api_key: "${TEST_API_KEY}",
              drop_unsupported_settings: true }
          - { name: anthropic, type: anthropic, base_url: "%1$s", api_key: "${TEST_API_KEY}",
              models: [claude-haiku-4-5] }
        models:
          - alias: vectors
            targets: [{ model: openai/text-embedding-3-small }, { model: backup/text-embedding-3-small }]
        """);
  }

  @BeforeEach
  void upstreamsAnswer() {
    setup.a().answer(r -> answer(r.response(), setup.a().lastRequest().body()));
    setup.b().answer(r -> answer(r.response(), setup.b().lastRequest().body()));
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  /** An OpenAI embeddings answer with a vector {1, 2} per input. */
  private static void answer(io.vertx.core.http.HttpServerResponse response, String requestBody) {
    int inputs = new JsonObject(requestBody).getJsonArray("input").size();
    JsonArray data = new JsonArray();
    for (int i = 0; i < inputs; i++) {
      data.add(new JsonObject().put("object", "embedding").put("index", i).put("embedding", new JsonArray().add(1)
          .add(2)));
    }
    response.putHeader("content-type", "application/json").end(new JsonObject().put("object", "list")
        .put("data", data).put("model", "text-embedding-3-small")
        .put("usage", new JsonObject().put("prompt_tokens", 1_000_000).put("total_tokens", 1_000_000)).encode());
  }

  private static EmbedRequest request(String model, String... texts) {
    EmbedRequest.Builder request = EmbedRequest.newBuilder().setModel(model);
    for (String text : texts) {
      request.addInputs(EmbedInput.newBuilder().setText(text));
    }
    return request.build();
  }

  private static StatusRuntimeException refused(EmbedRequest request) {
    int sent = setup.a().received().size() + setup.b().received().size();
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> setup.router().embeddings().embed(request));
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, error.getStatus().getCode(), error.getMessage());
    assertEquals(sent, setup.a().received().size() + setup.b().received().size(), "nothing is sent upstream");
    return error;
  }

  private static <T extends com.google.protobuf.Message> T detail(StatusRuntimeException error, Class<T> type)
      throws Exception {
    for (Any detail : StatusProto.fromThrowable(error).getDetailsList()) {
      if (detail.is(type)) {
        return detail.unpack(type);
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in " + error);
  }

  private static Map<String, String> violations(StatusRuntimeException error) throws Exception {
    return detail(error, BadRequest.class).getFieldViolationsList().stream()
        .collect(Collectors.toMap(BadRequest.FieldViolation::getField, BadRequest.FieldViolation::getDescription));
  }

  @Test
  void aBadRequestIsRefusedNamingEachField() throws Exception {
    Map<String, String> empty = violations(refused(EmbedRequest.getDefaultInstance()));
    assertTrue(empty.get("model").startsWith("is required"), empty.toString());
    assertTrue(empty.get("inputs").startsWith("at least one input is required"), empty.toString());

    Map<String, String> unknown = violations(refused(request("nobody/model", "cat")));
    assertTrue(unknown.get("model").contains("names no configured provider or alias"), unknown.toString());

    EmbedRequest broken = request("openai/text-embedding-3-small", "").toBuilder()
        .addInputs(EmbedInput.getDefaultInstance())
        .addInputs(EmbedInput.newBuilder().setImage(Image.newBuilder().setData(ByteString.copyFromUtf8("png"))))
        .setDimensions(0).build();
    Map<String, String> fields = violations(refused(broken));
    assertEquals(List.of("dimensions", "inputs[0].text", "inputs[1]", "inputs[2].image.mime_type"),
        fields.keySet().stream().sorted().toList(), fields.toString());
  }

  @Test
  void aProviderTypeWithoutEmbeddingsIsRefusedNamingIt() throws Exception {
    StatusRuntimeException error = refused(request("anthropic/claude-haiku-4-5", "cat"));

    assertTrue(error.getStatus().getDescription().startsWith("'anthropic/claude-haiku-4-5' cannot embed: provider "
        + "anthropic is of type anthropic, which has no embeddings"), error.getStatus().getDescription());
    ErrorInfo info = detail(error, ErrorInfo.class);
    assertEquals("EMBEDDINGS_UNSUPPORTED", info.getReason());
    assertEquals("anthropic", info.getMetadataOrThrow("provider_type"));
  }

  @Test
  void whatAModelCannotHonourIsRefusedUnlessDroppingIsAllowed() {
    EmbedRequest image = EmbedRequest.newBuilder().setModel("openai/text-embedding-3-small").addInputs(EmbedInput
        .newBuilder().setImage(Image.newBuilder().setMimeType("image/png").setData(ByteString.copyFromUtf8("png"))))
        .setDropUnsupportedSettings(true).build();
    assertTrue(refused(image).getStatus().getDescription().startsWith("openai cannot honour inputs.image with model "
        + "text-embedding-3-small"), "an image is never dropped");

    EmbedRequest query = request("openai/text-embedding-3-small", "cat").toBuilder()
        .setTaskType(EmbedTaskType.EMBED_TASK_TYPE_SEARCH_QUERY).build();
    assertTrue(refused(query).getStatus().getDescription().startsWith("openai cannot honour task_type with model "
        + "text-embedding-3-small: leave it out, or set drop_unsupported_settings"));

    EmbedResponse dropped = setup.router().embeddings().embed(query.toBuilder().setDropUnsupportedSettings(true)
        .build());
    assertEquals(List.of("task_type"), dropped.getOrigin().getDroppedSettingsList());
    EmbedResponse lenient = setup.router().embeddings().embed(query.toBuilder()
        .setModel("lenient/text-embedding-3-small").build());
    assertEquals(List.of("task_type"), lenient.getOrigin().getDroppedSettingsList(), "the provider's config drops it");
  }

  @Test
  void anAliasFallsBackToItsNextTargetAfterTheRetries() {
    AtomicInteger failures = new AtomicInteger();
    setup.a().answer(r -> {
      failures.incrementAndGet();
      r.response().setStatusCode(503).putHeader("content-type", "application/json")
          .end("{\"error\": {\"message\": \"overloaded\"}}");
    });

    EmbedResponse response = setup.router().embeddings().embed(request("vectors", "cat", "dog"));

    assertEquals("backup", response.getProvider());
    assertEquals("backup", response.getOrigin().getDeployment());
    assertEquals(2, failures.get(), "max_attempts on the first target");
    assertEquals(3, response.getOrigin().getAttempts());
    assertEquals(2, response.getEmbeddingsCount());
    assertEquals("/v1/embeddings", setup.b().lastRequest().uri());
  }

  @Test
  void listModelsSaysWhichModelsEmbed() {
    Map<String, Boolean> embeds = setup.router().models().listModels(ListModelsRequest.getDefaultInstance())
        .getModelsList().stream().collect(Collectors.toMap(Model::getName, m -> m.getCapabilities().getEmbeddings()));

    assertTrue(embeds.get("openai/text-embedding-3-small"));
    assertFalse(embeds.get("anthropic/claude-haiku-4-5"));
    assertTrue(embeds.get("vectors"));
  }

  @Test
  void theCallIsPricedAndLoggedAsAnEmbedding() throws Exception {
    EmbedResponse response = setup.router().embeddings().embed(request("openai/text-embedding-3-small", "cat"));

    assertEquals(1_000_000, response.getUsage().getInputTokens());
    assertEquals(0.02, response.getUsage().getCostUsd(), 1e-12, "the bundled price of text-embedding-3-small");
    CallFilter filter = CallFilter.newBuilder().setModel("openai/text-embedding-3-small").build();
    List<CallRecord> calls = Await.poll(Duration.ofSeconds(10), () -> ObservabilityServiceGrpc
        .newBlockingStub(setup.router().channel()).listCalls(ListCallsRequest.newBuilder().setFilter(filter).build())
        .getCallsList(), found -> found.stream().anyMatch(call -> call.getUsage().getInputTokens() == 1_000_000));
    CallRecord call = calls.stream().filter(found -> found.getUsage().getInputTokens() == 1_000_000).findFirst()
        .orElseThrow();
    assertEquals(CallType.CALL_TYPE_EMBED, call.getCallType());
    assertEquals("OK", call.getStatus());
    assertEquals("openai", call.getProviderType());
    assertEquals("text-embedding-3-small", call.getUpstreamModel());
    assertEquals(0.02, call.getUsage().getCostUsd(), 1e-12);
    assertEquals("cat", call.getMessages(0).getParts(0).getText(), "the input, as a user message");
  }
}
