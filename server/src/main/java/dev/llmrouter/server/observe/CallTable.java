package dev.llmrouter.server.observe;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.CallType;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.cassettes.Redactor;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * The `calls` and `call_tags` tables of the call log: the schema, and a {@link CallRecord} to a row and back, the one
 * mapping of both stores. The schema here is SQLite's; PostgreSQL's, the same columns, is in the migrations under
 * {@code db/postgres/} ({@link PostgresMigrations}).
 *
 * <p>What a query filters or sums on has a column of its own: status, provider, model, tokens, cost, latency, cassette
 * outcome, trace, session, user, caller key (enums by their short lowercase name: `stream`, `stop`, `hit`; the start as epoch
 * milliseconds). Everything else (the prompts and the answer, tags, metadata, parent call, time to first event,
 * attempts, cassette key, dropped settings, the start to the nanosecond) is the `details` BLOB: a protobuf
 * `CallRecord` holding just those fields, which `calls list --json` and `ListCalls` show: each bound column costs the
 * writer time on every row.
 *
 * <p>Indexes are few and grow at their end (start time; generated trace ids begin with the time): an index on a random
 * key dirties a page per row. Call ids are random, so they have none; nothing looks a call up by its id alone.
 */
final class CallTable {

  /** Bumped when the schema changes; kept in `PRAGMA user_version`. */
  static final int SCHEMA_VERSION = 2;

  /**
   * What brings a call log written by an earlier version up to {@link #SCHEMA_VERSION}: the statements of version
   * {@code n} at index {@code n - 2}, run on a file at version {@code n - 1} or older (a new file is made whole by
   * {@link #SCHEMA}).
   */
  static final List<List<String>> MIGRATIONS = List.of(
      List.of("ALTER TABLE calls ADD COLUMN key_id TEXT", "ALTER TABLE calls ADD COLUMN key_name TEXT"));

  /**
   * The columns of `calls`, in the order {@link #bind} sets them: each name with its PostgreSQL type, as the
   * migrations under {@code db/postgres/} make it.
   */
  private static final List<Column> COLUMNS = Stream.of("id text", "start_ms bigint", "call_type text", "status text",
      "provider text", "provider_type text", "model text", "upstream_model text", "finish_reason text",
      "input_tokens bigint", "output_tokens bigint", "cached_input_tokens bigint", "reasoning_tokens bigint",
      "cost_usd double precision", "latency_ms double precision", "cassette_outcome text", "trace_id text",
      "session_id text", "user_id text", "error_message text", "details bytea", "key_id text", "key_name text")
      .map(column -> new Column(column.substring(0, column.indexOf(' ')), column.substring(column.indexOf(' ') + 1)))
      .toList();

  private record Column(String name, String postgresType) {
  }

  static final List<String> SCHEMA = List.of("""
      CREATE TABLE IF NOT EXISTS calls (
        id TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        call_type TEXT NOT NULL,
        status TEXT NOT NULL,
        provider TEXT,
        provider_type TEXT,
        model TEXT,
        upstream_model TEXT,
        finish_reason TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cached_input_tokens INTEGER,
        reasoning_tokens INTEGER,
        cost_usd REAL,
        latency_ms REAL,
        cassette_outcome TEXT,
        trace_id TEXT,
        session_id TEXT,
        user_id TEXT,
        error_message TEXT,
        details BLOB,
        key_id TEXT,
        key_name TEXT
      )""",
      "CREATE TABLE IF NOT EXISTS call_tags (tag TEXT NOT NULL, call_id TEXT NOT NULL)",
      "CREATE INDEX IF NOT EXISTS calls_by_start ON calls (start_ms)",
      "CREATE INDEX IF NOT EXISTS calls_by_trace ON calls (trace_id, start_ms)",
      // Partial: most calls have no session or user, and an entry per such call would cost every insert.
      "CREATE INDEX IF NOT EXISTS calls_by_session ON calls (session_id, start_ms) WHERE session_id IS NOT NULL",
      "CREATE INDEX IF NOT EXISTS calls_by_user ON calls (user_id, start_ms) WHERE user_id IS NOT NULL",
      "CREATE INDEX IF NOT EXISTS calls_by_key ON calls (key_id, start_ms) WHERE key_id IS NOT NULL",
      "CREATE INDEX IF NOT EXISTS call_tags_by_tag ON call_tags (tag)",
      "CREATE INDEX IF NOT EXISTS call_tags_by_call ON call_tags (call_id)");

