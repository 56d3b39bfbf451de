package dev.llmrouter.server.observe;

import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.cassettes.Redactor;
import dev.llmrouter.server.config.PostgresUrl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The call log in a PostgreSQL database that every replica of a fleet writes to and reads from
 * (`call_log.postgres_url`). Written with Vert.x's reactive client: each turn of the writer is one pipelined batch of
 * inserts, calls then tags, in a transaction that its commit ends; the writer's thread waits for the answers, never
 * an event loop. Its schema is migrated by {@link PostgresMigrations} on open; the queries read it over JDBC.
 */
final class PostgresCallStore implements CallStore {

  private static final String INSERT_CALLS = CallTable.insertCallArrays();
  /**
   * The most calls, and about the most bytes of their values, one INSERT carries: a backlog after an outage (up to
   * `queue_size` calls, each up to `max_body_bytes`) must not make a message over PostgreSQL's 1 GB.
   */
  private static final int MAX_ROWS_PER_INSERT = 1000;
  private static final long MAX_BYTES_PER_INSERT = 16L << 20;
  private static final String INSERT_TAG = CallTable.insertTag(CallTable.Dialect.POSTGRES);
  /**
   * The oldest calls before a time, at most so many, with their tags, in one statement; how many calls went. By row
   * address (ctid), since nothing indexes a call's id.
   */
  private static final String PRUNE = """
      WITH old AS (
        DELETE FROM calls WHERE ctid = ANY(ARRAY(
          SELECT ctid FROM calls WHERE start_ms < $1 ORDER BY start_ms LIMIT $2))
        RETURNING id),
      tags AS (DELETE FROM call_tags WHERE call_id IN (SELECT id FROM old))
      SELECT count(*) FROM old""";
  /** The longest the writer waits for PostgreSQL to answer; then the records of the turn are dropped and counted. */
  private static final long ANSWER_SECONDS = 30;

  private final PostgresUrl url;
  private final Redactor redactor;
  private final Pool pool;
  private SqlConnection connection; // holding the open transaction; null when none is open
  private Transaction transaction;

  private PostgresCallStore(PostgresUrl url, Redactor redactor, Pool pool) {
    this.url = url;
    this.redactor = redactor;
    this.pool = pool;
  }

  /**
   * Migrates the schema, then checks that the reactive client connects. Blocks: call it off the event loop.
   *
   * @throws IllegalStateException in one line naming the URL without its password, when either fails
   */
  static PostgresCallStore open(Vertx vertx, PostgresUrl url, Redactor redactor) {
    Pool pool = null;
    try {
      PostgresMigrations.migrate(PostgresClients.jdbc(url), url);
      pool = PostgresClients.pool(vertx, url);
      await(pool.query("SELECT 1").execute());
      return new PostgresCallStore(url, redactor, pool);
    } catch (RuntimeException | SQLException e) {
      if (pool != null) {
        pool.close();
      }
      throw new IllegalStateException("cannot open the call log in PostgreSQL at " + url + ": " + why(e), e);
    }
  }

