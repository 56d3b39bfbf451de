package dev.llmrouter.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.ResponseFormatType;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every RPC through a real grpc-java channel: models, health, reflection, validation, errors, deadline, cancel. */
class ChatServiceTest {

  private static final String CHUNK = "data: {\"id\":\"c1\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
      + "\"delta\":{\"content\":\"%s\"},\"finish_reason\":null}]}\n\n";
  private static final String LAST_CHUNK = "data: {\"id\":\"c1\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
      + "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

  private static Vertx vertx;
  private static MockUpstream upstream;
  private static RunningRouter router;

  private static final ManualClock CLOCK = new ManualClock();
  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("""
        cassettes: { mode: off }
        # One attempt, and no circuit opened by the error cases: FaultInjectionTest covers retries and breakers.
        retry: { max_attempts: 1 }
        circuit_breaker: { failure_threshold: 1000 }
        providers:
          - { name: openai, type: openai, base_url: "%1$s/v1", api_key: "${TEST_API_KEY}", models: [gpt-4o-mini, gpt-4o, o3-mini] }
          - { name: keyless, type: openai, base_url: "%1$s/v1", api_key: "${UNSET_KEY_VARIABLE}", models: [m] }
          - { name: offline, type: openai, base_url: "http://127.0.0.1:9/v1", models: [m] }
        """, CLOCK);
    vertx = setup.vertx();
    upstream = setup.upstream();
    router = setup.router();
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  @BeforeEach
  void reset() {
    upstream.received().clear();
  }