  /** SQLite's: the tags of the oldest calls started before a time (epoch ms), at most so many: before DELETE_CALLS. */
  static final String DELETE_TAGS = "DELETE FROM call_tags WHERE call_id IN"
      + " (SELECT id FROM calls WHERE start_ms < ?1 ORDER BY start_ms, rowid LIMIT ?2)";

  /** SQLite's: the oldest calls started before a time (epoch ms), at most so many: the same calls as DELETE_TAGS. */
  static final String DELETE_CALLS = "DELETE FROM calls WHERE rowid IN"
      + " (SELECT rowid FROM calls WHERE start_ms < ?1 ORDER BY start_ms, rowid LIMIT ?2)";

  // The short names enums are stored by (`stream`, `stop`, `hit`); the unspecified values are NULL.
  private static final Map<CallType, String> CALL_TYPES = shortNames(CallType.class, "CALL_TYPE_");
  private static final Map<FinishReason, String> FINISH_REASONS = shortNames(FinishReason.class, "FINISH_REASON_");
  private static final Map<CassetteOutcome, String> CASSETTE_OUTCOMES =
      shortNames(CassetteOutcome.class, "CASSETTE_OUTCOME_");

  private CallTable() {
  }

  /** The SQL of the two stores: how a statement marks its parameters, and how it inserts. */
  enum Dialect {
    /**
     * JDBC's {@code ?}. {@code OR FAIL}: otherwise SQLite copies every page a many-row INSERT touches to a statement
     * journal first, so that a constraint failure can undo the statement alone (about 10 times the row's bytes written,
     * measured); a failure here rolls the whole transaction back anyway.
     */
    SQLITE("INSERT OR FAIL INTO"),
    /** {@code $1, $2...}, as the reactive PostgreSQL client takes them. */
    POSTGRES("INSERT INTO");

    private final String insertInto;

    Dialect(String insertInto) {
      this.insertInto = insertInto;
    }

    /** The rows' parameters, {@code columns} to a row, in parentheses. */
    String rows(int rows, int columns) {
      List<String> all = new ArrayList<>();
      for (int row = 0; row < rows; row++) {
        List<String> parameters = new ArrayList<>();
        for (int column = 1; column <= columns; column++) {
          parameters.add(this == SQLITE ? "?" : "$" + (row * columns + column));
        }
        all.add("(" + String.join(", ", parameters) + ")");
      }
      return String.join(", ", all);
    }
  }

  /** SQLite's INSERT of {@code rows} calls in one statement: one statement per row costs more than its binds. */
  static String insertCalls(int rows) {
    return Dialect.SQLITE.insertInto + " calls (" + columnNames() + ") VALUES "
        + Dialect.SQLITE.rows(rows, COLUMNS.size());
  }

  /**
   * PostgreSQL's INSERT of any number of calls in one statement: a parameter per column, the array of that column's
   * values (typed {@link #postgresType}). Unlike a row of parameters per call, it costs the server no expression per
   * value to set up, and one plan whatever the number of rows. The arrays are unnested in the select list, in step:
   * {@code FROM unnest(...)} would copy the rows into a tuple store first.
   */
  static String insertCallArrays() {
    List<String> arrays = new ArrayList<>();
    for (int column = 0; column < COLUMNS.size(); column++) {
      arrays.add("unnest($" + (column + 1) + "::" + postgresType(column) + "[])");
    }
    return "INSERT INTO calls (" + columnNames() + ") SELECT " + String.join(", ", arrays);
  }

  private static String columnNames() {
    return String.join(", ", COLUMNS.stream().map(Column::name).toList());
  }

  /** The INSERT of one tag of a call: the tag, then the call's id. */
  static String insertTag(Dialect dialect) {
    return dialect.insertInto + " call_tags (tag, call_id) VALUES " + dialect.rows(1, 2);
  }

  /** How many values {@link #bind} sets for one row. */
  static int columnCount() {
    return COLUMNS.size();
  }

  /** The PostgreSQL type of the column {@link #bind} sets at parameter {@code column + 1}. */
  static String postgresType(int column) {
    return COLUMNS.get(column).postgresType();
  }

  /**
   * Where {@link #bind} puts a row's values, by parameter number from 1 as JDBC does: the parameters of a JDBC
   * statement (SQLite), or the column arrays of a statement of the reactive PostgreSQL client. One mapping serves both
   * stores.
   */
  interface RowParameters {
    void setString(int index, String value) throws SQLException;

