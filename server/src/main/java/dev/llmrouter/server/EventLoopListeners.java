package dev.llmrouter.server;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One address served by several event loops: an {@link HttpServer} per loop, each made on an event-loop context of
 * its own (the instances of one deployment), all listening on the same host and port. Vert.x hands each new
 * connection to the next loop in turn, and every request of that connection is handled on its loop.
 */
final class EventLoopListeners {

  /** Vert.x shares one random port among the servers listening on the same negative port; 0 gives each its own. */
  private static final AtomicInteger NEXT_SHARED_RANDOM_PORT = new AtomicInteger();

  private final Vertx vertx;
  private final String deployment;
  private final List<HttpServer> servers;
  private final AtomicReference<Future<Void>> closed = new AtomicReference<>();

  private EventLoopListeners(Vertx vertx, String deployment, List<HttpServer> servers) {
    this.vertx = vertx;
    this.deployment = deployment;
    this.servers = servers;
  }

  /**
   * Listens on {@code host:port} (0 picks a free port, shared by all the loops) with {@code loops} servers; Vert.x
   * gives each its own event loop as long as it has that many (its {@code eventLoopPoolSize}).
   */
  static Future<EventLoopListeners> listen(Vertx vertx, int loops, HttpServerOptions options,
      Handler<HttpServerRequest> handler, String host, int port) {
    int sharedPort = port == 0 ? -NEXT_SHARED_RANDOM_PORT.incrementAndGet() : port;
    Queue<HttpServer> servers = new ConcurrentLinkedQueue<>();
    return vertx.deployVerticle(() -> context -> vertx.createHttpServer(new HttpServerOptions(options))
            .requestHandler(handler)
            .listen(sharedPort, host).onSuccess(servers::add), new DeploymentOptions().setInstances(loops))
        .map(deployment -> new EventLoopListeners(vertx, deployment, List.copyOf(servers)));
  }

  /** The port the servers share. */
  int port() {
    return servers.get(0).actualPort();
  }

  /** Every loop's server (to update their TLS options together). */
  List<HttpServer> servers() {
    return servers;
  }

  /**
   * Stops listening: each server stops taking connections at once, and gives the requests in flight up to
   * {@code grace} to end (an HTTP/2 connection is sent GOAWAY) before its connections are closed; then the
   * deployment goes. Only the first call closes them; every call gets its future.
   */
  Future<Void> close(Duration grace) {
    Promise<Void> done = Promise.promise();
    if (!closed.compareAndSet(null, done.future())) {
      return closed.get();
    }
    Future.all(servers.stream().map(server -> server.shutdown(grace.toMillis(), TimeUnit.MILLISECONDS))
        .toList()).compose(v -> vertx.undeploy(deployment)).onComplete(done);
    return done.future();
  }
}
