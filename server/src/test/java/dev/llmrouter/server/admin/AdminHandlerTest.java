package dev.llmrouter.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.ListModelsResponse;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.WholeAnswer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The admin listener: the page's files from the classpath, nothing else from disk, and gRPC-Web on the same origin. */
class AdminHandlerTest {

  private static Vertx vertx;
  private static Vertx clientVertx;
  private static RunningRouter router;
  private static HttpClient http;

  /** A response's status, content type and body. */
  private record Answer(int status, String contentType, Buffer body) {
  }

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    router = RunningRouter.start(vertx, """
        admin_listen: 127.0.0.1:0
        cassettes: { mode: replay }
        providers:
          - { name: openai, type: openai, base_url: "http://127.0.0.1:9/v1", models: [gpt-4o-mini] }
        """);
    // A client of its own, as a browser would be (see TransportsTest.grpcWebOverHttp11IsServedOnTheSamePort), and a
    // connection per request: this Vert.x client, reusing one for gRPC-Web, went unanswered about once in 1 500 calls
    // (a Python client made 20 000 calls on one connection without a miss).
    clientVertx = Vertx.vertx();
    http = clientVertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
  }

  @AfterAll
  static void stop() throws Exception {
    clientVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    router.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void servesThePageAndItsScript() throws Exception {
    Answer page = request(HttpMethod.GET, "/", null, null);
    assertEquals(200, page.status());
    assertEquals("text/html; charset=utf-8", page.contentType());
    assertTrue(page.body().toString().contains("<script type=\"module\" src=\"app.js\">"));
    Answer script = request(HttpMethod.GET, "/app.js", null, null);
    assertEquals(200, script.status());
    assertEquals("text/javascript; charset=utf-8", script.contentType());
  }

  @Test
  void servesNothingElse() throws Exception {
    assertEquals(404, request(HttpMethod.GET, "/missing.js", null, null).status());
    assertEquals(404, request(HttpMethod.GET, "/dev/llmrouter/server/Main.class", null, null).status());
    assertEquals(404, request(HttpMethod.GET, "/../webroot/index.html", null, null).status());
    assertEquals(405, request(HttpMethod.POST, "/index.html", "text/plain", Buffer.buffer("x")).status());
  }

  @Test
  void answersGrpcWebCallsOnTheSameOrigin() throws Exception {
    byte[] message = ListModelsRequest.getDefaultInstance().toByteArray();
    Answer answer = request(HttpMethod.POST, "/llmrouter.v1.ModelService/ListModels", "application/grpc-web+proto",
        Buffer.buffer().appendByte((byte) 0).appendInt(message.length).appendBytes(message));
    assertEquals(200, answer.status());
    ListModelsResponse models = ListModelsResponse.parseFrom(answer.body().getBytes(5, 5 + answer.body().getInt(1)));
    assertEquals("openai/gpt-4o-mini", models.getModels(0).getName());
  }

  private static Answer request(HttpMethod method, String uri, String contentType, Buffer body) throws Exception {
    RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(router.adminPort())
        .setURI(uri);
    if (contentType != null) {
      options.putHeader("content-type", contentType);
    }
    return WholeAnswer.of(http.request(options), request -> body == null ? request.send() : request.send(body))
        .map(response -> answer(response, response.body().result()))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Answer answer(HttpClientResponse response, Buffer body) {
    return new Answer(response.statusCode(), response.getHeader("content-type"), body);
  }
}