    void setLong(int index, long value) throws SQLException;

    void setDouble(int index, double value) throws SQLException;

    /** @param sqlType a {@link Types} constant, which JDBC wants and an array does without */
    void setNull(int index, int sqlType) throws SQLException;

    void setBytes(int index, byte[] value) throws SQLException;
  }

  /** The parameters of a JDBC statement, as {@link RowParameters}. */
  static RowParameters parametersOf(PreparedStatement statement) {
    return new RowParameters() {
      @Override
      public void setString(int index, String value) throws SQLException {
        statement.setString(index, value);
      }

      @Override
      public void setLong(int index, long value) throws SQLException {
        statement.setLong(index, value);
      }

      @Override
      public void setDouble(int index, double value) throws SQLException {
        statement.setDouble(index, value);
      }

      @Override
      public void setNull(int index, int sqlType) throws SQLException {
        statement.setNull(index, sqlType);
      }

      @Override
      public void setBytes(int index, byte[] value) throws SQLException {
        statement.setBytes(index, value);
      }
    };
  }

  /**
   * Binds a record as the row starting at parameter {@code first} of an {@link #insertCalls} statement (or as the
   * next row of the column arrays of {@link #insertCallArrays}, each column's parameter numbered from 1), with the
   * redactor applied to everything that may hold a secret.
   *
   * @return the parameter after the row
   */
  static int bind(RowParameters insert, int first, CallRecord r, Redactor redactor) throws SQLException {
    int i = first;
    insert.setString(i++, r.getId());
    insert.setLong(i++, Timestamps.toMillis(r.getStartTime()));
    insert.setString(i++, CALL_TYPES.get(r.getCallType()));
    insert.setString(i++, r.getStatus());
    insert.setString(i++, emptyToNull(r.getProvider()));
    insert.setString(i++, emptyToNull(r.getProviderType()));
    insert.setString(i++, emptyToNull(r.getModel()));
    insert.setString(i++, emptyToNull(r.getUpstreamModel()));
    insert.setString(i++, FINISH_REASONS.get(r.getFinishReason()));
    Usage usage = r.getUsage();
    setLong(insert, i++, usage.hasInputTokens(), usage.getInputTokens());
    setLong(insert, i++, usage.hasOutputTokens(), usage.getOutputTokens());
    setLong(insert, i++, usage.hasCachedInputTokens(), usage.getCachedInputTokens());
    setLong(insert, i++, usage.hasReasoningTokens(), usage.getReasoningTokens());
    if (usage.hasCostUsd()) {
      insert.setDouble(i++, usage.getCostUsd());
    } else {
      insert.setNull(i++, Types.REAL);
    }
    insert.setDouble(i++, Durations.toNanos(r.getLatency()) / 1e6);
    insert.setString(i++, CASSETTE_OUTCOMES.get(r.getCassetteOutcome()));
    insert.setString(i++, r.getTraceId());
    insert.setString(i++, emptyToNull(r.getSessionId()));
    insert.setString(i++, emptyToNull(r.getUserId()));
    insert.setString(i++, emptyToNull(redactor.redactText(r.getErrorMessage())));
    insert.setBytes(i++, redactor.redactToBytes(details(r)));
    insert.setString(i++, emptyToNull(r.getKeyId()));
    insert.setString(i++, emptyToNull(r.getKeyName()));
    return i;
  }

  /**
   * The fields of a record that have no column of their own (the start time to the nanosecond too), copied one by one
   * onto a new record: a copy of the whole record less its columns cost the writer twice as much. CallTableTest writes
   * a record with every field set and reads it back, so a field added to the record must be added here or get a column.
   */
  private static CallRecord details(CallRecord r) {
    CallRecord.Builder details = CallRecord.newBuilder()
        .setSystemPrompt(r.getSystemPrompt())
        .setAttempts(r.getAttempts())
        .setCassetteKey(r.getCassetteKey())
        .setParentCallId(r.getParentCallId())
        .setBodiesTruncated(r.getBodiesTruncated());
    // An empty addAll still makes the builder copy its list; most calls have no tools, tags or metadata.
    if (r.getMessagesCount() > 0) {
      details.addAllMessages(r.getMessagesList());
    }
    if (r.getToolsCount() > 0) {
      details.addAllTools(r.getToolsList());
    }
    if (r.getTagsCount() > 0) {
      details.addAllTags(r.getTagsList());
    }
    if (r.getMetadataCount() > 0) {
      details.putAllMetadata(r.getMetadataMap());
    }
    if (r.getDroppedSettingsCount() > 0) {
      details.addAllDroppedSettings(r.getDroppedSettingsList());
    }
    if (r.hasToolChoice()) {
      details.setToolChoice(r.getToolChoice());
    }
    if (r.hasResponseMessage()) {
      details.setResponseMessage(r.getResponseMessage());
    }
    if (r.hasStartTime()) {
      details.setStartTime(r.getStartTime());
    }
    if (r.hasTimeToFirstEvent()) {
      details.setTimeToFirstEvent(r.getTimeToFirstEvent());
    }
    if (r.getUsage().hasWebSearches()) { // the one count without a column
      details.setUsage(Usage.newBuilder().setWebSearches(r.getUsage().getWebSearches()));
    }
    return details.build();
  }

