package dev.llmrouter.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpcClient;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.ListModelsResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.WholeAnswer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The same port serves the Vert.x gRPC client, gRPC-Web over HTTP/1.1, and messages far above 256 KiB. */
class TransportsTest {

  private static final String ANSWER = "{\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
      + "\"message\":{\"content\":\"seen\"},\"finish_reason\":\"stop\"}]}";

  private static Vertx vertx;
  private static MockUpstream upstream;
  private static RunningRouter router;

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("""
        cassettes: { mode: off }
        providers:
          - { name: openai, type: openai, base_url: "%1$s/v1", api_key: "${TEST_API_KEY}", models: [model-a, model-b] }
        """);
    vertx = setup.vertx();
    upstream = setup.upstream().reply(200, "application/json", ANSWER);
    router = setup.router();
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static ChatRequest hello() {
    return ChatRequest.newBuilder().setModel("openai/model-a").addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hello"))).build();
  }

  @Test
  void theVertxClientCallsChatAndStreamChat() throws Exception {
    GrpcClient client = GrpcClient.client(vertx);
    try {
      ChatServiceGrpcClient chat = ChatServiceGrpcClient.create(client,
          SocketAddress.inetSocketAddress(router.port(), "127.0.0.1"));
      assertEquals("seen", await(chat.chat(hello())).getMessage().getParts(0).getText());
      List<ChatEvent> events = new ArrayList<>();
      await(chat.streamChat(hello()).compose(stream -> {
        Promise<Void> ended = Promise.promise();
        stream.handler(events::add).exceptionHandler(ended::fail).endHandler(ended::complete);
        return ended.future();
      }));
      assertTrue(events.get(0).hasStart());
      assertTrue(events.get(events.size() - 1).hasDone());
    } finally {
      await(client.close());
    }
  }

  @Test
  void grpcWebOverHttp11IsServedOnTheSamePort() throws Exception {
    // A client of its own, as a browser would be.
    Vertx clientVertx = Vertx.vertx();
    HttpClient http = clientVertx.createHttpClient();
    try {
      byte[] message = ListModelsRequest.getDefaultInstance().toByteArray();
      Buffer frame = Buffer.buffer().appendByte((byte) 0).appendInt(message.length).appendBytes(message);
      HttpClientResponse response = await(WholeAnswer.of(http.request(new RequestOptions()
              .setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(router.port())
              .setURI("/llmrouter.v1.ModelService/ListModels")
              .putHeader("content-type", "application/grpc-web+proto").putHeader("x-grpc-web", "1")),
          request -> request.send(frame)));
      assertEquals(200, response.statusCode());
      assertTrue(response.getHeader("content-type").startsWith("application/grpc-web"));
      Buffer body = response.body().result();
      int length = body.getInt(1);
      ListModelsResponse models = ListModelsResponse.parseFrom(body.getBytes(5, 5 + length));
      assertEquals(2, models.getModelsCount());
      assertTrue(body.toString().contains("grpc-status:0"), "the trailer frame carries status OK");
    } finally {
      await(clientVertx.close());
    }
  }

  @Test
  void aRequestOfSeveralMebibytesIsAccepted() {
    byte[] picture = new byte[6 * 1024 * 1024];
    ChatRequest request = hello().toBuilder().setMessages(0, hello().getMessages(0).toBuilder()
        .addParts(Part.newBuilder().setImage(Image.newBuilder().setMimeType("image/png")
            .setData(ByteString.copyFrom(picture))))).build();
    ChatResponse response = router.chat().chat(request);
    assertEquals("seen", response.getMessage().getParts(0).getText());
    assertTrue(upstream.lastRequest().body().length() > 8 * 1024 * 1024, "the image went upstream as base64");
  }
}
