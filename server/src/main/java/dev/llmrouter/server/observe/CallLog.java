package dev.llmrouter.server.observe;

import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.cassettes.Redactor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The call log's writer: records are queued by the event loop ({@link #append}, which never blocks), then made and
 * written to SQLite by one thread of its own. When the queue is full a record is dropped and counted: the call it describes has
 * succeeded already and must not wait for the disk.
 *
 * <p>The writer inserts what has come every {@code TICK}, in short turns, so it never holds a core an event loop
 * needs for long. It commits every {@code COMMIT}, since a transaction costs a few pages of WAL whatever its size. Only
 * its own clock wakes it, so the scheduler does not move it onto the core of the event loop that woke it.
 *
 * <p>With a retention, it also removes the calls older than that: at start and every {@code PRUNE_EVERY}, in chunks of
 * {@value #PRUNE_CHUNK} calls between its turns, so that a large backlog never holds the new records up for long.
 */
public final class CallLog implements AutoCloseable {

  /** The file name of the call log under the data directory. */
  public static final String FILE_NAME = "calls.db";

  private static final int ROWS_PER_INSERT = 32;
  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  private static final long COMMIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  private static final long PRUNE_EVERY_NANOS = TimeUnit.MINUTES.toNanos(10);
  private static final int PRUNE_CHUNK = 10_000;
  private static final System.Logger LOG = System.getLogger("llmrouter");
  private static final Set<PosixFilePermission> OWNER_ONLY_FOLDER = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");

  private final Path file;
  private final Redactor redactor;
  // Lock-free, with its bound kept beside it: event loops must never wait for the writer.
  private final Queue<Supplier<CallRecord>> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final int queueSize;
  private final Optional<Duration> retention;
  private long prunedInPass;
  private final AtomicLong dropped = new AtomicLong();
  private final Connection connection;
  private final Thread writer;
  private volatile boolean closing;

  private CallLog(Path file, Redactor redactor, int queueSize, Optional<Duration> retention, Connection connection) {
    this.file = file;
    this.redactor = redactor;
    this.queueSize = queueSize;
    this.retention = retention;
    this.connection = connection;
    this.writer = new Thread(this::writeUntilClosed, "llmrouter-call-log");
    writer.setDaemon(true);
  }

  /**
   * Opens (or creates) {@code <dataDir>/calls.db} and starts the writer. The file (and SQLite's WAL beside it, which
   * takes its permissions) is readable by the router's user only, as is a data folder it creates: prompts are private.
   *
   * @param retention how long calls are kept; empty to keep them all
   * @throws IllegalStateException naming the file when it cannot be opened
   */
  public static CallLog open(Path dataDir, int queueSize, Optional<Duration> retention, Redactor redactor) {
    Path file = dataDir.resolve(FILE_NAME);
    try {
      if (!Files.isDirectory(dataDir)) {
        Files.createDirectories(dataDir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FOLDER));
      }
      if (!Files.exists(file)) {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
      }
      Files.setPosixFilePermissions(file, OWNER_ONLY_FILE);
      Connection connection = CallQueries.connect(file);
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
      CallLog log = new CallLog(file, redactor, queueSize, retention, connection);
      log.writer.start();
      return log;
    } catch (IOException | SQLException e) {
      throw new IllegalStateException("cannot open the call log " + file + ": " + e.getMessage(), e);
    }
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

  public Path file() {
    return file;
  }

  /**
   * Queues a record for writing; drops and counts it when the queue is full. Never blocks. The record is made on the
   * writer's thread: {@code record} must read only what no longer changes.
   */
  public void append(Supplier<CallRecord> record) {
    if (closing || queued.incrementAndGet() > queueSize) {
      queued.decrementAndGet();
      dropped.incrementAndGet();
    } else {
      queue.offer(record);
    }
  }

  /** Records dropped because the queue was full (or the log was closing). */
  public long dropped() {
    return dropped.get();
  }

  /** Records waiting for the writer: in the queue, or taken from it but not inserted yet. */
  public int queued() {
    return queued.get();
  }

  /** Writes what is queued, then stops the writer and closes the database. Blocks: call it off the event loop. */
  @Override
  public void close() {
    closing = true;
    LockSupport.unpark(writer);
    try {
      writer.join(TimeUnit.SECONDS.toMillis(30));
      connection.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (SQLException e) {
      LOG.log(System.Logger.Level.WARNING, "closing the call log " + file + ": " + e.getMessage());
    }
  }

  private void writeUntilClosed() {
    List<CallRecord> pending = new ArrayList<>(); // taken from the queue, not inserted yet
    int uncommitted = 0; // inserted in the open transaction
    long transactionStart = 0;
    long nextPrune = System.nanoTime();
    try (PreparedStatement insertRows = connection.prepareStatement(CallTable.insertCalls(ROWS_PER_INSERT));
        PreparedStatement insertRow = connection.prepareStatement(CallTable.insertCalls(1));
        PreparedStatement insertTag = connection.prepareStatement(CallTable.INSERT_TAG);
        PreparedStatement deleteTags = connection.prepareStatement(CallTable.DELETE_TAGS);
        PreparedStatement deleteCalls = connection.prepareStatement(CallTable.DELETE_CALLS)) {
      boolean last = false;
      boolean tookAny = false; // in the last turn
      while (!last) {
        last = closing;
        boolean empty = pending.isEmpty() && uncommitted == 0;
        if (empty) {
          transactionStart = System.nanoTime(); // a transaction's clock starts with the wait its first records came in
        }
        if (!last) {
          // Idle, the writer waits a whole commit interval; while records come, one turn.
          LockSupport.parkNanos(this, empty && !tookAny ? COMMIT_NANOS : TICK_NANOS); // close() cuts it short
        }
        tookAny = false;
        for (Supplier<CallRecord> record = queue.poll(); record != null; record = queue.poll()) {
          tookAny = true;
          try {
            pending.add(record.get());
          } catch (RuntimeException e) { // a bug: reported and counted, never fatal to the log
            queued.decrementAndGet();
            dropped.incrementAndGet();
            LOG.log(System.Logger.Level.ERROR, "cannot make a call record: " + e.getMessage(), e);
          }
        }
        boolean commit = last || System.nanoTime() - transactionStart >= COMMIT_NANOS;
        // Between commits, whole statements only: the rest waits for the next turn.
        List<CallRecord> rows = pending.subList(0, commit ? pending.size()
            : pending.size() - pending.size() % ROWS_PER_INSERT);
        int inserting = rows.size();
        try {
          insert(rows, insertRows, insertRow, insertTag);
          uncommitted += inserting;
          if (commit && uncommitted > 0) {
            connection.commit();
            uncommitted = 0;
          }
        } catch (SQLException | RuntimeException e) {
          uncommitted = rollBack(uncommitted + inserting, e);
        }
        rows.clear();
        queued.addAndGet(-inserting); // counted until now, so that queue_size bounds what waits in memory
        if (retention.isPresent() && uncommitted == 0 && !last && System.nanoTime() - nextPrune >= 0) {
          nextPrune = System.nanoTime() + (prune(deleteTags, deleteCalls) ? 0 : PRUNE_EVERY_NANOS);
        }
      }
    } catch (SQLException e) {
      LOG.log(System.Logger.Level.ERROR, "the call log " + file + " stopped: " + e.getMessage(), e);
    }
  }

  /** The rows {@value #ROWS_PER_INSERT} to a statement, the rest one by one, then their tags. */
  private void insert(List<CallRecord> rows, PreparedStatement insertRows, PreparedStatement insertRow,
      PreparedStatement insertTag) throws SQLException {
    int full = rows.size() - rows.size() % ROWS_PER_INSERT;
    for (int start = 0; start < full; start += ROWS_PER_INSERT) {
      int parameter = 1;
      for (CallRecord record : rows.subList(start, start + ROWS_PER_INSERT)) {
        parameter = CallTable.bind(insertRows, parameter, record, redactor);
      }
      insertRows.executeUpdate();
    }
    for (CallRecord record : rows.subList(full, rows.size())) {
      CallTable.bind(insertRow, 1, record, redactor);
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

  /** Removes up to {@value #PRUNE_CHUNK} of the calls older than the retention; true when there may be more. */
  private boolean prune(PreparedStatement deleteTags, PreparedStatement deleteCalls) {
    long before = System.currentTimeMillis() - retention.orElseThrow().toMillis();
    try {
      for (PreparedStatement delete : List.of(deleteTags, deleteCalls)) {
        delete.setLong(1, before);
        delete.setInt(2, PRUNE_CHUNK);
      }
      deleteTags.executeUpdate();
      int calls = deleteCalls.executeUpdate();
      connection.commit();
      prunedInPass += calls;
      if (calls < PRUNE_CHUNK && prunedInPass > 0) {
        LOG.log(System.Logger.Level.INFO, "call log: removed " + prunedInPass + " calls older than "
            + retention.orElseThrow() + " from " + file);
        prunedInPass = 0;
      }
      return calls == PRUNE_CHUNK;
    } catch (SQLException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot remove old calls from the call log " + file + " (next try in "
          + TimeUnit.NANOSECONDS.toMinutes(PRUNE_EVERY_NANOS) + " minutes): " + e.getMessage());
      rollBackQuietly();
      return false;
    }
  }

  /** One bad transaction must not stop the log: its records are reported and dropped. Returns 0, the rows now open. */
  private int rollBack(int records, Exception e) {
    dropped.addAndGet(records);
    LOG.log(System.Logger.Level.ERROR, "cannot write " + records + " records to the call log " + file + ": "
        + e.getMessage(), e);
    rollBackQuietly();
    return 0;
  }

  private void rollBackQuietly() {
    try {
      connection.rollback();
    } catch (SQLException ignored) {
      // the next statement starts a new transaction anyway
    }
  }
}