  /**
   * Why a connection failed, in one line: the driver's own words (refused, wrong password, no such database), with
   * the underlying cause when it says more (an unknown host).
   */
  private static String why(Throwable failure) {
    Throwable driver = failure;
    Throwable root = failure;
    for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
      if (cause instanceof SQLException || cause instanceof PgException) {
        driver = cause;
      }
      root = cause;
    }
    String why = firstLine(driver);
    return root == driver || why.contains(firstLine(root)) ? why
        : why + " (" + root.getClass().getSimpleName() + ": " + firstLine(root) + ")";
  }

  private static String firstLine(Throwable failure) {
    return failure.getMessage() == null ? failure.getClass().getSimpleName()
        : failure.getMessage().lines().findFirst().orElse("").strip();
  }

  /** Any number of rows makes whole statements. */
  @Override
  public int rowsPerStatement() {
    return 1;
  }

  /** The rows in as few statements as their size allows, then their tags: one round trip. */
  @Override
  public void insert(List<CallRecord> rows) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    List<Tuple> calls = new ArrayList<>();
    ColumnArrays statement = null;
    for (int row = 0; row < rows.size(); row++) { // each statement sized to the rows left: the last one ends full
      if (statement == null) {
        statement = new ColumnArrays(Math.min(MAX_ROWS_PER_INSERT, rows.size() - row));
      }
      CallTable.bind(statement, 1, rows.get(row), redactor);
      if (statement.nextRow()) {
        calls.add(statement.tuple());
        statement = null;
      }
    }
    List<Tuple> tags = new ArrayList<>();
    for (CallRecord record : rows) {
      for (String tag : record.getTagsList()) {
        tags.add(Tuple.of(tag, record.getId()));
      }
    }
    if (connection == null) {
      connection = await(pool.getConnection());
      transaction = await(connection.begin());
    }
    // Sent together: the connection pipelines them, and the transaction keeps them in order.
    List<Future<?>> inserted = new ArrayList<>();
    inserted.add(connection.preparedQuery(INSERT_CALLS).executeBatch(calls));
    if (!tags.isEmpty()) {
      inserted.add(connection.preparedQuery(INSERT_TAG).executeBatch(tags));
    }
    await(Future.all(inserted));
  }

  @Override
  public void commit() throws SQLException {
    try {
      await(transaction.commit());
    } finally {
      release();
    }
  }

  @Override
  public void rollBack() {
    try {
      if (transaction != null) {
        await(transaction.rollback());
      }
    } catch (SQLException ignored) {
      // a failed statement has ended the transaction already, or the connection is gone: nothing is left open
    } finally {
      release();
    }
  }

  /** Hands the connection back to the pool, which drops it when it is broken. */
  private void release() {
    if (connection != null) {
      connection.close();
    }
    connection = null;
    transaction = null;
  }

  @Override
  public int prune(long beforeMillis, int limit) throws SQLException {
    return await(pool.preparedQuery(PRUNE).execute(Tuple.of(beforeMillis, (long) limit))).iterator().next()
        .getLong(0).intValue();
  }

  @Override
  public CallQueries queries() {
    return CallQueries.postgres(url);
  }

  @Override
  public void close() throws SQLException {
    rollBack();
    await(pool.close());
  }

  @Override
  public String toString() {
    return url.toString();
  }

  /**
   * Waits for the reactive client's answer, on the writer's thread (or the worker opening the store: never an event
   * loop); its failure as an SQLException.
   */
  private static <T> T await(Future<T> answer) throws SQLException {
    try {
      return answer.toCompletionStage().toCompletableFuture().get(ANSWER_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new SQLException("PostgreSQL did not answer within " + ANSWER_SECONDS + " seconds", e);
    } catch (ExecutionException e) {
      throw new SQLException(e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting for PostgreSQL", e);
    }
  }

  /**
   * The values of up to so many rows, an array per column, as {@link CallTable#bind} sets them row after row, until
   * they are that many or {@link #MAX_BYTES_PER_INSERT} (texts counted by their characters).
   */
  private static final class ColumnArrays implements CallTable.RowParameters {
    private final Object[][] columns;
    private int row;
    private long bytes;

    ColumnArrays(int rows) {
      columns = new Object[CallTable.columnCount()][];
      for (int column = 0; column < columns.length; column++) {
        // Typed as the client encodes the parameter's PostgreSQL array type.
        columns[column] = switch (CallTable.postgresType(column)) {
          case "text" -> new String[rows];
          case "bigint" -> new Long[rows];
          case "double precision" -> new Double[rows];
          case "bytea" -> new Buffer[rows];
          default -> throw new IllegalStateException("no array for " + CallTable.postgresType(column));
        };
      }
    }

    /** The next values set are the next row's; true when this statement is full. */
    boolean nextRow() {
      row++;
      return row == columns[0].length || bytes >= MAX_BYTES_PER_INSERT;
    }

    @Override
    public void setString(int index, String value) {
      columns[index - 1][row] = value;
      bytes += value == null ? 0 : value.length();
    }

    @Override
    public void setLong(int index, long value) {
      columns[index - 1][row] = value;
    }

    @Override
    public void setDouble(int index, double value) {
      columns[index - 1][row] = value;
    }

    @Override
    public void setNull(int index, int sqlType) {
      columns[index - 1][row] = null;
    }

    @Override
    public void setBytes(int index, byte[] value) {
      columns[index - 1][row] = Buffer.buffer(value);
      bytes += value.length;
    }

    /** The rows set so far, as the statement's parameters. */
    Tuple tuple() {
      if (row < columns[0].length) {
        for (int column = 0; column < columns.length; column++) {
          columns[column] = Arrays.copyOf(columns[column], row);
        }
      }
      return Tuple.wrap(columns);
    }
  }
}
