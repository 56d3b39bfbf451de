package dev.llmrouter.server;

import io.netty.channel.Channel;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.HttpServerConnection;
import io.vertx.core.net.NetClient;
import java.net.InetSocketAddress;
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
  /** How many times a drain tries the closed port before it tells the connections GOAWAY all the same. */
  private static final int MAX_PORT_PROBES = 1000;

  private final Vertx vertx;
  private final String deployment;
  private final List<Listener> listeners;
  private final AtomicReference<Future<Void>> closed = new AtomicReference<>();
  /** The socket the servers share, as their first connection knows it (Vert.x keeps it to itself). */
  private final AtomicReference<Channel> listening;

  /** One event loop's server and its HTTP/2 connections. */
  private record Listener(HttpServer server, TwoStepGoAway connections) {
  }

  private EventLoopListeners(Vertx vertx, String deployment, List<Listener> listeners,
      AtomicReference<Channel> listening) {
    this.vertx = vertx;
    this.deployment = deployment;
    this.listeners = listeners;
    this.listening = listening;
  }

  /**
   * Listens on {@code host:port} (0 picks a free port, shared by all the loops) with {@code loops} servers; Vert.x
   * gives each its own event loop as long as it has that many (its {@code eventLoopPoolSize}).
   */
  static Future<EventLoopListeners> listen(Vertx vertx, int loops, HttpServerOptions options,
      Handler<HttpServerRequest> handler, String host, int port) {
    int sharedPort = port == 0 ? -NEXT_SHARED_RANDOM_PORT.incrementAndGet() : port;
    Queue<Listener> listeners = new ConcurrentLinkedQueue<>();
    AtomicReference<Channel> listening = new AtomicReference<>();
    return vertx.deployVerticle(() -> context -> {
      TwoStepGoAway connections = new TwoStepGoAway(context);
      return vertx.createHttpServer(new HttpServerOptions(options))
          .requestHandler(handler)
          .connectionHandler(connection -> {
            listening.compareAndSet(null, ((HttpServerConnection) connection).channelHandlerContext().channel()
                .parent());
            connections.opened(connection);
          })
          .listen(sharedPort, host).onSuccess(server -> listeners.add(new Listener(server, connections)));
    }, new DeploymentOptions().setInstances(loops))
        .map(deployment -> new EventLoopListeners(vertx, deployment, List.copyOf(listeners), listening));
  }

  /** The port the servers share. */
  int port() {
    return listeners.get(0).server().actualPort();
  }

  /** Every loop's server (to update their TLS options together). */
  List<HttpServer> servers() {
    return listeners.stream().map(Listener::server).toList();
  }

  /**
   * Stops listening gracefully: the port is closed first (a connection that comes later is refused, which a balancer
   * retries elsewhere); then each server's HTTP/2 connections are told to go away in two steps ({@link TwoStepGoAway}),
   * so that the streams a client sent before it knew are served, and each server gives the requests in flight up to
   * {@code grace} to end before it closes its connections (an HTTP/1.1 connection closes after its request under
   * way); then the deployment goes.
   *
   * @return completed once no connection takes new streams any more (each had its final GOAWAY)
   */
  Future<Void> goAway(Duration grace) {
    // Vert.x's shutdown closes the port only once every loop's server has stopped, and closes a connection accepted
    // meanwhile for a loop already stopped: a balancer whose connections are told GOAWAY would open new ones then.
    Channel socket = listening.get();
    Future<Void> portClosed = Future.succeededFuture();
    if (socket != null) {
      InetSocketAddress address = (InetSocketAddress) socket.localAddress();
      portClosed = Future.<Void>future(closing -> socket.close().addListener(closed -> closing.complete()))
          .compose(v -> refusing(address));
    }
    return portClosed.compose(v -> {
      List<Future<Void>> toldFinally = listeners.stream().map(listener -> listener.connections().goAway()).toList();
      close(grace);
      return Future.all(toldFinally).mapEmpty();
    });
  }

  /**
   * Completed once a connection to {@code address} is refused: a closed NIO socket goes on listening until its
   * acceptor's next select, and a connection the kernel accepts meanwhile is reset when it really closes.
   */
  private Future<Void> refusing(InetSocketAddress address) {
    String host = address.getAddress().isAnyLocalAddress() ? "127.0.0.1" : address.getHostString();
    NetClient probes = vertx.createNetClient();
    Promise<Void> refused = Promise.promise();
    probe(probes, host, address.getPort(), MAX_PORT_PROBES, refused);
    return refused.future().eventually(probes::close);
  }

  /** Tries to connect until refused, a millisecond apart; after {@code left} tries, goes on all the same. */
  private void probe(NetClient probes, String host, int port, int left, Promise<Void> refused) {
    probes.connect(port, host).onComplete(probe -> {
      if (probe.failed() || left <= 1) {
        refused.complete();
      } else {
        probe.result().close();
        vertx.setTimer(1, id -> probe(probes, host, port, left - 1, refused));
      }
    });
  }

  /**
   * Stops listening: each server stops taking connections at once, and gives the requests in flight up to
   * {@code grace} to end (an HTTP/2 connection goes away in {@link TwoStepGoAway two steps}) before its connections
   * are closed; then the deployment goes. Only the first call closes them; every call gets its future.
   */
  Future<Void> close(Duration grace) {
    Promise<Void> done = Promise.promise();
    if (!closed.compareAndSet(null, done.future())) {
      return closed.get();
    }
    Future.all(servers().stream().map(server -> server.shutdown(grace.toMillis(), TimeUnit.MILLISECONDS))
        .toList()).compose(v -> vertx.undeploy(deployment)).onComplete(done);
    return done.future();
  }
}
