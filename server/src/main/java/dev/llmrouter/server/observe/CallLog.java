package dev.llmrouter.server.observe;

import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.cassettes.Redactor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The call log's writer: records are queued by the event loop ({@link #append}, which never blocks) and written to
 * SQLite by one thread of its own, in batches of up to {@value #BATCH} per transaction. When the queue is full a
 * record is dropped and counted: the call it describes has succeeded already and must not wait for the disk.
 *
 * <p>The writer lets a batch gather (until {@value #BATCH} records wait, or {@code LINGER} has passed) before it writes:
 * a transaction costs a few pages of WAL whatever its size, and one per handful of records doubled the writer's CPU
 * per record in the benchmark.
 */
public final class CallLog implements AutoCloseable {

  /** The file name of the call log under the data directory. */
  public static final String FILE_NAME = "calls.db";

  private static final int BATCH = 1024;
  private static final int ROWS_PER_INSERT = 32;
  private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  private static final System.Logger LOG = System.getLogger("llmrouter");

  private final Path file;
  private final Redactor redactor;
  private final BlockingQueue<CallRecord> queue;
  private final AtomicLong dropped = new AtomicLong();
  private final Connection connection;
  private final Thread writer;
  private volatile boolean closing;

  private CallLog(Path file, Redactor redactor, int queueSize, Connection connection) {
    this.file = file;
    this.redactor = redactor;
    this.queue = new ArrayBlockingQueue<>(queueSize);
    this.connection = connection;
    this.writer = new Thread(this::writeUntilClosed, "llmrouter-call-log");
    writer.setDaemon(true);
  }

  /**
   * Opens (or creates) {@code <dataDir>/calls.db} and starts the writer.
   *
   * @throws IllegalStateException naming the file when it cannot be opened
   */
  public static CallLog open(Path dataDir, int queueSize, Redactor redactor) {
    Path file = dataDir.resolve(FILE_NAME);
    try {
      Files.createDirectories(dataDir);
      Connection connection = CallQueries.connect(file);
      try (Statement statement = connection.createStatement()) {
        // Larger pages: fewer WAL frames per batch (takes effect on a new file only).
        statement.execute("PRAGMA page_size = 16384");
        // WAL lets `calls list` and the query RPCs read while the writer writes; NORMAL syncs at checkpoints only.
        statement.execute("PRAGMA journal_mode = WAL");
        statement.execute("PRAGMA synchronous = NORMAL");
        // 4 MiB of page cache: inserts touch the ends of the indexes only; a 64 MiB cache crowded the CPU caches that
        // the event loop shares, and cost twice the throughput in the benchmark (docs/benchmarks.md).
        statement.execute("PRAGMA cache_size = -4096");
        for (String ddl : CallTable.SCHEMA) {
          statement.execute(ddl);
        }
        statement.execute("PRAGMA user_version = " + CallTable.SCHEMA_VERSION);
      }
      connection.setAutoCommit(false);
      CallLog log = new CallLog(file, redactor, queueSize, connection);
      log.writer.start();
      return log;
    } catch (IOException | SQLException e) {
      throw new IllegalStateException("cannot open the call log " + file + ": " + e.getMessage(), e);
    }
  }

  public Path file() {
    return file;
  }

  /** Queues a record for writing; drops and counts it when the queue is full. Never blocks. */
  public void append(CallRecord record) {
    if (closing || !queue.offer(record)) {
      dropped.incrementAndGet();
    } else if (queue.size() >= BATCH) {
      LockSupport.unpark(writer); // a full batch is waiting: no need to linger
    }
  }

  /** Records dropped because the queue was full (or the log was closing). */
  public long dropped() {
    return dropped.get();
  }

  /** Records waiting for the writer. */
  public int queued() {
    return queue.size();
  }

  /** Writes what is queued, then stops the writer and closes the database. Blocks: call it off the event loop. */
  @Override
  public void close() {
    closing = true;
    writer.interrupt();
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
    List<CallRecord> batch = new ArrayList<>(BATCH);
    try (PreparedStatement insertRows = connection.prepareStatement(CallTable.insertCalls(ROWS_PER_INSERT));
        PreparedStatement insertRow = connection.prepareStatement(CallTable.insertCalls(1));
        PreparedStatement insertTag = connection.prepareStatement(CallTable.INSERT_TAG)) {
      while (!closing || !queue.isEmpty()) {
        CallRecord first;
        try {
          first = closing ? queue.poll() : queue.take();
        } catch (InterruptedException e) {
          continue; // closing: write what is left
        }
        if (first == null) {
          break;
        }
        if (!closing && queue.size() < BATCH - 1) {
          LockSupport.parkNanos(this, LINGER_NANOS); // until a batch is full (see append) or the linger is over
        }
        batch.add(first);
        queue.drainTo(batch, BATCH - 1);
        write(batch, insertRows, insertRow, insertTag);
        batch.clear();
      }
    } catch (SQLException e) {
      LOG.log(System.Logger.Level.ERROR, "the call log " + file + " stopped: " + e.getMessage(), e);
    }
  }

  /** One transaction: the rows {@value #ROWS_PER_INSERT} to a statement, the rest one by one, then the tags. */
  private void write(List<CallRecord> batch, PreparedStatement insertRows, PreparedStatement insertRow,
      PreparedStatement insertTag) {
    try {
      int full = batch.size() - batch.size() % ROWS_PER_INSERT;
      for (int start = 0; start < full; start += ROWS_PER_INSERT) {
        int parameter = 1;
        for (CallRecord record : batch.subList(start, start + ROWS_PER_INSERT)) {
          parameter = CallTable.bind(insertRows, parameter, record, redactor);
        }
        insertRows.executeUpdate();
      }
      for (CallRecord record : batch.subList(full, batch.size())) {
        CallTable.bind(insertRow, 1, record, redactor);
        insertRow.executeUpdate();
      }
      for (CallRecord record : batch) {
        for (String tag : record.getTagsList()) {
          insertTag.setString(1, tag);
          insertTag.setString(2, record.getId());
          insertTag.executeUpdate();
        }
      }
      connection.commit();
    } catch (SQLException | RuntimeException e) {
      // One bad batch must not stop the log: it is reported and dropped.
      dropped.addAndGet(batch.size());
      LOG.log(System.Logger.Level.ERROR, "cannot write " + batch.size() + " records to the call log " + file + ": "
          + e.getMessage(), e);
      try {
        connection.rollback();
      } catch (SQLException ignored) {
        // the next batch starts a new transaction anyway
      }
    }
  }
}
