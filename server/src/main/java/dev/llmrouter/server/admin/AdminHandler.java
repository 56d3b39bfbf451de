package dev.llmrouter.server.admin;

import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.api.ConverseService;
import dev.llmrouter.server.api.ConverseWebSocket;
import dev.llmrouter.server.auth.CallerAuth;
import dev.llmrouter.cassettes.ReplayReport;
import dev.llmrouter.server.config.ReloadReport;
import dev.llmrouter.server.pipeline.CassetteUsageLog;
import io.vertx.core.Future;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The admin HTTP listener ({@code admin_listen}): serves the Prometheus metrics on {@code /metrics}, the live chat
 * page and the console ({@code console.html}), the static files under {@code webroot/} on the classpath, and the
 * pages' gRPC-Web calls.
 *
 * <p>The page calls gRPC-Web on the origin it was loaded from: this listener hands those requests to the same
 * {@link GrpcServer} as the main port, in process. That is simpler than proxying them to the main port, and it keeps
 * CORS off the main port, where allowing cross-origin calls would let any web page the user opens call the router.
 *
 * <p>Where keys are required, every request needs the admin key or a caller key: as `Authorization: Bearer`, or as
 * the password of HTTP Basic credentials, which a browser asks for (a 401 says `WWW-Authenticate: Basic`) and then
 * sends with every request of the page, its gRPC-Web calls included. {@code metricsPublic} leaves `/metrics` open
 * for scrapers.
 *
 * <p>{@code /converse} is `ChatService.Converse` over a WebSocket ({@link ConverseWebSocket}), for the page: the
 * same service, sessions and keys as the gRPC method. A browser sends its cached credentials with a WebSocket to any
 * origin, so a handshake from a page of another origin is refused (403).
 *
 * <p>{@code POST /admin/reload} re-reads the config file, behind the admin key whatever `auth.required` says: 200
 * with what changed (and what needs a restart), or 400 with the new file's problems, the running config kept.
 *
 * <p>{@code POST /admin/cassettes/report} writes the cassette replay report of the calls so far to the files of
 * `--cassette-report` and `--cassette-report-md` (behind the admin key where keys are required): 200 with its counts
 * and the files written, or 409 when no report file was asked for.
 */
public final class AdminHandler implements Handler<HttpServerRequest> {

  private static final String WEBROOT = "webroot";
  private static final String RELOAD_PATH = "/admin/reload";
  private static final String CONVERSE_PATH = "/converse";
  private static final String REPORT_PATH = "/admin/cassettes/report";
  private static final Map<String, String> CONTENT_TYPES = Map.of(
      "html", "text/html; charset=utf-8",
      "js", "text/javascript; charset=utf-8",
      "css", "text/css; charset=utf-8",
      "svg", "image/svg+xml",
      "png", "image/png",
      "ico", "image/x-icon");

  private final Vertx vertx;
  private final Handler<HttpServerRequest> grpc;
  private final PrometheusMeterRegistry metrics;
  private final CallerAuth auth;
  private final boolean metricsPublic;
  private final Supplier<Future<ReloadReport>> reload;
  private final ConverseService converse;
  private final long maxMessageBytes;
  private final CassetteUsageLog cassetteUsage;

  /**
   * @param reload re-reads the config file
   * @param maxMessageBytes the largest Converse request over the WebSocket, as over gRPC
   * @param cassetteUsage what the cassettes did, written as the replay report on request
   */
  public AdminHandler(Vertx vertx, Handler<HttpServerRequest> grpc, PrometheusMeterRegistry metrics, CallerAuth auth,
      boolean metricsPublic, Supplier<Future<ReloadReport>> reload, ConverseService converse, long maxMessageBytes,
      CassetteUsageLog cassetteUsage) {
    this.vertx = vertx;
    this.grpc = grpc;
    this.converse = converse;
    this.maxMessageBytes = maxMessageBytes;
    this.metrics = metrics;
    this.auth = auth;
    this.metricsPublic = metricsPublic;
    this.reload = reload;
    this.cassetteUsage = cassetteUsage;
  }

  @Override
  public void handle(HttpServerRequest request) {
    String contentType = request.getHeader(HttpHeaders.CONTENT_TYPE);
    if (request.path().equals(RELOAD_PATH)) {
      reload(request);
    } else if (request.path().equals(CONVERSE_PATH)) {
      converse(request);
    } else if (request.path().equals(REPORT_PATH)) {
      writeReport(request);
    } else if (contentType != null && contentType.startsWith("application/grpc-web")) {
      grpc.handle(request); // the gRPC services check the key themselves
    } else if (metricsPublic && request.path().equals("/metrics")) {
      serve(request);
    } else {
      auth.authenticate(request.headers(), () -> request.remoteAddress() == null ? "unknown"
          : request.remoteAddress().hostAddress()).onComplete(caller -> {
            if (caller.succeeded()) {
              serve(request);
            } else {
              refuse(request, CallError.of(caller.cause()));
            }
          });
    }
  }

