package dev.llmrouter.server.provider;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A deployment's pooled HTTP clients, and the line in front of them. At most {@code max_connections} connections' worth
 * of requests are in flight at once: over HTTP/1.1 (`http://` hosts) a connection carries one request at a time;
 * `https://` hosts are offered HTTP/2 (ALPN), where each carries up to {@link #HTTP2_STREAMS_PER_CONNECTION} (an
 * HTTP/1.1-only host still gets HTTP/1.1). Requests beyond that wait here, in order, rather than in a pool: a request
 * that stops waiting (its caller left, or its wait ran out) leaves the line, and no connection is opened for it.
 *
 * <p>Shared by the calls of every event loop, each of which has a pool of its own (of up to {@code max_connections}
 * connections, on that loop): Vert.x hands a request the last connection freed whatever its loop, and every event of
 * an exchange on another loop's connection crosses threads. So a host may see up to {@code event_loops} times
 * {@code max_connections} connections open, of which at most {@code max_connections} are in use.
 */
public final class UpstreamClient {

  /** The most requests one HTTP/2 connection carries at once (fewer when the host says so). */
  static final int HTTP2_STREAMS_PER_CONNECTION = 100;

  private final Vertx vertx;
  private final HttpClientOptions options;
  private final PoolOptions pool;
  private final Map<Thread, HttpClient> httpByEventLoop = new ConcurrentHashMap<>();
  /** For a request sent from a thread that is no event loop's. */
  private final HttpClient httpOffLoop;
  private final int maxConnections;
  private final int requestsAtOnce;
  private final ArrayDeque<Turn> waiting = new ArrayDeque<>();
  private int requestsInFlight;

  private UpstreamClient(Vertx vertx, HttpClientOptions options, PoolOptions pool, int maxConnections,
      int requestsAtOnce) {
    this.vertx = vertx;
    this.options = options;
    this.pool = pool;
    this.httpOffLoop = vertx.createHttpClient(options, pool);
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
    PoolOptions pool = new PoolOptions().setHttp1MaxSize(maxConnections).setHttp2MaxSize(maxConnections);
    return new UpstreamClient(vertx, options, pool, maxConnections,
        http2 ? maxConnections * HTTP2_STREAMS_PER_CONNECTION : maxConnections);
  }

  Vertx vertx() {
    return vertx;
  }

  /** The client of the event loop this runs on, whose connections are that loop's. */
  HttpClient http() {
    if (!Context.isOnEventLoopThread()) {
      return httpOffLoop;
    }
    HttpClient http = httpByEventLoop.get(Thread.currentThread());
    return http != null ? http
        : httpByEventLoop.computeIfAbsent(Thread.currentThread(), loop -> vertx.createHttpClient(options, pool));
  }

  int maxConnections() {
    return maxConnections;
  }

  /** A new request's turn on the connections, to {@link Turn#take take}. */
  Turn turn() {
    return new Turn(vertx.getOrCreateContext());
  }

  public Future<Void> close() {
    List<Future<Void>> closed = new ArrayList<>();
    closed.add(httpOffLoop.close());
    httpByEventLoop.values().forEach(http -> closed.add(http.close()));
    return Future.all(closed).mapEmpty();
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
