package dev.llmrouter.server.tls;

import dev.llmrouter.server.config.TlsConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * TLS on the router's listeners, from the `tls:` files: the options they listen with and, once they listen, a look at
 * the files' modification times every {@link #CHECK_EVERY}. Changed files are read and checked again, then served to
 * new connections (those open keep theirs); files that do not pass the checks are refused with one log line, and the
 * certificate served so far stays.
 */
public final class ListenerTls {

  /** How often the files' modification times are looked at: a stat of two or three files. */
  private static final Duration CHECK_EVERY = Duration.ofSeconds(1);

  private static final System.Logger LOG = System.getLogger("llmrouter");

  /** What a look at one file saw; a file that cannot be looked at (gone mid-rotation) is seen as absent. */
  private record FileStamp(long lastModified, long size) {
    static final FileStamp ABSENT = new FileStamp(-1, -1);
  }

  private final Vertx vertx;
  private final TlsConfig config;
  // The fields below change on the timer's event loop only.
  private TlsCredentials served;
  private List<FileStamp> seen;
  private boolean checking;
  private long timer = -1;

  private ListenerTls(Vertx vertx, TlsConfig config, TlsCredentials served, List<FileStamp> seen) {
    this.vertx = vertx;
    this.config = config;
    this.served = served;
    this.seen = seen;
  }

  /**
   * Reads and checks the files, on a worker.
   *
   * @return fails with a {@link dev.llmrouter.server.config.ConfigException} naming the field and file at fault
   */
  public static Future<ListenerTls> load(Vertx vertx, TlsConfig config) {
    // The stamps are taken before the files are read, so that a change in between is seen by the first check.
    return stamps(vertx, config).compose(stamps -> vertx.executeBlocking(() -> TlsCredentials.read(vertx, config))
        .map(credentials -> new ListenerTls(vertx, config, credentials, stamps)));
  }

  /**
   * {@code options} with TLS on: the certificate and key, ALPN offering h2 and http/1.1, and client certificates
   * required under mTLS. The one place where a listener's TLS is set.
   */
  public HttpServerOptions secure(HttpServerOptions options) {
    ServerSSLOptions ssl = served.sslOptions();
    options.setSsl(true).setUseAlpn(true).setKeyCertOptions(ssl.getKeyCertOptions())
        .setTrustOptions(ssl.getTrustOptions()).setClientAuth(ssl.getClientAuth());
    return options;
  }

  /** Starts looking at the files; the servers (listening, with {@link #secure} options) get each accepted change. */
  public void reloadOnChange(List<HttpServer> servers) {
    timer = vertx.setPeriodic(CHECK_EVERY.toMillis(), id -> check(servers));
  }

  /** Stops looking at the files. */
  public void close() {
    vertx.cancelTimer(timer);
  }

  private void check(List<HttpServer> servers) {
    if (checking) {
      return; // the previous look is still reading or loading the files
    }
    checking = true;
    stamps(vertx, config).compose(stamps -> {
      if (stamps.equals(seen)) {
        return Future.<Void>succeededFuture();
      }
      // Seen from now on, accepted or not: a refused change is logged once, not at every look.
      seen = stamps;
      return reload(servers);
    }).onComplete(done -> checking = false);
  }

  private Future<Void> reload(List<HttpServer> servers) {
    return vertx.executeBlocking(() -> TlsCredentials.read(vertx, config))
        .compose(credentials -> Future.all(servers.stream()
                .map(server -> server.updateSSLOptions(credentials.sslOptions())).toList())
            .onSuccess(updates -> {
              served = credentials;
              // Files touched but unchanged load to the same options, which Vert.x leaves as they are.
              if (updates.<Boolean>list().contains(true)) {
                LOG.log(System.Logger.Level.INFO, "TLS: new connections get " + credentials.describe());
              }
            }))
        .onFailure(refused -> LOG.log(System.Logger.Level.WARNING, "TLS: the changed files are refused, new "
            + "connections still get " + served.describe() + ": " + refused.getMessage()))
        .mapEmpty();
  }

  private static Future<List<FileStamp>> stamps(Vertx vertx, TlsConfig config) {
    return Future.all(config.files().stream().map(file -> stamp(vertx, file)).toList()).map(all -> all.<FileStamp>list());
  }

  private static Future<FileStamp> stamp(Vertx vertx, Path file) {
    return vertx.fileSystem().props(file.toString())
        .map(props -> new FileStamp(props.lastModifiedTime(), props.size()))
        .otherwise(FileStamp.ABSENT);
  }
}
