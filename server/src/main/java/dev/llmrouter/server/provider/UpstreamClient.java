package dev.llmrouter.server.provider;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import java.util.ArrayDeque;

/**
 * A deployment's pooled HTTP client, and the line in front of it. The pool opens at most {@code max_connections}
 * connections: over HTTP/1.1 (`http://` hosts) each carries one request at a time; `https://` hosts are offered
 * HTTP/2 (ALPN), where each carries up to {@link #HTTP2_STREAMS_PER_CONNECTION} (an HTTP/1.1-only host still gets
 * HTTP/1.1). Requests beyond what the connections carry wait here, in order, rather than in the pool: a request that
 * stops waiting (its caller left, or its wait ran out) leaves the line, and the pool never opens a connection for it.
 * Shared by the calls of every event loop.
 */
public final class UpstreamClient {

  /** The most requests one HTTP/2 connection carries at once (fewer when the host says so). */
  static final int HTTP2_STREAMS_PER_CONNECTION = 100;

  private final Vertx vertx;
  private final HttpClient http;
  private final int maxConnections;
  private final int requestsAtOnce;
  private final ArrayDeque<Turn> waiting = new ArrayDeque<>();
  private int requestsInFlight;

  private UpstreamClient(Vertx vertx, HttpClient http, int maxConnections, int requestsAtOnce) {
    this.vertx = vertx;
    this.http = http;
    this.maxConnections = maxConnections;
    this.requestsAtOnce = requestsAtOnce;
  }

  /** Opens the client of a deployment, sized by its {@code max_connections}. */
  static UpstreamClient open(Vertx vertx, ProviderConfig deployment) {
    boolean http2 = deployment.baseUrl().startsWith("https://");
    HttpClientOptions options = new HttpClientOptions().setKeepAlive(true).setConnectTimeout(10_000)
        .setDecompressionSupported(true);
    if (http2) {
      options.setProtocolVersion(HttpVersion.HTTP_2).setUseAlpn(true)
          .setHttp2MultiplexingLimit(HTTP2_STREAMS_PER_CONNECTION);
    }
    int maxConnections = deployment.maxConnections();
    HttpClient http = vertx.createHttpClient(options,
        new PoolOptions().setHttp1MaxSize(maxConnections).setHttp2MaxSize(maxConnections));
    return new UpstreamClient(vertx, http, maxConnections,
        http2 ? maxConnections * HTTP2_STREAMS_PER_CONNECTION : maxConnections);
  }

  Vertx vertx() {
    return vertx;
  }

  HttpClient http() {
    return http;
  }

  int maxConnections() {
    return maxConnections;
  }

  /** A new request's turn on the connections, to {@link Turn#take take}. */
  Turn turn() {
    return new Turn(vertx.getOrCreateContext());
  }

  public Future<Void> close() {
    return http.close();
  }

  /** One request's place: waiting in line, then using a connection until it ends. */
  final class Turn {

    private final Context context;
    private Runnable go;
    private boolean waited;
    private boolean ended;

    private Turn(Context context) {
      this.context = context;
    }

    /**
     * Takes the turn: {@code go} runs at once (before this returns) when the connections have room, otherwise on
     * the caller's context when a request ahead ends. The turn must be {@link #end ended} either way.
     */
    void take(Runnable go) {
      this.go = go;
      synchronized (UpstreamClient.this) {
        waited = requestsInFlight >= requestsAtOnce;
        if (waited) {
          waiting.addLast(this);
        } else {
          requestsInFlight++;
        }
      }
      if (!waited) {
        go.run();
      }
    }

    /** Whether the request had to wait in line (all connections were busy when it came). */
    boolean waited() {
      return waited;
    }

    /** Whether the request is still in line. */
    boolean isWaiting() {
      synchronized (UpstreamClient.this) {
        return waiting.contains(this);
      }
    }

    /** Leaves the line, or hands the connection to the next request in line; once, whichever comes first. */
    void end() {
      Turn next;
      synchronized (UpstreamClient.this) {
        if (ended) {
          return;
        }
        ended = true;
        if (waiting.remove(this)) {
          return;
        }
        next = waiting.pollFirst();
        if (next == null) {
          requestsInFlight--;
        }
      }
      if (next != null) {
        next.context.runOnContext(v -> next.go.run());
      }
    }
  }
}
