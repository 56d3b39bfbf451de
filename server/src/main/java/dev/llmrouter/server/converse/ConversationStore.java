package dev.llmrouter.server.converse;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.llmrouter.api.v1.Conversation;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.config.ObservabilityConfig;
import dev.llmrouter.server.observe.PostgresClients;
import dev.llmrouter.server.observe.PostgresMigrations;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;

/**
 * Where `ConversationService` keeps its conversations: {@code <data_dir>/conversations.db} (SQLite, readable by the
 * router's user only), or the call log's PostgreSQL database when `call_log.postgres_url` is set (its tables made by
 * the Flyway migration {@code V2__conversations.sql}). A conversation is one row: its id, the id of the caller key
 * that created it (only that key sees it), its creation time (the order of the list), its revision, and the
 * `Conversation` protobuf; its metadata pairs are rows of their own, for the list's filter.
 *
 * <p>Every statement runs on one worker thread of its own, one at a time (never on an event loop); the database is
 * opened by the first, so that a router that never stores a conversation never creates the file.
 */
public final class ConversationStore {

  /** One page of {@link #list}: the conversations and the token of the next page (empty on the last). */
  public record Page(List<Conversation> conversations, String nextPageToken) {
  }

  /** Where a page ended: the creation time and id of its last conversation, as a page token carries them. */
  private record Cursor(long createMillis, String id) {

    static Optional<Cursor> of(String token) {
      if (token.isEmpty()) {
        return Optional.empty();
      }
      String text = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      int colon = text.indexOf(':');
      return Optional.of(new Cursor(Long.parseLong(text.substring(0, colon)), text.substring(colon + 1)));
    }

    String token() {
      return Base64.getUrlEncoder().withoutPadding().encodeToString((createMillis + ":" + id)
          .getBytes(StandardCharsets.UTF_8));
    }
  }

  static final String FILE_NAME = "conversations.db";
  private static final List<String> SQLITE_SCHEMA = List.of("""
      CREATE TABLE IF NOT EXISTS conversations (
        id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL,
        create_ms INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        record BLOB NOT NULL)""",
      "CREATE INDEX IF NOT EXISTS conversations_by_key ON conversations (key_id, create_ms DESC, id DESC)",
      """
      CREATE TABLE IF NOT EXISTS conversation_metadata (
        conversation_id TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (conversation_id, name))""",
      "CREATE INDEX IF NOT EXISTS conversation_metadata_by_pair ON conversation_metadata (name, value)");

  /** Opens a connection; the store's thread is its only user. */
  private interface Database {
    Connection connect() throws SQLException;
  }

  private final Database database;
  private final String name;
  private final WorkerExecutor worker;
  private Connection connection; // opened by the first statement, on the worker; reopened after a failure

  private ConversationStore(Vertx vertx, Database database, String name) {
    this.database = database;
    this.name = name;
    this.worker = vertx.createSharedWorkerExecutor("llmrouter-conversations", 1);
  }

  /** The store of the router's data store: PostgreSQL when `call_log.postgres_url` is set, else the SQLite file. */
  public static ConversationStore of(Vertx vertx, ObservabilityConfig config) {
    if (config.callLogPostgres().isPresent()) {
      var url = config.callLogPostgres().get();
      DataSource source = PostgresClients.jdbc(url);
      return new ConversationStore(vertx, () -> {
        PostgresMigrations.migrate(source, url);
        return source.getConnection();
      }, url.toString());
    }
    Path dataDir = Path.of(config.dataDir());
    Path file = dataDir.resolve(FILE_NAME);
    return new ConversationStore(vertx, () -> openSqlite(dataDir, file), file.toString());
  }

