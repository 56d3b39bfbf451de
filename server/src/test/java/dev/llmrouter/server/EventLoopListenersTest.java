package dev.llmrouter.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.WholeAnswer;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Connections to one address are served by several event loops, each answering on its own thread. */
class EventLoopListenersTest {

  private Vertx vertx;
  private HttpClient newConnectionPerRequest;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(4));
    newConnectionPerRequest = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
  }

  @AfterEach
  void stop() {
    Await.result(vertx.close());
  }

  /** The body of a GET on a new connection to the port. */
  private String get(int port) {
    return Await.result(WholeAnswer.of(newConnectionPerRequest.request(HttpMethod.GET, port, "127.0.0.1", "/"),
        HttpClientRequest::send)).body().result().toString();
  }

  @Test
  void eachNewConnectionGoesToTheNextEventLoopOnOnePort() {
    EventLoopListeners listeners = Await.result(EventLoopListeners.listen(vertx, 4, new HttpServerOptions(),
        request -> request.response().end(Thread.currentThread().getName()), "127.0.0.1", 0));
    assertTrue(listeners.port() > 0, "port 0 picked a real port: " + listeners.port());

    Set<String> threads = new HashSet<>();
    for (int connection = 0; connection < 8; connection++) {
      threads.add(get(listeners.port()));
    }

    assertEquals(4, threads.size(), "8 connections over 4 loops: " + threads);
    threads.forEach(thread -> assertTrue(thread.startsWith("vert.x-eventloop-thread-"), thread));
  }

  @Test
  void listenersOnPortZeroEachGetAPortOfTheirOwn() {
    EventLoopListeners first = Await.result(EventLoopListeners.listen(vertx, 2, new HttpServerOptions(),
        request -> request.response().end("first"), "127.0.0.1", 0));
    EventLoopListeners second = Await.result(EventLoopListeners.listen(vertx, 2, new HttpServerOptions(),
        request -> request.response().end("second"), "127.0.0.1", 0));

    assertNotEquals(first.port(), second.port());
    for (int connection = 0; connection < 4; connection++) {
      assertEquals("first", get(first.port()));
      assertEquals("second", get(second.port()));
    }
    Await.result(first.close(java.time.Duration.ZERO));
    assertEquals("second", get(second.port()), "closing one leaves the other listening");
  }
}
