package dev.llmrouter.server.observe;

import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.cassettes.Redactor;
import dev.llmrouter.server.config.PostgresUrl;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The call log's writer: records are queued by the event loop ({@link #append}, which never blocks), then made and
 * written to its {@link CallStore} (a SQLite file, or the fleet's PostgreSQL) by one thread of its own. When the queue
 * is full a record is dropped and counted: the call it describes has succeeded already and must not wait for the disk
 * or the database.
 *
 * <p>The writer inserts what has come every {@code TICK}, in short turns, so it never holds a core an event loop
 * needs for long. It commits every {@code COMMIT}, since a transaction costs a few pages of WAL (or a round trip to
 * PostgreSQL) whatever its size. Only its own clock wakes it, so the scheduler does not move it onto the core of the
 * event loop that woke it.
 *
 * <p>With a retention, it also removes the calls older than that: at start and every {@code PRUNE_EVERY}, in chunks of
 * {@value #PRUNE_CHUNK} calls between its turns, so that a large backlog never holds the new records up for long.
 */
public final class CallLog implements AutoCloseable {

  /** The file name of the call log under the data directory. */
  public static final String FILE_NAME = "calls.db";

  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  private static final long COMMIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  private static final long PRUNE_EVERY_NANOS = TimeUnit.MINUTES.toNanos(10);
  private static final int PRUNE_CHUNK = 10_000;
  private static final System.Logger LOG = System.getLogger("llmrouter");

  private final CallStore store;
  // Lock-free, with its bound kept beside it: event loops must never wait for the writer.
  private final Queue<Supplier<CallRecord>> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final int queueSize;
  private final Optional<Duration> retention;
  private long prunedInPass;
  private long droppedSinceFailure; // by failed writes, since the last commit that succeeded
  private final AtomicLong dropped = new AtomicLong();
  private final Thread writer;
  private volatile boolean closing;

  private CallLog(CallStore store, int queueSize, Optional<Duration> retention) {
    this.store = store;
    this.queueSize = queueSize;
    this.retention = retention;
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
    return start(SqliteCallStore.open(dataDir, redactor), queueSize, retention);
  }

  /**
   * Opens the call log in a PostgreSQL database shared by the fleet, migrating its schema first, and starts the
   * writer. Blocks (the migration and a first connection): call it off the event loop.
   *
   * @throws IllegalStateException in one line naming the URL (without its password) when it cannot be opened
   */
  public static CallLog open(Vertx vertx, PostgresUrl url, int queueSize, Optional<Duration> retention,
      Redactor redactor) {
    return start(PostgresCallStore.open(vertx, url, redactor), queueSize, retention);
  }

  private static CallLog start(CallStore store, int queueSize, Optional<Duration> retention) {
    CallLog log = new CallLog(store, queueSize, retention);
    log.writer.start();
    return log;
  }

  /** The queries over this log's calls. */
  public CallQueries queries() {
    return store.queries();
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
      store.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (SQLException e) {
      LOG.log(System.Logger.Level.WARNING, "closing the call log " + store + ": " + e.getMessage());
    }
  }

  private void writeUntilClosed() {
    List<CallRecord> pending = new ArrayList<>(); // taken from the queue, not inserted yet
    int uncommitted = 0; // inserted in the open transaction
    long transactionStart = 0;
    long nextPrune = System.nanoTime();
    int rowsPerStatement = store.rowsPerStatement();
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
          : pending.size() - pending.size() % rowsPerStatement);
      int inserting = rows.size();
      try {
        store.insert(rows);
        uncommitted += inserting;
        if (commit && uncommitted > 0) {
          store.commit();
          uncommitted = 0;
          if (droppedSinceFailure > 0) {
            LOG.log(System.Logger.Level.INFO, "call log: writing to " + store + " again, after " + droppedSinceFailure
                + " records dropped");
            droppedSinceFailure = 0;
          }
        }
      } catch (SQLException | RuntimeException e) {
        uncommitted = rollBack(uncommitted + inserting, e);
      }
      rows.clear();
      queued.addAndGet(-inserting); // counted until now, so that queue_size bounds what waits in memory
      if (retention.isPresent() && uncommitted == 0 && !last && System.nanoTime() - nextPrune >= 0) {
        nextPrune = System.nanoTime() + (prune() ? 0 : PRUNE_EVERY_NANOS);
      }
    }
  }

  /** Removes up to {@value #PRUNE_CHUNK} of the calls older than the retention; true when there may be more. */
  private boolean prune() {
    long before = System.currentTimeMillis() - retention.orElseThrow().toMillis();
    try {
      int calls = store.prune(before, PRUNE_CHUNK);
      prunedInPass += calls;
      if (calls < PRUNE_CHUNK && prunedInPass > 0) {
        LOG.log(System.Logger.Level.INFO, "call log: removed " + prunedInPass + " calls older than "
            + retention.orElseThrow() + " from " + store);
        prunedInPass = 0;
      }
      return calls == PRUNE_CHUNK;
    } catch (SQLException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot remove old calls from the call log " + store + " (next try in "
          + TimeUnit.NANOSECONDS.toMinutes(PRUNE_EVERY_NANOS) + " minutes): " + e.getMessage());
      store.rollBack();
      return false;
    }
  }

  /**
   * One bad transaction must not stop the log: its records are dropped and counted. The first failure is reported;
   * while the store keeps failing (a database away), the next ones are only counted, until a commit succeeds.
   * Returns 0, the rows now open.
   */
  private int rollBack(int records, Exception e) {
    dropped.addAndGet(records);
    if (droppedSinceFailure == 0) {
      LOG.log(System.Logger.Level.ERROR, "cannot write " + records + " records to the call log " + store + " (more "
          + "failures are counted in llmrouter_call_log_dropped_total until a write succeeds): " + e.getMessage(), e);
    }
    droppedSinceFailure += records;
    store.rollBack();
    return 0;
  }
}
