package dev.llmrouter.server.testing;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The call log of a router under test, in one of its two stores: a SQLite file in a data folder, or a database of its
 * own on a {@link PostgresServer}. It gives the YAML that puts a router's call log there, the `calls` command's flags
 * that read it, and JDBC connections to look into its tables: tests of the call log run once on each store.
 */
public final class TestCallLog {

  /** Where the call log is kept. */
  public enum Store { SQLITE, POSTGRES }

  private final Store store;
  private final Path dataDir;
  private final PostgresServer server;
  private final String database;

  private TestCallLog(Store store, Path dataDir, PostgresServer server, String database) {
    this.store = store;
    this.dataDir = dataDir;
    this.server = server;
    this.database = database;
  }

  /** The SQLite call log of the data folder {@code dataDir}. */
  public static TestCallLog sqlite(Path dataDir) {
    return new TestCallLog(Store.SQLITE, dataDir, null, null);
  }

  /** The call log in a new, empty database on {@code server}. */
  public static TestCallLog postgres(PostgresServer server) {
    return new TestCallLog(Store.POSTGRES, null, server, server.createDatabase());
  }

  public Store store() {
    return store;
  }

  /** `call_log.postgres_url` (with the password); only on PostgreSQL. */
  public String postgresUrl() {
    return server.url(database);
  }

  /** The config that puts a router's call log here, with more `call_log:` fields ("queue_size: 1"), or none (""). */
  public String yaml(String callLogFields) {
    if (store == Store.SQLITE) {
      return "data_dir: \"" + dataDir + "\"\ncall_log: { " + callLogFields + " }\n";
    }
    return "call_log: { postgres_url: \"" + postgresUrl() + "\"" + (callLogFields.isEmpty() ? "" : ", "
        + callLogFields) + " }\n";
  }

  /** The flags of the `calls` command that read this call log. */
  public List<String> commandFlags() {
    return store == Store.SQLITE ? List.of("--data-dir", dataDir.toString())
        : List.of("--postgres-url", postgresUrl());
  }

  /** A JDBC connection to the call log's tables. */
  public Connection connect() throws SQLException {
    return store == Store.SQLITE ? DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("calls.db"))
        : server.connect(database);
  }

  /** Holds the lock writers need until closed: the router's writer waits, as behind a slow disk or database. */
  public AutoCloseable holdWrites() throws SQLException {
    Connection connection = connect();
    Statement statement = connection.createStatement();
    if (store == Store.SQLITE) {
      statement.execute("BEGIN EXCLUSIVE");
      return () -> {
        statement.execute("COMMIT");
        connection.close();
      };
    }
    connection.setAutoCommit(false);
    statement.execute("LOCK TABLE calls IN EXCLUSIVE MODE"); // readers go on; INSERTs wait
    return () -> {
      connection.commit();
      connection.close();
    };
  }

  @Override
  public String toString() {
    return store == Store.SQLITE ? "SQLite" : "PostgreSQL";
  }
}
