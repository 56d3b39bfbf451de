import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;

/**
 * SQLite's part of a call log row, by the shape of the row: see call-log-row-cost.sh.
 *
 * <p>Usage: java -cp llm-router.jar bench/CallLogRowCost.java CALLS_DB WORK_DIR ROWS PASSES, where CALLS_DB is a call
 * log the router wrote, whose one call's row is copied, each copy with its own id, start and trace id.
 */
public class CallLogRowCost {

  private static final int ROWS_PER_INSERT = 32; // as SqliteCallStore
  private static final int ROWS_PER_COMMIT = 3_520; // about what the writer commits every 50 ms at 70k calls/s
  private static final long CALLS_PER_MS = 70;

  /**
   * A table to insert into: some of the call log's columns, with the listed indexes; {@code indexes} null for the call
   * log's own table, copied from the sample whole.
   */
  private record Shape(String name, List<String> columns, List<String> indexes) {
  }

  public static void main(String[] args) throws Exception {
    Path sample = Path.of(args[0]);
    Path work = Path.of(args[1]);
    int rows = Integer.parseInt(args[2]);
    int passes = Integer.parseInt(args[3]);
    List<String> allColumns = new ArrayList<>();
    List<Object> sampleRow = new ArrayList<>();
    try (Connection connection = connect(sample);
        ResultSet row = connection.createStatement().executeQuery("SELECT * FROM calls LIMIT 1")) {
      for (int column = 1; column <= row.getMetaData().getColumnCount(); column++) {
        allColumns.add(row.getMetaData().getColumnName(column));
        sampleRow.add(row.getObject(column));
      }
    }
    List<String> byTimeAndTrace = List.of("start_ms", "trace_id, start_ms");
    List<Shape> shapes = List.of(
        new Shape("the call log's own table (its columns and indexes)", allColumns, null),
        new Shape("id, start, trace, details; by time and trace", List.of("id", "start_ms", "trace_id", "details"),
            byTimeAndTrace),
        new Shape("id, start, trace, details; no index", List.of("id", "start_ms", "trace_id", "details"), List.of()),
        new Shape("details only; no index", List.of("details"), List.of()));

    // The ids, starts and trace ids the router would give these calls, made before any clock starts.
    long now = System.currentTimeMillis();
    List<String> ids = new ArrayList<>(rows);
    List<String> traces = new ArrayList<>(rows);
    for (int i = 0; i < rows; i++) {
      ids.add(String.format("%032x", 0x5eed_0000_0000L + i * 7_919L));
      traces.add(String.format("%016x%016x", now + i / CALLS_PER_MS, i * 104_729L));
    }

    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    System.out.printf("%-52s %s%n", "row shape", "CPU per row, one pass after another (µs)");
    for (Shape shape : shapes) {
      StringBuilder line = new StringBuilder(String.format("%-52s", shape.name()));
      for (int pass = 1; pass <= passes; pass++) {
        Path file = work.resolve("pass.db");
        for (String suffix : List.of("", "-wal", "-shm")) {
          Files.deleteIfExists(Path.of(file + suffix));
        }
        try (Connection connection = open(file, sample, shape)) {
          List<Object> values = new ArrayList<>();
          for (String column : shape.columns()) {
            values.add(sampleRow.get(allColumns.indexOf(column)));
          }
          long cpu = threads.getCurrentThreadCpuTime();
          insert(connection, shape.columns(), values, ids, traces, now);
          line.append(String.format(" %6.2f", (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / rows));
        }
      }
      System.out.println(line);
    }
  }

  /** A new file with the shape's table, on the call log's settings. */
  private static Connection open(Path file, Path sample, Shape shape) throws Exception {
    if (shape.indexes() == null) {
      Files.copy(sample, file, StandardCopyOption.REPLACE_EXISTING);
    }
    Connection connection = connect(file);
    try (Statement statement = connection.createStatement()) {
      statement.execute("PRAGMA page_size = 16384"); // as SqliteCallStore (a new file only)
      statement.execute("PRAGMA journal_mode = WAL");
      statement.execute("PRAGMA synchronous = NORMAL");
      statement.execute("PRAGMA cache_size = -4096");
      if (shape.indexes() == null) {
        statement.execute("DELETE FROM calls");
      } else {
        statement.execute("ATTACH '" + sample + "' AS sample");
        statement.execute("CREATE TABLE calls AS SELECT " + String.join(", ", shape.columns())
            + " FROM sample.calls WHERE 0");
        statement.execute("DETACH sample");
        for (int index = 0; index < shape.indexes().size(); index++) {
          statement.execute("CREATE INDEX calls_" + index + " ON calls (" + shape.indexes().get(index) + ")");
        }
      }
    }
    connection.setAutoCommit(false);
    return connection;
  }

  /** A connection as the call log's own: no generated-keys query after each INSERT, no mutex. */
  private static Connection connect(Path file) throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    config.setGetGeneratedKeys(false);
    config.setOpenMode(SQLiteOpenMode.NOMUTEX);
    return DriverManager.getConnection("jdbc:sqlite:" + file, config.toProperties());
  }

  /** Inserts one row per id, as the writer does: the sample's values, with each call's own id, start and trace. */
  private static void insert(Connection connection, List<String> columns, List<Object> values, List<String> ids,
      List<String> traces, long now) throws SQLException {
    String row = "(" + String.join(", ", Collections.nCopies(columns.size(), "?")) + ")";
    String sql = "INSERT OR FAIL INTO calls (" + String.join(", ", columns) + ") VALUES "
        + String.join(", ", Collections.nCopies(ROWS_PER_INSERT, row));
    int id = columns.indexOf("id");
    int start = columns.indexOf("start_ms");
    int trace = columns.indexOf("trace_id");
    try (PreparedStatement insert = connection.prepareStatement(sql)) {
      for (int done = 0; done + ROWS_PER_INSERT <= ids.size(); done += ROWS_PER_INSERT) {
        int parameter = 1;
        for (int call = done; call < done + ROWS_PER_INSERT; call++) {
          for (int column = 0; column < columns.size(); column++) {
            Object value = column == id ? ids.get(call) : column == start ? now + call / CALLS_PER_MS
                : column == trace ? traces.get(call) : values.get(column);
            insert.setObject(parameter++, value);
          }
        }
        insert.executeUpdate();
        if ((done + ROWS_PER_INSERT) % ROWS_PER_COMMIT == 0) {
          connection.commit();
        }
      }
      connection.commit();
    }
  }
}
