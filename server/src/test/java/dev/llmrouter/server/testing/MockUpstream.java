package dev.llmrouter.server.testing;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A local provider stand-in: a real Vert.x HTTP server on a free port that answers with whatever the test scripts,
 * records every request it received, and counts connections opened and closed (to see aborted upstream calls).
 */
public final class MockUpstream implements AutoCloseable {

  /** One request as the upstream received it. */
  public record Received(String method, String uri, MultiMap headers, String body) {
  }

  private final HttpServer server;
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final AtomicInteger openConnections = new AtomicInteger();
  private final AtomicInteger requestsInFlight = new AtomicInteger();
  private final List<CompletableFuture<Void>> connectionCloses = new CopyOnWriteArrayList<>();
  private volatile Consumer<HttpServerRequest> behaviour = r -> r.response().setStatusCode(500).end();

  private MockUpstream(Vertx vertx) {
    server = vertx.createHttpServer();
    server.connectionHandler(connection -> {
      openConnections.incrementAndGet();
      CompletableFuture<Void> closed = new CompletableFuture<>();
      connectionCloses.add(closed);
      connection.closeHandler(v -> {
        openConnections.decrementAndGet();
        closed.complete(null);
      });
    });
    server.requestHandler(request -> {
      requestsInFlight.incrementAndGet();
      AtomicBoolean finished = new AtomicBoolean();
      Runnable finish = () -> {
        if (finished.compareAndSet(false, true)) {
          requestsInFlight.decrementAndGet();
        }
      };
      request.response().endHandler(v -> finish.run()).closeHandler(v -> finish.run());
      request.body().onSuccess(body -> {
        received.add(new Received(request.method().name(), request.uri(), request.headers(), body.toString()));
        behaviour.accept(request);
      });
    });
  }

  public static MockUpstream start(Vertx vertx) {
    MockUpstream upstream = new MockUpstream(vertx);
    Await.result(upstream.server.listen(0, "127.0.0.1"));
    return upstream;
  }

  /** Sets how the next requests are answered (the request body has been read already). */
  public MockUpstream answer(Consumer<HttpServerRequest> behaviour) {
    this.behaviour = behaviour;
    return this;
  }

  /** Answers every request with this status, content type and body, as one write. */
  public MockUpstream reply(int status, String contentType, String body) {
    return answer(r -> r.response().setStatusCode(status).putHeader("content-type", contentType).end(body));
  }

  /** Answers every request as {@code exchange} was recorded: its status, headers and body, byte for byte. */
  public MockUpstream replay(WireExchange exchange) {
    return answer(r -> {
      r.response().setStatusCode(exchange.status());
      exchange.headers().forEach(r.response()::putHeader);
      r.response().end(Buffer.buffer(exchange.bodyBytes()));
    });
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  public List<Received> received() {
    return received;
  }

  public Received lastRequest() {
    return received.get(received.size() - 1);
  }

  public int openConnections() {
    return openConnections.get();
  }

  /** Every connection opened so far, closed or not. */
  public int connectionsOpened() {
    return connectionCloses.size();
  }

  /** Answers the n-th request (from 0) with the n-th behaviour, and every later one with the last. */
  @SafeVarargs
  public final MockUpstream script(Consumer<HttpServerRequest>... attempts) {
    AtomicInteger next = new AtomicInteger();
    return answer(r -> attempts[Math.min(next.getAndIncrement(), attempts.length - 1)].accept(r));
  }

  /** Waits until no request is being answered: each has ended or lost its connection. */
  public boolean awaitNoRequestInFlight(long timeout, TimeUnit unit) {
    return Await.until(Duration.ofNanos(unit.toNanos(timeout)), () -> requestsInFlight.get() == 0);
  }

  /** Waits until every connection opened so far has been closed. */
  public boolean awaitAllConnectionsClosed(long timeout, TimeUnit unit) {
    try {
      CompletableFuture.allOf(connectionCloses.toArray(CompletableFuture[]::new)).get(timeout, unit);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  @Override
  public void close() {
    Await.result(server.close());
  }
}
