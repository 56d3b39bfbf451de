package dev.llmrouter.server.auth;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallerKey;
import dev.llmrouter.api.v1.KeySpend;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * Caller keys in the router's data folder, {@code data_dir/keys.db} (SQLite), readable by the router's user only, as
 * the call log is. Besides the keys it keeps each key's spend, written by {@link LocalQuotas} every second, so that a
 * budget outlives a restart and `keys list` shows it. Every statement runs on a worker thread, one at a time.
 */
public final class SqliteKeyStore implements KeyStore {

  /** The file name of the key store under the data directory. */
  public static final String FILE_NAME = "keys.db";

  /** Bumped when the schema changes; kept in `PRAGMA user_version`. */
  private static final int SCHEMA_VERSION = 1;
  private static final String SCHEMA = """
      CREATE TABLE IF NOT EXISTS keys (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        settings BLOB NOT NULL,
        revoked_ms INTEGER,
        last_used_ms INTEGER,
        spent_nanos INTEGER NOT NULL DEFAULT 0,
        spend_ends_ms INTEGER NOT NULL DEFAULT 0
      )""";
  private static final String COLUMNS = "settings, revoked_ms, last_used_ms, spent_nanos, spend_ends_ms";
  private static final Set<PosixFilePermission> OWNER_ONLY_FOLDER = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");

  private final Vertx vertx;
  private final Connection connection;

  private SqliteKeyStore(Vertx vertx, Connection connection) {
    this.vertx = vertx;
    this.connection = connection;
  }

  /**
   * Opens (or creates) {@code <dataDir>/keys.db}. Blocks: call it before serving, or off the event loop.
   *
   * @throws IllegalStateException naming the file when it cannot be opened
   */
  public static SqliteKeyStore open(Vertx vertx, Path dataDir) {
    Path file = dataDir.resolve(FILE_NAME);
    try {
      if (!Files.isDirectory(dataDir)) {
        Files.createDirectories(dataDir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FOLDER));
      }
      if (!Files.exists(file)) {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
      }
      Files.setPosixFilePermissions(file, OWNER_ONLY_FILE);
      Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
      try (Statement statement = connection.createStatement()) {
        // The router and `keys` commands may write at once: WAL lets readers on, and writers wait their turn.
        statement.execute("PRAGMA journal_mode = WAL");
        statement.execute("PRAGMA busy_timeout = 5000");
        statement.execute(SCHEMA);
        statement.execute("PRAGMA user_version = " + SCHEMA_VERSION);
      }
      return new SqliteKeyStore(vertx, connection);
    } catch (IOException | SQLException e) {
      throw new IllegalStateException("cannot open the key store " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Future<Void> add(CallerKey key, String hash) {
    return run(() -> {
      try (PreparedStatement insert = connection.prepareStatement(
          "INSERT INTO keys (id, hash, settings) VALUES (?, ?, ?)")) {
        insert.setString(1, key.getId());
        insert.setString(2, hash);
        insert.setBytes(3, settings(key));
        insert.executeUpdate();
      }
      return null;
    });
  }

  @Override
  public Future<Optional<CallerKey>> findByHash(String hash) {
    return run(() -> select("WHERE hash = ?", hash).stream().findFirst());
  }

  @Override
  public Future<Optional<CallerKey>> find(String id) {
    return run(() -> select("WHERE id = ?", id).stream().findFirst());
  }

  @Override
  public Future<List<CallerKey>> list() {
    return run(() -> select("ORDER BY rowid", null));
  }

  @Override
  public Future<Boolean> replace(CallerKey key) {
    return run(() -> {
      try (PreparedStatement update = connection.prepareStatement("UPDATE keys SET settings = ? WHERE id = ?")) {
        update.setBytes(1, settings(key));
        update.setString(2, key.getId());
        return update.executeUpdate() == 1;
      }
    });
  }

  @Override
  public Future<Boolean> revoke(String id, long epochMillis) {
    return run(() -> {
      try (PreparedStatement update = connection.prepareStatement(
          "UPDATE keys SET revoked_ms = COALESCE(revoked_ms, ?) WHERE id = ?")) {
        update.setLong(1, epochMillis);
        update.setString(2, id);
        return update.executeUpdate() == 1;
      }
    });
  }

  @Override
  public Future<Void> used(String id, long epochMillis) {
    return run(() -> {
      try (PreparedStatement update = connection.prepareStatement("UPDATE keys SET last_used_ms = ? WHERE id = ?")) {
        update.setLong(1, epochMillis);
        update.setString(2, id);
        update.executeUpdate();
      }
      return null;
    });
  }

  /** Writes the spend of keys: {@code spends} maps a key id to its spend in billionths of a dollar and window end. */
  Future<Void> saveSpend(Map<String, long[]> spends) {
    return run(() -> {
      try (PreparedStatement update = connection.prepareStatement(
          "UPDATE keys SET spent_nanos = ?, spend_ends_ms = ? WHERE id = ?")) {
        for (Map.Entry<String, long[]> spend : spends.entrySet()) {
          update.setLong(1, spend.getValue()[0]);
          update.setLong(2, spend.getValue()[1]);
          update.setString(3, spend.getKey());
          update.executeUpdate();
        }
      }
      return null;
    });
  }

  @Override
  public Future<Void> close() {
    return run(() -> {
      connection.close();
      return null;
    });
  }

  /** A statement's work on a worker thread, one at a time: the connection is not shared between threads at once. */
  private <T> Future<T> run(Callable<T> work) {
    return vertx.executeBlocking(() -> {
      synchronized (connection) {
        return work.call();
      }
    }, false);
  }

  private List<CallerKey> select(String where, String parameter) throws SQLException {
    List<CallerKey> keys = new ArrayList<>();
    try (PreparedStatement select = connection.prepareStatement("SELECT " + COLUMNS + " FROM keys " + where)) {
      if (parameter != null) {
        select.setString(1, parameter);
      }
      try (ResultSet row = select.executeQuery()) {
        while (row.next()) {
          keys.add(read(row));
        }
      }
    }
    return keys;
  }

  private static CallerKey read(ResultSet row) throws SQLException {
    CallerKey.Builder key;
    try {
      key = CallerKey.parseFrom(row.getBytes("settings")).toBuilder();
    } catch (InvalidProtocolBufferException e) {
      throw new SQLException("a key in the key store has unreadable settings: " + e.getMessage(), e);
    }
    long revoked = row.getLong("revoked_ms");
    if (!row.wasNull()) {
      key.setRevokeTime(Timestamps.fromMillis(revoked));
    }
    long lastUsed = row.getLong("last_used_ms");
    if (!row.wasNull()) {
      key.setLastUseTime(Timestamps.fromMillis(lastUsed));
    }
    long spendEnds = row.getLong("spend_ends_ms");
    if (spendEnds > 0) {
      key.setSpend(KeySpend.newBuilder().setSpentUsd(row.getLong("spent_nanos") / 1e9)
          .setResetTime(Timestamps.fromMillis(spendEnds)));
    }
    return key.build();
  }

  /** What the settings column keeps: the key without what has columns of its own. */
  private static byte[] settings(CallerKey key) {
    return key.toBuilder().clearRevokeTime().clearLastUseTime().clearSpend().build().toByteArray();
  }
}