  private static Connection openSqlite(Path dataDir, Path file) throws SQLException {
    try {
      if (!Files.isDirectory(dataDir)) {
        Files.createDirectories(dataDir, PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwx------")));
      }
      if (!Files.exists(file)) {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      }
    } catch (IOException e) {
      throw new SQLException("cannot create " + file + ": " + e.getMessage(), e);
    }
    Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    try (Statement statement = connection.createStatement()) {
      statement.execute("PRAGMA journal_mode = WAL");
      for (String ddl : SQLITE_SCHEMA) {
        statement.execute(ddl);
      }
    }
    return connection;
  }

  /** Stores a new conversation (revision 1), with its metadata pairs. */
  public Future<Conversation> create(Conversation conversation, String keyId) {
    Conversation stored = conversation.toBuilder().setRevision(1).build();
    return inTransaction(connection -> {
      try (PreparedStatement insert = connection.prepareStatement(
          "INSERT INTO conversations (id, key_id, create_ms, revision, record) VALUES (?, ?, ?, ?, ?)");
          PreparedStatement pair = connection.prepareStatement(
              "INSERT INTO conversation_metadata (conversation_id, name, value) VALUES (?, ?, ?)")) {
        insert.setString(1, stored.getId());
        insert.setString(2, keyId);
        insert.setLong(3, createMillis(stored));
        insert.setLong(4, stored.getRevision());
        insert.setBytes(5, stored.toByteArray());
        insert.executeUpdate();
        for (Map.Entry<String, String> entry : stored.getMetadataMap().entrySet()) {
          pair.setString(1, stored.getId());
          pair.setString(2, entry.getKey());
          pair.setString(3, entry.getValue());
          pair.executeUpdate();
        }
      }
      return stored;
    });
  }

  /** The conversation {@code id} of the key {@code keyId}; empty when there is none (or it is another key's). */
  public Future<Optional<Conversation>> find(String id, String keyId) {
    return inTransaction(connection -> read(connection, id, keyId));
  }

  private static Optional<Conversation> read(Connection connection, String id, String keyId) throws SQLException {
    try (PreparedStatement select = connection.prepareStatement(
        "SELECT record FROM conversations WHERE id = ? AND key_id = ?")) {
      select.setString(1, id);
      select.setString(2, keyId);
      try (ResultSet row = select.executeQuery()) {
        return row.next() ? Optional.of(parse(row.getBytes(1))) : Optional.empty();
      }
    }
  }

  /**
   * Replaces the conversation {@code updated.id}, which must still be at {@code updated.revision}: the stored one
   * gets the next revision.
   *
   * @return the conversation as stored; failed with ABORTED when another write came first, NOT_FOUND when it was
   *     deleted meanwhile
   */
  public Future<Conversation> save(Conversation updated, String keyId) {
    Conversation stored = updated.toBuilder().setRevision(updated.getRevision() + 1).build();
    return inTransaction(connection -> {
      try (PreparedStatement update = connection.prepareStatement(
          "UPDATE conversations SET revision = ?, record = ? WHERE id = ? AND key_id = ? AND revision = ?")) {
        update.setLong(1, stored.getRevision());
        update.setBytes(2, stored.toByteArray());
        update.setString(3, stored.getId());
        update.setString(4, keyId);
        update.setLong(5, updated.getRevision());
        if (update.executeUpdate() == 1) {
          return stored;
        }
      }
      if (read(connection, updated.getId(), keyId).isEmpty()) {
        throw notFound(updated.getId());
      }
      throw new CallError(GrpcStatus.ABORTED, "conversation " + updated.getId() + " changed while this message was "
          + "answered (another call, maybe on another router, saved it first): get it again and resend");
    });
  }

  /**
   * Applies {@code change} to the stored conversation and saves it, in one transaction of the store's thread: no
   * write of this router comes between (a write-back that needs no revision check, as a `Converse` session's).
   */
  public Future<Conversation> update(String id, String keyId, UnaryOperator<Conversation> change) {
    return inTransaction(connection -> {
      Conversation current = read(connection, id, keyId).orElseThrow(() -> notFound(id));
      Conversation stored = change.apply(current).toBuilder().setRevision(current.getRevision() + 1).build();
      try (PreparedStatement update = connection.prepareStatement(
          "UPDATE conversations SET revision = ?, record = ? WHERE id = ?")) {
        update.setLong(1, stored.getRevision());
        update.setBytes(2, stored.toByteArray());
        update.setString(3, id);
        update.executeUpdate();
      }
      return stored;
    });
  }

  /**
   * The key's conversations whose metadata holds every pair of {@code metadata}, newest first, {@code pageSize} at a
   * time, after the page {@code pageToken} ended (empty for the first).
   *
   * @return failed with INVALID_ARGUMENT when the page token is not one this store gave
   */
  public Future<Page> list(String keyId, Map<String, String> metadata, int pageSize, String pageToken) {
    Optional<Cursor> after;
    try {
      after = Cursor.of(pageToken);
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      return Future.failedFuture(new CallError(GrpcStatus.INVALID_ARGUMENT, "page_token: not a token this router "
          + "gave (pass a next_page_token unchanged, or none for the first page)"));
    }
    Map<String, String> pairs = new TreeMap<>(metadata);
    StringBuilder sql = new StringBuilder("SELECT record, create_ms, id FROM conversations WHERE key_id = ?");
    after.ifPresent(cursor -> sql.append(" AND (create_ms < ? OR (create_ms = ? AND id < ?))"));
    pairs.forEach((pairName, value) -> sql.append(
        " AND id IN (SELECT conversation_id FROM conversation_metadata WHERE name = ? AND value = ?)"));
    sql.append(" ORDER BY create_ms DESC, id DESC LIMIT ?");
    return inTransaction(connection -> {
      try (PreparedStatement select = connection.prepareStatement(sql.toString())) {
        int parameter = 1;
        select.setString(parameter++, keyId);
        if (after.isPresent()) {
          select.setLong(parameter++, after.get().createMillis());
          select.setLong(parameter++, after.get().createMillis());
          select.setString(parameter++, after.get().id());
        }
        for (Map.Entry<String, String> pair : pairs.entrySet()) {
          select.setString(parameter++, pair.getKey());
          select.setString(parameter++, pair.getValue());
        }
        select.setInt(parameter, pageSize + 1); // one more, to know whether a next page exists
        List<Conversation> found = new ArrayList<>();
        String next = "";
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            if (found.size() == pageSize) {
              Conversation last = found.get(found.size() - 1);
              next = new Cursor(createMillis(last), last.getId()).token();
              break;
            }
            found.add(parse(rows.getBytes(1)).toBuilder().clearMessages().build());
          }
        }
        return new Page(List.copyOf(found), next);
      }
    });
  }

  /** Removes the key's conversation {@code id}; false when there was none. */
  public Future<Boolean> delete(String id, String keyId) {
    return inTransaction(connection -> {
      int removed;
      try (PreparedStatement delete = connection.prepareStatement(
          "DELETE FROM conversations WHERE id = ? AND key_id = ?")) {
        delete.setString(1, id);
        delete.setString(2, keyId);
        removed = delete.executeUpdate();
      }
      if (removed == 1) {
        try (PreparedStatement pairs = connection.prepareStatement(
            "DELETE FROM conversation_metadata WHERE conversation_id = ?")) {
          pairs.setString(1, id);
          pairs.executeUpdate();
        }
      }
      return removed == 1;
    });
  }

  /** Closes the connection, once the statements queued before have run. */
  public Future<Void> close() {
    return worker.<Void>executeBlocking(() -> {
      if (connection != null) {
        connection.close();
        connection = null;
      }
      return null;
    }).eventually(worker::close);
  }

  public static CallError notFound(String id) {
    return new CallError(GrpcStatus.NOT_FOUND, "no conversation " + CallError.quote(id) + " (it was deleted, or was "
        + "created with another key; ListConversations lists yours)");
  }

  private static long createMillis(Conversation conversation) {
    return conversation.getCreateTime().getSeconds() * 1000 + conversation.getCreateTime().getNanos() / 1_000_000;
  }

  private static Conversation parse(byte[] record) throws SQLException {
    try {
      return Conversation.parseFrom(record);
    } catch (InvalidProtocolBufferException e) {
      throw new SQLException("a stored conversation cannot be read: " + e.getMessage(), e);
    }
  }

  /** A unit of work whose statements share one transaction. */
  private interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  /**
   * Runs {@code work} on the store's thread in one transaction: committed when it returns, rolled back when it
   * throws. A database error fails the future with UNAVAILABLE naming the store (never its password).
   */
  private <T> Future<T> inTransaction(Work<T> work) {
    Callable<T> task = () -> {
      Connection open = connection();
      try {
        T result = work.run(open);
        open.commit();
        return result;
      } catch (CallError refused) {
        open.rollback();
        throw refused;
      } catch (SQLException | RuntimeException e) {
        closeQuietly();
        throw new CallError(GrpcStatus.UNAVAILABLE, "the conversation store " + name + " failed: "
            + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
      }
    };
    return worker.executeBlocking(task, true);
  }

  private Connection connection() {
    try {
      if (connection == null) {
        connection = database.connect();
        connection.setAutoCommit(false);
      }
      return connection;
    } catch (SQLException | RuntimeException e) {
      closeQuietly();
      throw new CallError(GrpcStatus.UNAVAILABLE, "cannot open the conversation store " + name + ": "
          + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
    }
  }

  private void closeQuietly() {
    try {
      if (connection != null) {
        connection.close();
      }
    } catch (SQLException ignored) {
      // the connection is dropped either way; the next statement opens a new one
    } finally {
      connection = null;
    }
  }
}
