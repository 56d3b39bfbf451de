package dev.llmrouter.server.observe;

import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.cassettes.Redactor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;

/**
 * The call log in a SQLite file, {@code <data_dir>/calls.db}: the default, for one router. Its schema version is
 * kept in `PRAGMA user_version` and brought up to date on open ({@link CallTable#MIGRATIONS}).
 */
final class SqliteCallStore implements CallStore {

  private static final int ROWS_PER_INSERT = 32;
  private static final Set<PosixFilePermission> OWNER_ONLY_FOLDER = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");

  private final Path file;
  private final Redactor redactor;
  private final Connection connection;
  private final PreparedStatement insertRows;
  private final PreparedStatement insertRow;
  private final PreparedStatement insertTag;
  private final PreparedStatement deleteTags;
  private final PreparedStatement deleteCalls;

  private SqliteCallStore(Path file, Redactor redactor, Connection connection) throws SQLException {
    this.file = file;
    this.redactor = redactor;
    this.connection = connection;
    this.insertRows = connection.prepareStatement(CallTable.insertCalls(ROWS_PER_INSERT));
    this.insertRow = connection.prepareStatement(CallTable.insertCalls(1));
    this.insertTag = connection.prepareStatement(CallTable.insertTag(CallTable.Dialect.SQLITE));
    this.deleteTags = connection.prepareStatement(CallTable.DELETE_TAGS);
    this.deleteCalls = connection.prepareStatement(CallTable.DELETE_CALLS);
  }

  /**
   * Opens (or creates) {@code <dataDir>/calls.db}. The file (and SQLite's WAL beside it, which takes its permissions)
   * is readable by the router's user only, as is a data folder it creates: prompts are private.
   *
   * @throws IllegalStateException naming the file when it cannot be opened
   */
  static SqliteCallStore open(Path dataDir, Redactor redactor) {
    Path file = dataDir.resolve(CallLog.FILE_NAME);
    try {
      if (!Files.isDirectory(dataDir)) {
        Files.createDirectories(dataDir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FOLDER));
      }
      if (!Files.exists(file)) {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
      }
      Files.setPosixFilePermissions(file, OWNER_ONLY_FILE);
      Connection connection = connect(file);
      try (Statement statement = connection.createStatement()) {
        // Larger pages: fewer WAL frames per batch (takes effect on a new file only).
        statement.execute("PRAGMA page_size = 16384");
        // WAL lets `calls list` and the query RPCs read while the writer writes; NORMAL syncs at checkpoints only.
        statement.execute("PRAGMA journal_mode = WAL");
        statement.execute("PRAGMA synchronous = NORMAL");
        // A small page cache: inserts touch the ends of the indexes only, and the CPU caches are the event loop's too.
        statement.execute("PRAGMA cache_size = -4096");
        // One transaction: a migration cut short leaves the file as it was.
        statement.execute("BEGIN");
        migrate(statement);
        for (String ddl : CallTable.SCHEMA) {
          statement.execute(ddl);
        }
        statement.execute("PRAGMA user_version = " + CallTable.SCHEMA_VERSION);
        statement.execute("COMMIT");
      }
      connection.setAutoCommit(false);
      return new SqliteCallStore(file, redactor, connection);
    } catch (IOException | SQLException e) {
      throw new IllegalStateException("cannot open the call log " + file + ": " + e.getMessage(), e);
    }
  }

  /** A connection for one thread at a time, as each here is. */
  static Connection connect(Path file) throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    // Otherwise the driver runs a second query after every INSERT, for getGeneratedKeys(), which nothing here uses.
    config.setGetGeneratedKeys(false);
    // No mutex around every SQLite call (one per bound value): a connection is never shared between threads.
    config.setOpenMode(SQLiteOpenMode.NOMUTEX);
    return DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath(), config.toProperties());
  }

  /** Brings a call log of an earlier schema version up to date, keeping its calls; a new file needs nothing. */
  private static void migrate(Statement statement) throws SQLException {
    int version;
    try (var row = statement.executeQuery("PRAGMA user_version")) {
      version = row.getInt(1);
    }
    for (int next = Math.max(version, 1) + 1; version > 0 && next <= CallTable.SCHEMA_VERSION; next++) {
      for (String ddl : CallTable.MIGRATIONS.get(next - 2)) {
        statement.execute(ddl);
      }
    }
  }

  @Override
  public int rowsPerStatement() {
    return ROWS_PER_INSERT;
  }

  /** The rows {@value #ROWS_PER_INSERT} to a statement, the rest one by one, then their tags. */
  @Override
  public void insert(List<CallRecord> rows) throws SQLException {
    int full = rows.size() - rows.size() % ROWS_PER_INSERT;
    CallTable.RowParameters manyRows = CallTable.parametersOf(insertRows);
    for (int start = 0; start < full; start += ROWS_PER_INSERT) {
      int parameter = 1;
      for (CallRecord record : rows.subList(start, start + ROWS_PER_INSERT)) {
        parameter = CallTable.bind(manyRows, parameter, record, redactor);
      }
      insertRows.executeUpdate();
    }
    CallTable.RowParameters oneRow = CallTable.parametersOf(insertRow);
    for (CallRecord record : rows.subList(full, rows.size())) {
      CallTable.bind(oneRow, 1, record, redactor);
      insertRow.executeUpdate();
    }
    for (CallRecord record : rows) {
      for (String tag : record.getTagsList()) {
        insertTag.setString(1, tag);
        insertTag.setString(2, record.getId());
        insertTag.executeUpdate();
      }
    }
  }

  @Override
  public void commit() throws SQLException {
    connection.commit();
  }

  @Override
  public void rollBack() {
    try {
      connection.rollback();
    } catch (SQLException ignored) {
      // the next statement starts a new transaction anyway
    }
  }

  @Override
  public int prune(long beforeMillis, int limit) throws SQLException {
    for (PreparedStatement delete : List.of(deleteTags, deleteCalls)) {
      delete.setLong(1, beforeMillis);
      delete.setInt(2, limit);
    }
    deleteTags.executeUpdate();
    int calls = deleteCalls.executeUpdate();
    connection.commit();
    return calls;
  }

  @Override
  public CallQueries queries() {
    return new CallQueries(file);
  }

  @Override
  public void close() throws SQLException {
    connection.close();
  }

  @Override
  public String toString() {
    return file.toString();
  }
}
