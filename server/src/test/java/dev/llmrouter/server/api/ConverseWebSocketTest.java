package dev.llmrouter.server.api;

import static dev.llmrouter.server.testing.OpenAiStreams.answerText;
import static dev.llmrouter.server.testing.OpenAiStreams.answerToolCall;
import static dev.llmrouter.server.testing.OpenAiStreams.chunk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.Conversation;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Metadata;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * `ChatService.Converse` over the admin listener's WebSocket ({@code /converse}), with a plain Vert.x WebSocket
 * client: proto3 JSON, one message per text frame, the same sessions as the gRPC method, and a close code and reason
 * for what the gRPC method would end with a status.
 */
class ConverseWebSocketTest {

  private static final int MAX_MESSAGE_BYTES = 256 * 1024;
  private static final String START = """
      {"start": {"model": "openai/gpt-4o-mini", "tools": [{"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]}}""";

  private Vertx vertx;
  private Vertx clientVertx;
  private MockUpstream upstream;
  private RunningRouter router;
  private WebSocketClient client;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx);
    router = RunningRouter.start(vertx, """
        admin_listen: 127.0.0.1:0
        max_message_bytes: %d
        auth: { required: true, admin_key: "${ROUTER_ADMIN_KEY}" }
        cassettes: { mode: off }
        providers:
          - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
        """.formatted(MAX_MESSAGE_BYTES, upstream.baseUrl()));
    clientVertx = Vertx.vertx();
    // Frames as large as a message, so that an oversize message goes as one frame.
    client = clientVertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(4 * MAX_MESSAGE_BYTES)
        .setMaxMessageSize(4 * MAX_MESSAGE_BYTES));
  }

  @AfterEach
  void stop() throws Exception {
    clientVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    router.close();
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** One WebSocket to {@code /converse}: the events it receives, and how it was closed. */
  private static final class Socket {
    final WebSocket socket;
    final LinkedBlockingQueue<ConverseEvent> events = new LinkedBlockingQueue<>();
    final List<ConverseEvent> all = new ArrayList<>();
    final CompletableFuture<String> closed = new CompletableFuture<>();

    Socket(WebSocket socket) {
      this.socket = socket;
      socket.textMessageHandler(text -> {
        ConverseEvent.Builder event = ConverseEvent.newBuilder();
        try {
          JsonFormat.parser().merge(text, event);
        } catch (InvalidProtocolBufferException e) {
          throw new AssertionError("not a ConverseEvent: " + text, e);
        }
        events.add(event.build());
      });
      socket.closeHandler(v -> closed.complete(socket.closeStatusCode() + " " + socket.closeReason()));
    }

    Socket send(String json) {
      socket.writeTextMessage(json);
      return this;
    }

    Socket user(String text) {
      return send("{\"user\": {\"role\": \"ROLE_USER\", \"parts\": [{\"text\": \"" + text + "\"}]}}");
    }

    ConverseEvent until(Predicate<ConverseEvent> wanted) throws InterruptedException {
      while (true) {
        ConverseEvent event = events.poll(10, TimeUnit.SECONDS);
        if (event == null) {
          throw new AssertionError("no matching event within 10 s; got " + all + "; closed: " + closed.getNow(null));
        }
        all.add(event);
        if (wanted.test(event)) {
          return event;
        }
      }
    }

    String closedWith() throws Exception {
      return closed.get(10, TimeUnit.SECONDS);
    }

    /** Starts a session and returns its id. */
    String startSession() throws InterruptedException {
      send(START);
      return until(ConverseEvent::hasSessionStarted).getSessionStarted().getSessionId();
    }

    Socket resume(String id) {
      return send("{\"start\": {\"resumeSessionId\": \"" + id + "\"}}");
    }
  }

  private Socket open(String authorization) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(router.adminPort())
        .setURI("/converse");
    if (authorization != null) {
      options.addHeader("authorization", authorization);
    }
    // The handlers are set on the connection's event loop as it opens: a router that closes at once is seen closing.
    return Await.result(client.connect(options).map(Socket::new));
  }

  private Socket open() {
    return open("Bearer " + RunningRouter.TEST_ADMIN_KEY);
  }

  private static String text(ConverseEvent completed) {
    return completed.getTurnCompleted().getMessage().getParts(0).getText();
  }

  @Test
  void twoTurnsAToolCallAnInterruptAndAResumeAfterADroppedConnection() throws Exception {
    upstream.answer(r -> {
      String body = upstream.lastRequest().body();
      if (body.contains("What is my name?")) {
        answerText(r, body.contains("my name is Ada") ? "You are Ada." : "I do not know.");
      } else if (body.contains("long story")) {
        HttpServerResponse response = r.response().setChunked(true).putHeader("content-type", "text/event-stream");
        response.write(chunk("{\"content\":\"Once upon a time\"}", null)); // ...and then nothing more
      } else if (body.contains("weather in Paris?") && !body.contains("\"role\":\"tool\"")) {
        answerToolCall(r, "get_weather", "Paris");
      } else if (body.contains("weather in Paris?")) {
        answerText(r, "It is ", "18 °C in Paris.");
      } else {
        answerText(r, "Hello ", "Ada.");
      }
    });
    Socket socket = open();
    String id = socket.startSession();
    socket.user("Hi, my name is Ada.");
    assertEquals("Hello Ada.", text(socket.until(ConverseEvent::hasTurnCompleted)));

    socket.user("And the weather in Paris?");
    ConverseEvent asked = socket.until(ConverseEvent::hasToolCalls);
    String callId = asked.getToolCalls().getToolCalls(0).getId();
    assertEquals("get_weather", asked.getToolCalls().getToolCalls(0).getName());
    socket.send("{\"toolResults\": {\"results\": [{\"role\": \"ROLE_TOOL\", \"toolCallId\": \"" + callId
        + "\", \"parts\": [{\"text\": \"18 °C, sunny\"}]}]}}");
    ConverseEvent second = socket.until(ConverseEvent::hasTurnCompleted);
    assertEquals("It is 18 °C in Paris.", text(second));
    assertEquals(2, second.getTurnCompleted().getTurn());
    assertTrue(upstream.lastRequest().body().contains("my name is Ada"), "the router keeps the history");
    assertTrue(upstream.lastRequest().body().contains("18 °C, sunny"), "the tool's answer went to the model");

    socket.user("Tell me a long story.");
    assertEquals("Once upon a time", socket.until(ConverseEvent::hasTextDelta).getTextDelta().getText());
    socket.send("{\"interrupt\": {}}");
    ConverseEvent interrupted = socket.until(ConverseEvent::hasTurnCompleted);
    assertTrue(interrupted.getTurnCompleted().getInterrupted());
    assertEquals("Once upon a time", text(interrupted));
    assertTrue(upstream.awaitAllConnectionsClosed(5, TimeUnit.SECONDS), "the upstream request was closed");

    // The connection drops (no close frame): the session waits for a new socket.
    Await.result(socket.socket.close((short) 1001, "the page is reloading"));
    Socket again = open().resume(id);
    ConverseEvent resumed = again.until(ConverseEvent::hasSessionStarted);
    assertTrue(resumed.getSessionStarted().getResumed());
    assertEquals(id, resumed.getSessionStarted().getSessionId());
    again.user("What is my name?");
    assertEquals("You are Ada.", text(again.until(ConverseEvent::hasTurnCompleted)));
    assertTrue(upstream.lastRequest().body().contains("Once upon a time"), "the interrupted answer is history");
  }

  @Test
  void aSessionStartedOverTheWebSocketResumesOverGrpcAndAClose1000EndsIt() throws Exception {
    upstream.answer(r -> answerText(r, "Hi."));
    Socket socket = open();
    String id = socket.startSession();
    Await.result(socket.socket.close((short) 1001, "going away"));
    assertTrue(Await.until(Duration.ofSeconds(10), () -> router.openStreams("Converse") == 0));

    Metadata key = new Metadata();
    key.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
        "Bearer " + RunningRouter.TEST_ADMIN_KEY);
    Conversation grpc = Conversation.open(router, key).send(ConverseRequest.newBuilder().setStart(
        dev.llmrouter.api.v1.ConverseStart.newBuilder().setResumeSessionId(id)).build());
    assertTrue(grpc.until(ConverseEvent::hasSessionStarted).getSessionStarted().getResumed());
    grpc.user("Hello?");
    assertEquals("Hi.", grpc.until(ConverseEvent::hasTurnCompleted).getTurnCompleted().getMessage().getParts(0)
        .getText());
    grpc.requests.onError(new RuntimeException("the client's network dropped"));
    assertTrue(Await.until(Duration.ofSeconds(10), () -> router.openStreams("Converse") == 0));

    Socket back = open().resume(id);
    back.until(ConverseEvent::hasSessionStarted);
    back.socket.close(); // 1000: the client is done with the session
    assertTrue(Await.until(Duration.ofSeconds(10), () -> router.openStreams("Converse") == 0));
    assertTrue(open().resume(id).closedWith().startsWith("1008 NOT_FOUND: no session"));
  }

  @Test
  void aFrameThatIsNotJsonClosesWith1007AndTheSessionStaysResumable() throws Exception {
    upstream.answer(r -> answerText(r, "Still here."));
    Socket socket = open();
    String id = socket.startSession();
    socket.send("{\"user\": {\"parts\": [{\"text\": \"unfinished");
    String closed = socket.closedWith();
    assertTrue(closed.startsWith("1007 INVALID_ARGUMENT: not a ConverseRequest in proto3 JSON"), closed);
    assertTrue(closed.getBytes(StandardCharsets.UTF_8).length <= 5 + 123, "a close reason fits its frame");

    Socket again = open().resume(id);
    again.until(ConverseEvent::hasSessionStarted);
    again.user("Are you there?");
    assertEquals("Still here.", text(again.until(ConverseEvent::hasTurnCompleted)));
  }

  @Test
  void aFieldTheRequestDoesNotHaveClosesWith1007() throws Exception {
    Socket socket = open();
    socket.send("{\"start\": {\"modle\": \"openai/gpt-4o-mini\"}}");
    String closed = socket.closedWith();
    assertTrue(closed.startsWith("1007 INVALID_ARGUMENT: ") && closed.contains("modle"), closed);
  }

  @Test
  void aFirstFrameThatIsNotStartClosesWith1008() throws Exception {
    Socket socket = open();
    socket.user("Hello?");
    String closed = socket.closedWith();
    assertTrue(closed.startsWith("1008 INVALID_ARGUMENT: the first message of a Converse stream must be `start`"),
        closed);
  }

  @Test
  void anOversizeFrameClosesWith1009AndTheSessionStaysResumable() throws Exception {
    upstream.answer(r -> answerText(r, "Still here."));
    Socket socket = open();
    String id = socket.startSession();
    socket.user("x".repeat(MAX_MESSAGE_BYTES + 1));
    String closed = socket.closedWith();
    assertTrue(closed.startsWith("1009 RESOURCE_EXHAUSTED: a message of 262"), closed);

    Socket again = open().resume(id);
    again.until(ConverseEvent::hasSessionStarted);
    again.user("Are you there?");
    assertEquals("Still here.", text(again.until(ConverseEvent::hasTurnCompleted)));
    assertFalse(upstream.lastRequest().body().contains("xxxx"), "the oversize turn never reached the session");
  }

  @Test
  void aBinaryFrameClosesWith1003() throws Exception {
    Socket socket = open();
    socket.socket.writeBinaryMessage(io.vertx.core.buffer.Buffer.buffer(new byte[] {10, 0}));
    String closed = socket.closedWith();
    assertTrue(closed.startsWith("1003 INVALID_ARGUMENT: send each ConverseRequest as proto3 JSON"), closed);
  }

  @Test
  void theKeyIsCheckedAsForTheGrpcMethodAndOtherOriginsAreRefused() throws Exception {
    assertTrue(open(null).send(START).closedWith().startsWith("1008 UNAUTHENTICATED: this router requires a key"));
    // A browser sends the Basic credentials the page was loaded with.
    String basic = "Basic " + Base64.getEncoder().encodeToString(("page:" + RunningRouter.TEST_ADMIN_KEY)
        .getBytes(StandardCharsets.UTF_8));
    open(basic).startSession();

    WebSocketConnectOptions crossOrigin = new WebSocketConnectOptions().setHost("127.0.0.1")
        .setPort(router.adminPort()).setURI("/converse").addHeader("authorization", basic)
        .addHeader("origin", "https://evil.example");
    Throwable refused = client.connect(crossOrigin).toCompletionStage().toCompletableFuture()
        .handle((socket, failure) -> failure).get(10, TimeUnit.SECONDS);
    assertTrue(refused instanceof UpgradeRejectedException, String.valueOf(refused));
    assertEquals(403, ((UpgradeRejectedException) refused).getStatus());
  }
}
