package dev.llmrouter.server.observe;

import dev.llmrouter.api.v1.CallRecord;
import java.sql.SQLException;
import java.util.List;

/**
 * Where {@link CallLog}'s writer puts the call records: the SQLite file ({@link SqliteCallStore}) or the fleet's
 * PostgreSQL database ({@link PostgresCallStore}). Only the writer's thread uses it, one call at a time; its
 * {@link #toString} names it in messages (never with a password).
 */
interface CallStore {

  /** How many rows one INSERT takes: between commits the writer hands over whole statements only. */
  int rowsPerStatement();

  /** Inserts the rows and their tags in the open transaction, beginning one when none is open. */
  void insert(List<CallRecord> rows) throws SQLException;

  /** Commits the open transaction. */
  void commit() throws SQLException;

  /** Drops the open transaction, if any; never fails: the next insert begins a new one. */
  void rollBack();

  /**
   * Removes up to {@code limit} of the oldest calls started before {@code beforeMillis} (epoch ms), with their tags,
   * and commits. Called with no transaction open.
   *
   * @return how many calls were removed
   */
  int prune(long beforeMillis, int limit) throws SQLException;

  /** The queries over the calls written here. */
  CallQueries queries();

  void close() throws SQLException;
}
