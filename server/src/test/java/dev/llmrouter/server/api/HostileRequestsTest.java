package dev.llmrouter.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.WholeAnswer;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import java.io.ByteArrayOutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a hostile client gets: requests that do not decode, broken gRPC framing, oversized messages and headers, wrong
 * content types. Each ends with a gRPC status and a message, promptly, with one log line and no stack trace. Sent with
 * a raw HTTP/2 client (Vert.x, prior knowledge) where no gRPC library would send such bytes, with grpc-java elsewhere.
 */
class HostileRequestsTest {

  private static final String ANSWER = "{\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
      + "\"message\":{\"content\":\"seen\"},\"finish_reason\":\"stop\"}]}";
  private static final String CHAT = "/llmrouter.v1.ChatService/Chat";

  private static RouterWithUpstream setup;
  private static Vertx clientVertx;
  private static HttpClient http2;
  private static Context clientContext;
  private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
  private final List<Throwable> unhandled = new CopyOnWriteArrayList<>();
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord record) {
      logged.add(record);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
  };

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.oneProvider("openai");
    setup.upstream().reply(200, "application/json", ANSWER);
    clientVertx = Vertx.vertx();
    http2 = clientVertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false));
    clientContext = clientVertx.getOrCreateContext();
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
    clientVertx.close().toCompletionStage().toCompletableFuture().get();
  }

  @BeforeEach
  void captureLogs() {
    Logger.getLogger("").addHandler(capture);
    setup.vertx().exceptionHandler(unhandled::add);
    setup.upstream().received().clear();
  }

  @AfterEach
  void releaseLogs() {
    Logger.getLogger("").removeHandler(capture);
  }

  // ---- a raw HTTP/2 exchange

  /** What came back: the HTTP status, and the gRPC status and message from the trailers (or trailers-only headers). */
  private record Answer(int httpStatus, MultiMap headers, String grpcStatus, String grpcMessage) {
  }

  private Answer post(String path, Buffer body, String... headers) throws Exception {
    return exchange(path, request -> request.send(body), headers);
  }

  /** A request sent by {@code sender}, which returns the response to come. */
  private Answer exchange(String path, Function<HttpClientRequest, Future<HttpClientResponse>> sender,
      String... headers) throws Exception {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
        .setPort(setup.router().port()).setURI(path).putHeader("content-type", "application/grpc")
        .putHeader("te", "trailers").putHeader("grpc-timeout", "5S");
    for (int i = 0; i < headers.length; i += 2) {
      options.putHeader(headers[i], headers[i + 1]);
    }
    // Sent from the client's event loop, so that the response's handlers are set before its frames are read.
    Promise<Answer> answer = Promise.promise();
    clientContext.runOnContext(v -> WholeAnswer.of(http2.request(options), sender).map(response -> {
      MultiMap status = response.trailers().contains("grpc-status") ? response.trailers() : response.headers();
      String message = status.get("grpc-message");
      return new Answer(response.statusCode(), response.headers(), status.get("grpc-status"),
          message == null ? null : URLDecoder.decode(message.replace("+", "%2B"), StandardCharsets.UTF_8));
    }).onComplete(answer));
    try {
      return answer.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("no answer within 10 s; the router logged " + logged.stream()
          .map(LogRecord::getMessage).toList() + " and threw " + unhandled, e);
    }
  }

  private static Buffer frame(int flags, byte[] payload) {
    return Buffer.buffer().appendByte((byte) flags).appendInt(payload.length).appendBytes(payload);
  }

  private static ChatRequest hello() {
    return ChatRequest.newBuilder().setModel("openai/gpt-4o-mini").addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hello"))).build();
  }

  private static byte[] gzip(byte[] bytes) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream zip = new GZIPOutputStream(out)) {
      zip.write(bytes);
    }
    return out.toByteArray();
  }

  /** The call was refused with this status and a message containing {@code words}, in one log line, no stack trace. */
  private void assertRefused(Answer answer, Status.Code code, String... words) {
    assertEquals(200, answer.httpStatus(), answer::toString);
    assertEquals(String.valueOf(code.value()), answer.grpcStatus(), answer::toString);
    assertNotNull(answer.grpcMessage(), answer::toString);
    for (String word : words) {
      assertTrue(answer.grpcMessage().contains(word), answer::toString);
    }
    List<LogRecord> refusals = logged.stream().filter(r -> r.getMessage().contains("refused")).toList();
    assertEquals(1, refusals.size(), () -> "one log line per refused call: " + logged);
    assertTrue(logged.stream().allMatch(r -> r.getThrown() == null), () -> "no stack trace: " + logged);
    assertTrue(unhandled.isEmpty(), () -> "nothing thrown on the event loop: " + unhandled);
    assertTrue(setup.upstream().received().isEmpty(), "nothing went upstream");
  }

  // ---- item 6: requests that do not decode

  @Test
  void invalidUtf8InAStringFieldIsInvalidArgument() throws Exception {
    byte[] model = {0x0a, 0x02, (byte) 0xc3, 0x28}; // field 1 (model), 2 bytes that are not UTF-8
    assertRefused(post(CHAT, frame(0, model)), Status.Code.INVALID_ARGUMENT, "not a valid Chat request", "UTF-8");
  }

  @Test
  void garbageBytesAsTheMessageAreInvalidArgument() throws Exception {
    byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x13, 0x37};
    assertRefused(post(CHAT, frame(0, garbage)), Status.Code.INVALID_ARGUMENT, "not a valid Chat request");
  }

  @Test
  void aSchemaNestedDeeperThanProtobufReadsIsInvalidArgument() throws Exception {
    Struct schema = Struct.newBuilder().putFields("type", Value.newBuilder().setStringValue("string").build()).build();
    for (int level = 0; level < 20; level++) {
      schema = Struct.newBuilder().putFields("type", Value.newBuilder().setStringValue("object").build())
          .putFields("properties", Value.newBuilder().setStructValue(Struct.newBuilder()
              .putFields("inner", Value.newBuilder().setStructValue(schema).build())).build()).build();
    }
    ChatRequest deep = hello().toBuilder().addTools(Tool.newBuilder().setName("deep").setParameters(schema)).build();
    assertRefused(post(CHAT, frame(0, deep.toByteArray())), Status.Code.INVALID_ARGUMENT, "not a valid Chat request",
        "nesting");
  }

  @Test
  void aGzipMessageThatDoesNotInflateIsInternal() throws Exception {
    assertRefused(post(CHAT, frame(1, hello().toByteArray()), "grpc-encoding", "gzip"), Status.Code.INTERNAL,
        "does not inflate");
  }

  @Test
  void aGzipMessageIsAnswered() throws Exception {
    Answer answer = post(CHAT, frame(1, gzip(hello().toByteArray())), "grpc-encoding", "gzip");
    assertEquals("0", answer.grpcStatus(), answer::toString);
    assertEquals(1, setup.upstream().received().size());
  }

  // ---- item 7: broken framing

  @Test
  void aMessageShorterThanItsHeaderSaysIsInternal() throws Exception {
    Buffer tenOfHundred = Buffer.buffer().appendByte((byte) 0).appendInt(100).appendBytes(new byte[10]);
    assertRefused(post(CHAT, tenOfHundred), Status.Code.INTERNAL, "declared 100 bytes and sent 10");
  }

  @Test
  void aMessageThatStopsHalfWayEndsAtTheCallsDeadline() throws Exception {
    Buffer tenOfHundred = Buffer.buffer().appendByte((byte) 0).appendInt(100).appendBytes(new byte[10]);
    Answer answer = exchange(CHAT, request -> request.setChunked(true).write(tenOfHundred).compose(v -> request.response()),
        "grpc-timeout", "200m"); // and the request never ends
    assertRefused(answer, Status.Code.DEADLINE_EXCEEDED, "before the request was complete");
  }

  @Test
  void aThreeByteHeaderIsInternal() throws Exception {
    assertRefused(post(CHAT, Buffer.buffer(new byte[3])), Status.Code.INTERNAL, "3 of its 5 bytes");
  }

  @Test
  void aCompressedFlagWithoutGrpcEncodingIsInternal() throws Exception {
    assertRefused(post(CHAT, frame(1, gzip(hello().toByteArray()))), Status.Code.INTERNAL,
        "flagged compressed", "no grpc-encoding");
  }

  @Test
  void anUnknownGrpcEncodingIsUnimplemented() throws Exception {
    Answer answer = post(CHAT, frame(1, hello().toByteArray()), "grpc-encoding", "zzz");
    assertRefused(answer, Status.Code.UNIMPLEMENTED, "'zzz'", "gzip");
    assertEquals("gzip", answer.headers().get("grpc-accept-encoding"));
  }

  // ---- item 8: the smaller ones

  @Test
  void aMessageOverTheLimitNamesTheLimit() {
    ChatRequest huge = hello().toBuilder().setMessages(0, hello().getMessages(0).toBuilder().addParts(Part
        .newBuilder().setImage(Image.newBuilder().setMimeType("image/png")
            .setData(ByteString.copyFrom(new byte[20 * 1024 * 1024]))))).build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> setup.router().chat()
        .withDeadlineAfter(30, TimeUnit.SECONDS).chat(huge));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e::toString);
    assertTrue(e.getStatus().getDescription().contains("at most 16777216 (max_message_bytes)"), e::toString);
    assertTrue(setup.upstream().received().isEmpty());
  }

  @Test
  void jsonOnTheGrpcPortIs415() throws Exception {
    Answer answer = post(CHAT, Buffer.buffer("{\"model\": \"openai/gpt-4o-mini\"}"), "content-type",
        "application/json");
    assertEquals(415, answer.httpStatus(), answer::toString);
    assertTrue(unhandled.isEmpty(), unhandled::toString);
  }

  @Test
  void twoMessagesOnAUnaryCallAreRefusedAndNoneIsSentUpstream() throws Exception {
    byte[] request = hello().toByteArray();
    Answer answer = post(CHAT, frame(0, request).appendBuffer(frame(0, request)));
    assertRefused(answer, Status.Code.INVALID_ARGUMENT, "Chat takes one request message");
  }

  @Test
  void headersOfTensOfKilobytesAreAccepted() {
    Metadata big = new Metadata();
    big.put(Metadata.Key.of("x-padding", Metadata.ASCII_STRING_MARSHALLER), "p".repeat(40 * 1024));
    assertEquals("seen", setup.router().chat().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(big))
        .chat(hello()).getMessage().getParts(0).getText());
  }

  @Test
  void headersOverTheLimitRefuseTheirStreamAndSpareTheConnection() throws Exception {
    Metadata huge = new Metadata();
    huge.put(Metadata.Key.of("x-padding", Metadata.ASCII_STRING_MARSHALLER), "p".repeat(200 * 1024));
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> setup.router().chat()
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(huge)).chat(hello()));
    assertFalse(e.getStatus().getCode() == Status.Code.OK, e::toString);
    assertEquals("seen", setup.router().chat().chat(hello()).getMessage().getParts(0).getText(),
        "the connection still serves calls");
  }

  @Test
  void aToolMessageMustAnswerAnEarlierCall() {
    ChatRequest request = hello().toBuilder()
        .addMessages(Message.newBuilder().setRole(Role.ROLE_ASSISTANT).addToolCalls(ToolCall.newBuilder()
            .setId("call_1").setName("get_weather").setArgumentsJson("{}")))
        .addMessages(Message.newBuilder().setRole(Role.ROLE_TOOL).setToolCallId("call_2")
            .addParts(Part.newBuilder().setText("18C"))).build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> setup.router().chat().chat(request));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("messages[2].tool_call_id: 'call_2' answers no tool call"),
        e::toString);
  }

  @Test
  void aHugeEchoedValueIsCutInTheMessage() {
    ChatRequest request = hello().toBuilder().setModel("x".repeat(10 * 1024)).build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> setup.router().chat().chat(request));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("...' (10240 characters)"), e::toString);
    assertTrue(e.getStatus().getDescription().length() < 1100, e::toString);
  }
}