  /** Re-reads the config file for the admin key; the answer says what changed, or why the file was refused. */
  private void reload(HttpServerRequest request) {
    if (request.method() != HttpMethod.POST) {
      request.response().setStatusCode(405).putHeader(HttpHeaders.ALLOW, "POST").end();
      return;
    }
    auth.admin(request.headers(), () -> request.remoteAddress() == null ? "unknown"
        : request.remoteAddress().hostAddress()).compose(admin -> reload.get()).onComplete(reloaded -> {
          if (reloaded.failed()) {
            refuse(request, CallError.of(reloaded.cause()));
            return;
          }
          ReloadReport report = reloaded.result();
          JsonObject body = new JsonObject().put("reloaded", report.applied());
          if (report.applied()) {
            body.put("changed", new JsonArray(report.changed())).put("need_restart",
                new JsonArray(report.needRestart()));
          } else {
            body.put("errors", new JsonArray(report.problems()));
          }
          request.response().setStatusCode(report.applied() ? 200 : 400)
              .putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode() + "\n");
        });
  }

  /** Upgrades to the Converse WebSocket; the service checks the key, as for a gRPC call. */
  private void converse(HttpServerRequest request) {
    if (!"websocket".equalsIgnoreCase(request.getHeader(HttpHeaders.UPGRADE))) {
      request.response().setStatusCode(426).putHeader(HttpHeaders.UPGRADE, "websocket")
          .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
          .end(CONVERSE_PATH + " is ChatService.Converse over a WebSocket: one ConverseRequest per text frame, in "
              + "proto3 JSON\n");
      return;
    }
    if (!sameOrigin(request)) {
      request.response().setStatusCode(403).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
          .end("a WebSocket from a page of another origin (" + request.getHeader(HttpHeaders.ORIGIN) + ") is refused\n");
      return;
    }
    MultiMap metadata = ConverseWebSocket.metadataOf(request);
    request.toWebSocket().onSuccess(socket -> converse.converse(new ConverseWebSocket(socket, metadata,
        maxMessageBytes)));
  }

  /** True without an `Origin` (not a browser), or when it names the host the request was sent to. */
  private static boolean sameOrigin(HttpServerRequest request) {
    String origin = request.getHeader(HttpHeaders.ORIGIN);
    if (origin == null) {
      return true;
    }
    try {
      String authority = URI.create(origin).getAuthority();
      return authority != null && authority.equalsIgnoreCase(request.getHeader(HttpHeaders.HOST));
    } catch (IllegalArgumentException malformed) {
      return false;
    }
  }

  /** Writes the cassette replay report of the calls so far; the answer gives its counts and the files written. */
  private void writeReport(HttpServerRequest request) {
    if (request.method() != HttpMethod.POST) {
      request.response().setStatusCode(405).putHeader(HttpHeaders.ALLOW, "POST").end();
      return;
    }
    Supplier<String> address = () -> request.remoteAddress() == null ? "unknown"
        : request.remoteAddress().hostAddress();
    Future<?> allowed = auth.required() ? auth.admin(request.headers(), address) : Future.succeededFuture();
    allowed.onComplete(admitted -> {
      if (admitted.failed()) {
        refuse(request, CallError.of(admitted.cause()));
      } else if (!cassetteUsage.reportsWanted()) {
        request.response().setStatusCode(409).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
            .end(new JsonObject().put("error", "no report file to write: start the router with --cassette-report "
                + "FILE (JUnit XML) and/or --cassette-report-md FILE (Markdown)").encode() + "\n");
      } else {
        cassetteUsage.writeReports().onComplete(written -> {
          if (written.failed()) {
            request.response().setStatusCode(500).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(new JsonObject().put("error", "the report could not be written: "
                    + written.cause().getMessage()).encode() + "\n");
            return;
          }
          ReplayReport report = written.result().report();
          JsonObject body = new JsonObject().put("written", new JsonArray(written.result().files().stream()
                  .map(Object::toString).toList()))
              .put("hits", report.hits()).put("misses", report.misses()).put("recorded", report.recorded())
              .put("unused", report.unused());
          request.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode() + "\n");
        });
      }
    });
  }

  private static void refuse(HttpServerRequest request, CallError error) {
    int status = switch (error.status()) {
      case UNAUTHENTICATED -> 401;
      case PERMISSION_DENIED -> 403;
      case RESOURCE_EXHAUSTED -> 429;
      default -> 503;
    };
    if (status == 401) {
      request.response().putHeader("www-authenticate", "Basic realm=\"llm-router\", charset=\"UTF-8\"");
    }
    request.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .end(error.getMessage() + "\n");
  }

  private void serve(HttpServerRequest request) {
    if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
      request.response().setStatusCode(405).putHeader(HttpHeaders.ALLOW, "GET, HEAD").end();
    } else if (request.path().equals("/metrics")) {
      serveMetrics(request);
    } else {
      serveFile(request);
    }
  }

  private void serveMetrics(HttpServerRequest request) {
    // A scrape walks every meter: a worker thread's job.
    vertx.executeBlocking(metrics::scrape, false).onComplete(scraped -> {
      if (scraped.failed()) {
        request.response().setStatusCode(500).end(scraped.cause().toString());
        return;
      }
      request.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
          .end(scraped.result());
    });
  }

  private void serveFile(HttpServerRequest request) {
    String path = request.path().equals("/") ? "/index.html" : request.path();
    String extension = path.substring(path.lastIndexOf('.') + 1);
    String contentType = CONTENT_TYPES.get(extension);
    // Only files of known types, and no way out of the webroot.
    if (contentType == null || path.contains("..") || path.contains("//") || path.contains("\\")) {
      request.response().setStatusCode(404).end();
      return;
    }
    vertx.executeBlocking(() -> read(WEBROOT + path)).onComplete(read -> {
      if (read.failed() || read.result() == null) {
        request.response().setStatusCode(read.failed() ? 500 : 404).end();
        return;
      }
      request.response().putHeader(HttpHeaders.CONTENT_TYPE, contentType)
          // The page is rebuilt with the router: always check for a newer one.
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
          .end(read.result());
    });
  }

  /** The resource's bytes, or null when there is none. */
  private static Buffer read(String resource) {
    try (InputStream in = AdminHandler.class.getClassLoader().getResourceAsStream(resource)) {
      return in == null ? null : Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