  /** Reads the row {@code row} is on; it must select every column of `calls`. */
  static CallRecord read(ResultSet row) throws SQLException {
    CallRecord.Builder r = CallRecord.newBuilder()
        .setId(row.getString("id"))
        .setCallType(CallType.valueOf("CALL_TYPE_" + row.getString("call_type").toUpperCase(Locale.ROOT)))
        .setStatus(row.getString("status"))
        .setProvider(nullToEmpty(row.getString("provider")))
        .setProviderType(nullToEmpty(row.getString("provider_type")))
        .setModel(nullToEmpty(row.getString("model")))
        .setUpstreamModel(nullToEmpty(row.getString("upstream_model")))
        .setLatency(Durations.fromNanos(Math.round(row.getDouble("latency_ms") * 1e6)))
        .setTraceId(nullToEmpty(row.getString("trace_id")))
        .setSessionId(nullToEmpty(row.getString("session_id")))
        .setUserId(nullToEmpty(row.getString("user_id")))
        .setErrorMessage(nullToEmpty(row.getString("error_message")))
        .setKeyId(nullToEmpty(row.getString("key_id")))
        .setKeyName(nullToEmpty(row.getString("key_name")));
    String finish = row.getString("finish_reason");
    if (finish != null) {
      r.setFinishReason(FinishReason.valueOf("FINISH_REASON_" + finish.toUpperCase(Locale.ROOT)));
    }
    String outcome = row.getString("cassette_outcome");
    if (outcome != null) {
      r.setCassetteOutcome(CassetteOutcome.valueOf("CASSETTE_OUTCOME_" + outcome.toUpperCase(Locale.ROOT)));
    }
    Usage.Builder usage = r.getUsageBuilder();
    readLong(row, "input_tokens", usage::setInputTokens);
    readLong(row, "output_tokens", usage::setOutputTokens);
    readLong(row, "cached_input_tokens", usage::setCachedInputTokens);
    readLong(row, "reasoning_tokens", usage::setReasoningTokens);
    double cost = row.getDouble("cost_usd");
    if (!row.wasNull()) {
      usage.setCostUsd(cost);
    }
    try {
      byte[] details = row.getBytes("details");
      if (details != null) {
        r.mergeFrom(details);
      }
    } catch (InvalidProtocolBufferException e) {
      throw new SQLException("call " + r.getId() + " has unreadable details: " + e.getMessage(), e);
    }
    return r.build();
  }

  /** Hands the column's value to {@code set}, unless it is NULL (an absent count, not zero). */
  private static void readLong(ResultSet row, String column, LongConsumer set) throws SQLException {
    long value = row.getLong(column);
    if (!row.wasNull()) {
      set.accept(value);
    }
  }

  private static <E extends Enum<E>> Map<E, String> shortNames(Class<E> type, String prefix) {
    Map<E, String> names = new EnumMap<>(type);
    for (E value : type.getEnumConstants()) {
      if (!value.name().endsWith("_UNSPECIFIED") && !value.name().equals("UNRECOGNIZED")) {
        names.put(value, value.name().substring(prefix.length()).toLowerCase(Locale.ROOT));
      }
    }
    return names;
  }

  private static void setLong(RowParameters insert, int index, boolean present, long value) throws SQLException {
    if (present) {
      insert.setLong(index, value);
    } else {
      insert.setNull(index, Types.INTEGER);
    }
  }

  private static String emptyToNull(String value) {
    return value.isEmpty() ? null : value;
  }

  private static String nullToEmpty(String value) {
    return value == null ? "" : value;
  }
}
