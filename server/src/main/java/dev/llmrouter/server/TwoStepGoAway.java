package dev.llmrouter.server;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.impl.Http2ServerConnection;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The HTTP/2 connections of one event loop's listener, told to go away in two steps when the router drains (RFC 9113
 * §6.8): first GOAWAY with the largest stream id and a PING, so that the client opens no new stream there and a stream
 * it sent before it read the GOAWAY is still served; then, once the PING's answer is back (the client has read the
 * GOAWAY) or after {@link #PING_ANSWER_BOUND}, GOAWAY again with the last stream id received, after which HTTP/2
 * refuses a stream (REFUSED_STREAM, which clients retry elsewhere). The single GOAWAY of Vert.x's shutdown refuses the
 * streams that cross it, and a balancer cannot retry a gRPC call it has begun to send (nginx's grpc_pass). Confined to
 * its event loop.
 */
final class TwoStepGoAway {

  /** How long the final GOAWAY waits for its PING's answer (a stuck client never answers): grpc-java's Netty bound. */
  static final Duration PING_ANSWER_BOUND = Duration.ofSeconds(10);

  private static final long NO_ERROR = 0;
  private static final int LARGEST_STREAM_ID = Integer.MAX_VALUE;
  private static final Buffer PING_DATA = Buffer.buffer().appendLong(0x676f2d61776179L); // "go-away"

  private final Context loop;
  /** The open HTTP/2 connections; those between their two GOAWAYs with the promise their PING's answer completes. */
  private final Map<HttpConnection, Promise<Void>> open = new HashMap<>();
  private final Promise<Void> allToldFinally = Promise.promise();
  private boolean goingAway;
  private int betweenGoAways;

  /** @param loop the event loop (context) of the listener whose connections these are */
  TwoStepGoAway(Context loop) {
    this.loop = loop;
  }

  /** A connection of the listener opened (on its loop): one that opens while the others go away goes away at once. */
  void opened(HttpConnection connection) {
    if (!(connection instanceof Http2ServerConnection)) {
      return; // HTTP/1.1: Vert.x's shutdown closes it after the request under way
    }
    open.put(connection, null);
    connection.closeHandler(v -> {
      Promise<Void> pingAnswer = open.remove(connection);
      if (pingAnswer != null) {
        pingAnswer.tryComplete();
      }
    });
    if (goingAway) {
      firstGoAway(connection);
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
        List.copyOf(open.keySet()).forEach(this::firstGoAway);
        allToldIfSo();
      }
    });
    return allToldFinally.future();
  }

  private void firstGoAway(HttpConnection connection) {
    Promise<Void> pingAnswer = Promise.promise();
    open.put(connection, pingAnswer);
    betweenGoAways++;
    connection.goAway(NO_ERROR, LARGEST_STREAM_ID);
    connection.ping(PING_DATA).onComplete(answer -> pingAnswer.tryComplete());
    long bound = loop.owner().setTimer(PING_ANSWER_BOUND.toMillis(), id -> pingAnswer.tryComplete());
    pingAnswer.future().onComplete(v -> {
      loop.owner().cancelTimer(bound);
      connection.goAway(NO_ERROR); // the last stream id received
      betweenGoAways--;
      allToldIfSo();
    });
  }

  private void allToldIfSo() {
    if (betweenGoAways == 0) {
      allToldFinally.tryComplete();
    }
  }
}
