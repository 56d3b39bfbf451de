package dev.llmrouter.server.observe;

import dev.llmrouter.server.config.PostgresUrl;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.Locale;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * One `call_log.postgres_url` as each client wants it: a pool of the reactive client (the writer) and a JDBC data
 * source (Flyway's migrations and the queries), with the same user, password, TLS mode, timeout and application
 * name.
 */
public final class PostgresClients {

  /** How the router's connections show in `pg_stat_activity`. */
  static final String APPLICATION_NAME = "llm-router";
  private static final int CONNECT_TIMEOUT_SECONDS = 10;

  private PostgresClients() {
  }

  /**
   * A pool of the reactive client holding one connection (the writer has one transaction at a time), which it
   * reconnects when the database comes back. With sslmode require (or allow, prefer) the server's certificate is not
   * checked, as libpq does.
   */
  static Pool pool(Vertx vertx, PostgresUrl url) {
    PgConnectOptions options = new PgConnectOptions().setHost(url.host()).setPort(url.port())
        .setDatabase(url.database()).setUser(url.user())
        .setSslMode(SslMode.of(url.sslMode()))
        // The writer's statements are the same every turn: parsed once.
        .setCachePreparedStatements(true);
    url.password().ifPresent(options::setPassword); // none: a server that trusts the user asks for none
    options.addProperty("application_name", APPLICATION_NAME);
    if (!url.sslMode().equals("disable")) {
      options.setSslOptions(new ClientSSLOptions().setTrustAll(true));
    }
    return PgBuilder.pool().with(new PoolOptions().setMaxSize(1))
        .with(new NetClientOptions().setConnectTimeout(CONNECT_TIMEOUT_SECONDS * 1000))
        .connectingTo(options).using(vertx).build();
  }

  /** A JDBC data source: each {@code getConnection()} opens a new connection. */
  public static DataSource jdbc(PostgresUrl url) {
    PGSimpleDataSource source = new PGSimpleDataSource();
    source.setServerNames(new String[] {url.host()});
    source.setPortNumbers(new int[] {url.port()});
    source.setDatabaseName(url.database());
    source.setUser(url.user());
    url.password().ifPresent(source::setPassword);
    source.setSslMode(url.sslMode().toLowerCase(Locale.ROOT));
    source.setApplicationName(APPLICATION_NAME);
    source.setConnectTimeout(CONNECT_TIMEOUT_SECONDS);
    return source;
  }
}