  private static ChatRequest hello(String model) {
    return ChatRequest.newBuilder().setModel(model).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText("Hello"))).build();
  }

  @Test
  void listModelsReportsConfiguredModelsWithCapabilities() {
    List<Model> models = router.models().listModels(ListModelsRequest.getDefaultInstance()).getModelsList();
    assertEquals(List.of("keyless/m", "offline/m", "openai/gpt-4o", "openai/gpt-4o-mini", "openai/o3-mini"),
        models.stream().map(Model::getName).toList());
    Model mini = models.get(3);
    assertEquals("openai", mini.getProviderType());
    assertEquals("gpt-4o-mini", mini.getUpstreamModel());
    assertTrue(mini.getCapabilities().getStreaming() && mini.getCapabilities().getTools());
    assertTrue(mini.getCapabilities().getSettingsList().contains("settings.temperature"));
    // Capabilities are the model's: OpenAI's reasoning models take no temperature.
    assertFalse(models.get(4).getCapabilities().getSettingsList().contains("settings.temperature"));
    assertTrue(models.get(4).getCapabilities().getSettingsList().contains("settings.reasoning_effort"));
    assertEquals(3, router.models().listModels(ListModelsRequest.newBuilder().setProvider("openai").build())
        .getModelsCount());
  }

  @Test
  void healthAnswersServingForTheServerAndEachService() {
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(router.channel());
    for (String service : List.of("", "llmrouter.v1.ChatService", "llmrouter.v1.ModelService")) {
      assertEquals(HealthCheckResponse.ServingStatus.SERVING,
          health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus(), service);
    }
  }

  @Test
  void reflectionListsTheServices() throws Exception {
    CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(router.channel())
        .serverReflectionInfo(observer(answer));
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    List<String> services = answer.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
        .map(ServiceResponse::getName).toList();
    requests.onCompleted();
    assertTrue(services.containsAll(List.of("llmrouter.v1.ChatService", "llmrouter.v1.ModelService",
        "grpc.health.v1.Health")), services.toString());
  }

  static Stream<Arguments> invalidRequests() {
    Struct badSchema = Struct.newBuilder().putFields("type", Value.newBuilder().setStringValue("obj").build()).build();
    return Stream.of(
        invalid("empty model", r -> r.setModel(""), "model"),
        invalid("unknown provider", r -> r.setModel("nobody/gpt"), "model"),
        invalid("no provider prefix", r -> r.setModel("gpt-4o"), "model"),
        invalid("empty messages", ChatRequest.Builder::clearMessages, "messages"),
        invalid("unspecified role", r -> r.setMessages(0, r.getMessages(0).toBuilder().setRole(Role.ROLE_UNSPECIFIED)),
            "messages[0].role"),
        invalid("tool message without tool_call_id", r -> r.addMessages(Message.newBuilder().setRole(Role.ROLE_TOOL)
            .addParts(Part.newBuilder().setText("42"))), "messages[1].tool_call_id"),
        invalid("tool call with invalid arguments_json", r -> r.addMessages(Message.newBuilder()
            .setRole(Role.ROLE_ASSISTANT).addToolCalls(ToolCall.newBuilder().setId("c1").setName("f")
                .setArgumentsJson("{not json"))), "messages[1].tool_calls[0].arguments_json"),
        invalid("temperature above 2", r -> r.setSettings(GenerationSettings.newBuilder().setTemperature(2.5)),
            "settings.temperature"),
        invalid("negative temperature", r -> r.setSettings(GenerationSettings.newBuilder().setTemperature(-0.1)),
            "settings.temperature"),
        invalid("top_p above 1", r -> r.setSettings(GenerationSettings.newBuilder().setTopP(1.5)), "settings.top_p"),
        invalid("negative max tokens", r -> r.setSettings(GenerationSettings.newBuilder().setMaxOutputTokens(-5)),
            "settings.max_output_tokens"),
        invalid("invalid tool schema", r -> r.addTools(Tool.newBuilder().setName("f").setParameters(badSchema)),
            "tools[0].parameters.type"),
        invalid("invalid response schema", r -> r.setResponseFormat(ResponseFormat.newBuilder()
            .setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA).setSchema(badSchema)),
            "response_format.schema.type"));
  }

  private static Arguments invalid(String name, UnaryOperatorBuilder change, String field) {
    ChatRequest.Builder request = hello("openai/gpt-4o-mini").toBuilder();
    change.apply(request);
    return Arguments.of(name, request.build(), field);
  }

  private interface UnaryOperatorBuilder {
    Object apply(ChatRequest.Builder builder);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidRequests")
  void invalidRequestsAreRejectedBeforeAnyUpstreamCall(String name, ChatRequest request, String field)
      throws InvalidProtocolBufferException {
    for (Runnable call : List.<Runnable>of(() -> router.chat().chat(request),
        () -> router.chat().streamChat(request).forEachRemaining(e -> { }))) {
      StatusRuntimeException error = assertThrows(StatusRuntimeException.class, call::run);
      assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
      BadRequest details = StatusProto.fromThrowable(error).getDetails(0).unpack(BadRequest.class);
      assertTrue(details.getFieldViolationsList().stream().anyMatch(v -> v.getField().equals(field)),
          "expected a violation of " + field + " in " + details);
    }
    assertEquals(0, upstream.received().size(), "nothing was sent upstream");
  }

  @Test
  void everyProblemOfARequestIsReportedAtOnce() {
    ChatRequest request = hello("").toBuilder().setSettings(GenerationSettings.newBuilder().setTopP(7)).build();
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> router.chat().chat(request));
    assertTrue(error.getStatus().getDescription().contains("model:"), error.getMessage());
    assertTrue(error.getStatus().getDescription().contains("settings.top_p:"), error.getMessage());
  }

  @Test
  void aProviderWithoutItsKeyFailsWithFailedPreconditionNamingTheVariable() {
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> router.chat().chat(hello("keyless/m")));
    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("UNSET_KEY_VARIABLE"), error.getMessage());
    assertEquals(0, upstream.received().size());
  }

  @Test
  void anUnreachableUpstreamIsUnavailable() {
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> router.chat().chat(hello("offline/m")));
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("offline"), error.getMessage());
  }

  @Test
  void rateLimitIsResourceExhaustedWithRetryInfoAndErrorInfo() throws InvalidProtocolBufferException {
    upstream.answer(r -> r.response().setStatusCode(429).putHeader("retry-after", "3")
        .putHeader("content-type", "application/json")
        .end("{\"error\":{\"message\":\"slow down\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}"));
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> router.chat().chat(hello("openai/gpt-4o-mini")));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, error.getStatus().getCode());
    com.google.rpc.Status details = StatusProto.fromThrowable(error);
    ErrorInfo info = details.getDetails(0).unpack(ErrorInfo.class);
    assertEquals("UPSTREAM_RATE_LIMITED", info.getReason());
    assertEquals("openai", info.getMetadataOrThrow("provider"));
    assertEquals("429", info.getMetadataOrThrow("upstream_status"));
    assertEquals(3, details.getDetails(1).unpack(RetryInfo.class).getRetryDelay().getSeconds());
    CLOCK.advance(Duration.ofSeconds(3)); // past the Retry-After: openai is not rate-limited for the other tests
  }

  @Test
  void aStreamThatBreaksAfterSomeDeltasEndsWithAnErrorNotACleanEnd() {
    upstream.answer(r -> {
      HttpServerResponse response = r.response().setChunked(true).putHeader("content-type", "text/event-stream");
      response.write(CHUNK.formatted("Hel"));
      response.write(CHUNK.formatted("lo")).onComplete(v -> vertx.setTimer(50, t -> r.connection().close()));
    });
    Iterator<ChatEvent> events = router.chat().streamChat(hello("openai/gpt-4o-mini"));
    assertTrue(events.next().hasStart());
    assertEquals("Hel", events.next().getTextDelta().getText());
    assertEquals("lo", events.next().getTextDelta().getText());
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, events::next);
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
  }

  @Test
  void aMalformedChunkFailsTheStreamAndClosesTheUpstream() {
    upstream.answer(r -> r.response().setChunked(true).putHeader("content-type", "text/event-stream")
        .write(CHUNK.formatted("ok") + "data: {not json\n\n"));
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> router.chat().streamChat(hello("openai/gpt-4o-mini")).forEachRemaining(e -> { }));
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("malformed"), error.getMessage());
    assertTrue(upstream.awaitAllConnectionsClosed(2, TimeUnit.SECONDS));
  }

  @Test
  void theCallersDeadlineBoundsTheUpstreamCall() {
    upstream.answer(r -> { }); // never answers
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> router.chat().withDeadlineAfter(800, TimeUnit.MILLISECONDS).chat(hello("openai/gpt-4o-mini")));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, error.getStatus().getCode());
    assertTrue(upstream.awaitAllConnectionsClosed(1, TimeUnit.SECONDS), "the upstream request was closed");
  }

  @Test
  void headersThenSilencePastTheDeadlineEndsTheStreamWithDeadlineExceeded() {
    upstream.answer(r -> r.response().setChunked(true).putHeader("content-type", "text/event-stream")
        .write(CHUNK.formatted("first")));
    Iterator<ChatEvent> events = router.chat().withDeadlineAfter(1000, TimeUnit.MILLISECONDS)
        .streamChat(hello("openai/gpt-4o-mini"));
    assertTrue(events.next().hasStart());
    assertEquals("first", events.next().getTextDelta().getText());
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, events::next);
    assertEquals(Status.Code.DEADLINE_EXCEEDED, error.getStatus().getCode());
    assertTrue(upstream.awaitAllConnectionsClosed(1, TimeUnit.SECONDS), "the upstream request was closed");
  }

  @Test
  void aCancelledStreamClosesItsUpstreamConnectionWithinOneSecond() throws Exception {
    upstream.answer(r -> r.response().setChunked(true).putHeader("content-type", "text/event-stream")
        .write(CHUNK.formatted("first")));
    Context.CancellableContext context = Context.current().withCancellation();
    Iterator<ChatEvent> events = context.call(() -> router.chat().streamChat(hello("openai/gpt-4o-mini")));
    events.next();
    assertEquals("first", events.next().getTextDelta().getText());
    assertEquals(1, upstream.openConnections());
    long cancelledAt = System.nanoTime();
    context.cancel(null);
    assertTrue(upstream.awaitAllConnectionsClosed(1, TimeUnit.SECONDS), "the upstream connection was closed");
    assertTrue(System.nanoTime() - cancelledAt < TimeUnit.SECONDS.toNanos(1));
  }

  @Test
  void aSlowReaderPausesTheUpstreamAndStillGetsEveryEvent() throws Exception {
    int total = 40_000;
    AtomicInteger written = new AtomicInteger();
    AtomicBoolean parked = new AtomicBoolean();
    String filler = "x".repeat(200);
    upstream.answer(r -> {
      HttpServerResponse response = r.response().setChunked(true).putHeader("content-type", "text/event-stream");
      new Object() {
        void pump() {
          while (written.get() < total && !response.writeQueueFull()) {
            response.write(CHUNK.formatted(filler));
            written.incrementAndGet();
          }
          if (written.get() < total) {
            parked.set(true);
            response.drainHandler(v -> {
              parked.set(false);
              pump();
            });
          } else {
            response.end(LAST_CHUNK);
          }
        }
      }.pump();
    });
    LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    CountDownLatch firstEvent = new CountDownLatch(1);
    AtomicInteger events = new AtomicInteger();
    ClientCallStreamObserver<?>[] call = new ClientCallStreamObserver<?>[1];
    router.chatAsync().streamChat(hello("openai/gpt-4o-mini"), new ClientResponseObserver<ChatRequest, ChatEvent>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<ChatRequest> requestStream) {
        call[0] = requestStream;
        requestStream.disableAutoRequestWithInitial(1);
      }

      @Override
      public void onNext(ChatEvent value) {
        events.incrementAndGet();
        firstEvent.countDown();
        if (value.hasDone()) {
          received.add(value);
        }
      }

      @Override
      public void onError(Throwable t) {
        received.add(t);
      }

      @Override
      public void onCompleted() {
      }
    });
    assertTrue(firstEvent.await(10, TimeUnit.SECONDS));
    // The reader takes no more: the upstream comes to a standstill, parked on its full write queue and written
    // nothing for 20 looks in a row (its drain never comes), or, were the router to read on, writes everything.
    int[] standstill = {0, -1};
    Await.until(Duration.ofSeconds(30), () -> {
      int now = written.get();
      standstill[0] = parked.get() && now == standstill[1] ? standstill[0] + 1 : 0;
      standstill[1] = now;
      return standstill[0] >= 20 || now == total;
    });
    int writtenWhilePaused = written.get();
    assertTrue(writtenWhilePaused < total, "the upstream was paused while the reader did not read");
    call[0].request(Integer.MAX_VALUE);
    Object last = received.poll(60, TimeUnit.SECONDS);
    assertTrue(last instanceof ChatEvent, "the stream ended with done: " + last);
    assertEquals(total * filler.length(), ((ChatEvent) last).getDone().getResponse().getMessage().getParts(0)
        .getText().length());
    assertEquals(total + 2, events.get(), "start, every delta, done");
  }

  private static <T> StreamObserver<T> observer(CompletableFuture<T> first) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        first.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        first.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
      }
    };
  }
}
