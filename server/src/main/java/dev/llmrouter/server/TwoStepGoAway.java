package dev.llmrouter.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.impl.Http2ServerConnection;
import io.vertx.core.net.impl.ShutdownEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The HTTP/2 connections of one event loop's listener, told to go away in two steps when the router drains (RFC 9113
 * §6.8): first GOAWAY with the largest stream id and a PING, so that the client opens no new stream there and a stream
 * it sent before it read the GOAWAY is still served; then, once the PING's answer is back (the client has read the
 * GOAWAY) or after {@link #PING_ANSWER_BOUND}, GOAWAY again with the last stream id received, after which HTTP/2
 * refuses a stream (REFUSED_STREAM, which clients retry elsewhere). The single GOAWAY of Vert.x's server shutdown
 * refuses the streams that cross it, and a balancer cannot retry a gRPC call it has begun to send (nginx's
 * grpc_pass); so each connection holds back that shutdown (Vert.x's {@link ShutdownEvent}, which then closes it once
 * its streams are done) until its final GOAWAY. Confined to its event loop.
 */
final class TwoStepGoAway {

  /** How long the final GOAWAY waits for its PING's answer (a stuck client never answers): grpc-java's Netty bound. */
  static final Duration PING_ANSWER_BOUND = Duration.ofSeconds(10);

  private static final long NO_ERROR = 0;
  private static final int LARGEST_STREAM_ID = Integer.MAX_VALUE;
  private static final Buffer PING_DATA = Buffer.buffer().appendLong(0x676f2d61776179L); // "go-away"

  private final Context loop;
  private final List<GoingAway> open = new ArrayList<>();
  private final Promise<Void> allToldFinally = Promise.promise();
  private boolean goingAway;
  private int betweenGoAways;

  /** @param loop the event loop (context) of the listener whose connections these are */
  TwoStepGoAway(Context loop) {
    this.loop = loop;
  }

  /** A connection of the listener opened (on its loop): one that opens while the others go away goes away at once. */
  void opened(HttpConnection connection) {
    if (!(connection instanceof Http2ServerConnection http2)) {
      return; // HTTP/1.1: Vert.x's shutdown closes it after the request under way
    }
    GoingAway going = new GoingAway(connection);
    ChannelHandlerContext vertxHandler = http2.channelHandlerContext();
    vertxHandler.pipeline().addBefore(vertxHandler.name(), "two-step-goaway", going);
    open.add(going);
    connection.closeHandler(v -> {
      open.remove(going);
      going.finalGoAway();
    });
    if (goingAway) {
      going.firstGoAway();
    }
  }

  /**
   * Tells every HTTP/2 connection, open or opening, to go away. Only the first call does.
   *
   * @return completed once each has had its final GOAWAY (or closed)
   */
  Future<Void> goAway() {
    loop.runOnContext(v -> {
      if (!goingAway) {
        goingAway = true;
        betweenGoAways++; // until every connection has had its first GOAWAY: a PING may fail at once (closing)
        List.copyOf(open).forEach(GoingAway::firstGoAway);
        betweenGoAways--;
        allToldIfSo();
      }
    });
    return allToldFinally.future();
  }

  private void allToldIfSo() {
    if (betweenGoAways == 0) {
      allToldFinally.tryComplete();
    }
  }

  /** One connection's two steps; in its pipeline, it holds back Vert.x's shutdown until the second. */
  private final class GoingAway extends ChannelInboundHandlerAdapter {

    private final HttpConnection connection;
    private boolean toldFirst;
    private boolean toldFinally;
    private long bound;
    private ChannelHandlerContext pipeline;
    private ShutdownEvent heldShutdown;

    GoingAway(HttpConnection connection) {
      this.connection = connection;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
      pipeline = context;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object event) {
      if (event instanceof ShutdownEvent shutdown && !toldFinally) {
        heldShutdown = shutdown;
        firstGoAway();
      } else {
        context.fireUserEventTriggered(event);
      }
    }

    void firstGoAway() {
      if (toldFirst) {
        return;
      }
      toldFirst = true;
      betweenGoAways++;
      connection.goAway(NO_ERROR, LARGEST_STREAM_ID);
      bound = loop.owner().setTimer(PING_ANSWER_BOUND.toMillis(), id -> finalGoAway());
      connection.ping(PING_DATA).onComplete(answer -> finalGoAway());
    }

    /** The second step, once: the last stream id received; then Vert.x's shutdown, if it came, goes on. */
    void finalGoAway() {
      if (!toldFirst || toldFinally) {
        return;
      }
      toldFinally = true;
      loop.owner().cancelTimer(bound);
      connection.goAway(NO_ERROR);
      if (heldShutdown != null) {
        pipeline.fireUserEventTriggered(heldShutdown);
      }
      betweenGoAways--;
      allToldIfSo();
    }
  }
}
