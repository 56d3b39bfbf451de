package dev.llmrouter.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RouterProcess;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The router as its own process, sent real signals: SIGTERM drains it and it exits 0, SIGHUP reloads its config. */
class ServeSignalsTest {

  private static final Map<String, String> ENVIRONMENT = Map.of("TEST_API_KEY", RunningRouter.TEST_KEY);
  private static final String ANSWER = """
      {"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini", "choices": [{"index": 0,
       "message": {"role": "assistant", "content": "fast answer"}, "finish_reason": "stop"}]}""";

  @TempDir
  Path dir;
  private Path config;
  private Vertx vertx;
  private MockUpstream upstream;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx);
    config = dir.resolve("router.yaml");
  }

  @AfterEach
  void stop() throws Exception {
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private void write(String more) throws IOException {
    Files.writeString(config, """
        listen: 127.0.0.1:0
        event_loops: 2
        data_dir: "%s"
        cassettes: { mode: "off" }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        """.formatted(dir.resolve("data"), upstream.baseUrl()) + more);
  }

  private static ChatRequest ask(String model) {
    return ChatRequest.newBuilder().setModel(model).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText("Hello"))).build();
  }

  @Test
  void sigtermDrainsTheRouterWhichFinishesTheCallInFlightAndExitsZero() throws Exception {
    CompletableFuture<Runnable> held = new CompletableFuture<>();
    upstream.answer(request -> {
      Context context = Vertx.currentContext();
      HttpServerResponse response = request.response().setChunked(true).putHeader("content-type",
          "text/event-stream");
      response.write("data: {\"id\":\"c1\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":"
          + "{\"content\":\"in flight\"},\"finish_reason\":null}]}\n\n");
      held.complete(() -> context.runOnContext(v -> response.end("data: {\"id\":\"c1\",\"created\":1,\"model\":"
          + "\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")));
    });
    write("drain_timeout: 1m\n");
    try (RouterProcess router = RouterProcess.start(config, ENVIRONMENT)) {
      Iterator<ChatEvent> inFlight = ChatServiceGrpc.newBlockingStub(router.channel()).streamChat(ask("openai/m"));
      Runnable finish = held.get(30, TimeUnit.SECONDS);

      List<ServingStatus> heard = new CopyOnWriteArrayList<>();
      HealthGrpc.newStub(router.channel()).watch(HealthCheckRequest.getDefaultInstance(),
          new StreamObserver<>() {
            @Override
            public void onNext(HealthCheckResponse status) {
              heard.add(status.getStatus());
            }

            @Override
            public void onError(Throwable failure) {
            }

            @Override
            public void onCompleted() {
            }
          });
      assertTrue(Await.until(Duration.ofSeconds(10), () -> heard.contains(ServingStatus.SERVING)), router::toString);

      router.signal("TERM");

      assertTrue(Await.until(Duration.ofSeconds(10), () -> heard.contains(ServingStatus.NOT_SERVING)),
          router::toString);
      ManagedChannel late = NettyChannelBuilder.forAddress("127.0.0.1", router.port()).usePlaintext().build();
      try {
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
            () -> ChatServiceGrpc.newBlockingStub(late).chat(ask("openai/m")));
        assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), "the port takes no new connection");
      } finally {
        late.shutdownNow();
      }
      assertEquals(-1, router.exitCode(Duration.ZERO), "the router waits for the call in flight");
      finish.run();
      StringBuilder text = new StringBuilder();
      ChatEvent last = null;
      while (inFlight.hasNext()) {
        last = inFlight.next();
        text.append(last.getTextDelta().getText());
      }
      assertEquals("in flight", text.toString());
      assertTrue(last.hasDone());
      assertEquals(0, router.exitCode(Duration.ofSeconds(30)), router::toString);
      assertTrue(router.printed("llm-router drained, exiting"), router::toString);
    }
  }

  @Test
  void sighupReloadsTheFileAndABrokenFileIsLoggedAndLeavesTheOldConfigServing() throws Exception {
    upstream.reply(200, "application/json", ANSWER);
    write("");
    try (RouterProcess router = RouterProcess.start(config, ENVIRONMENT)) {
      assumeTrue(router.printed("SIGHUP reloads"), "SIGHUP is ignored in the processes of this build (run by "
          + "nohup?), and so in the router's: it cannot be sent one. The router says so:\n" + router);
      ChatServiceGrpc.ChatServiceBlockingStub chat = ChatServiceGrpc.newBlockingStub(router.channel());
      assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class,
          () -> chat.chat(ask("fast"))).getStatus().getCode());
      write("""
          models:
            - { alias: fast, targets: [{ model: openai/gpt-4o-mini }] }
          """);

      router.signal("HUP");

      assertTrue(router.logged("config reloaded: models changed for new calls"), router::toString);
      assertEquals("fast answer", chat.chat(ask("fast")).getMessage().getParts(0).getText());
      Files.writeString(config, Files.readString(config).replace("openai/gpt-4o-mini", "nobody/gpt-4o-mini"));

      router.signal("HUP");

      assertTrue(router.logged("config reload refused, the running config is kept: models.0.targets.0.model "
          + "(line 8): must be <provider>/<model>"), router::toString);
      assertEquals("fast answer", chat.chat(ask("fast")).getMessage().getParts(0).getText());
      router.signal("TERM");
      assertEquals(0, router.exitCode(Duration.ofSeconds(30)), router::toString);
    }
  }
}
