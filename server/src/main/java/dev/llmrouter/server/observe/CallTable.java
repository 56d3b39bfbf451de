package dev.llmrouter.server.observe;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The `calls` and `call_tags` tables of the call log: the schema, and a {@link CallRecord} to a row and back. Enums
 * are stored by their short lowercase name (`stream`, `stop`, `hit`), times as ISO-8601 text plus epoch milliseconds,
 * so the file reads well in the `sqlite3` shell. The bodies (system prompt, messages, tools, tool choice, answer) are
 * one protobuf BLOB, a `CallRecord` holding only them: printing them as JSON cost the writer more than SQLite did
 * (docs/benchmarks.md); `calls list --json` and `ListCalls` show them.
 *
 * <p>Indexes are few and mostly grow at their end (start time; generated trace ids begin with the time): an index on a
 * random key would dirty a page per row of each batch, which the benchmark showed to be the writer's main cost. Call
 * ids are random, so they have none; nothing looks a call up by its id alone.
 */
final class CallTable {

  /** Bumped when the schema changes; kept in `PRAGMA user_version`. */
  static final int SCHEMA_VERSION = 1;

  static final List<String> SCHEMA = List.of("""
      CREATE TABLE IF NOT EXISTS calls (
        id TEXT NOT NULL,
        start_time TEXT NOT NULL,
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
        time_to_first_event_ms REAL,
        attempts INTEGER,
        cassette_outcome TEXT,
        cassette_key TEXT,
        trace_id TEXT,
        parent_call_id TEXT,
        session_id TEXT,
        user_id TEXT,
        tags TEXT,
        metadata TEXT,
        error_message TEXT,
        bodies BLOB
      )""",
      "CREATE TABLE IF NOT EXISTS call_tags (tag TEXT NOT NULL, call_id TEXT NOT NULL)",
      "CREATE INDEX IF NOT EXISTS calls_by_start ON calls (start_ms, id)",
      "CREATE INDEX IF NOT EXISTS calls_by_trace ON calls (trace_id, start_ms)",
      // Partial: most calls have no session or user, and an entry per such call would cost every insert.
      "CREATE INDEX IF NOT EXISTS calls_by_session ON calls (session_id, start_ms) WHERE session_id IS NOT NULL",
      "CREATE INDEX IF NOT EXISTS calls_by_user ON calls (user_id, start_ms) WHERE user_id IS NOT NULL",
      "CREATE INDEX IF NOT EXISTS call_tags_by_tag ON call_tags (tag)",
      "CREATE INDEX IF NOT EXISTS call_tags_by_call ON call_tags (call_id)");

  static final String INSERT_CALL = "INSERT INTO calls (id, start_time, start_ms, call_type, status, "
      + "provider, provider_type, model, upstream_model, finish_reason, input_tokens, output_tokens, "
      + "cached_input_tokens, reasoning_tokens, cost_usd, latency_ms, time_to_first_event_ms, attempts, "
      + "cassette_outcome, cassette_key, trace_id, parent_call_id, session_id, user_id, tags, metadata, "
      + "error_message, bodies) "
      + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  static final String INSERT_TAG = "INSERT INTO call_tags (tag, call_id) VALUES (?, ?)";

  private static final ObjectMapper JSON = new ObjectMapper();

  private CallTable() {
  }

  /** Binds a record to {@link #INSERT_CALL}, with the redactor applied to every text that may hold a secret. */
  static void bind(PreparedStatement insert, CallRecord r, Redactor redactor) throws SQLException {
    Instant start = Instant.ofEpochSecond(r.getStartTime().getSeconds(), r.getStartTime().getNanos());
    int i = 0;
    insert.setString(++i, r.getId());
    insert.setString(++i, start.toString());
    insert.setLong(++i, start.toEpochMilli());
    insert.setString(++i, shortName(r.getCallType().name(), "CALL_TYPE_"));
    insert.setString(++i, r.getStatus());
    insert.setString(++i, emptyToNull(r.getProvider()));
    insert.setString(++i, emptyToNull(r.getProviderType()));
    insert.setString(++i, emptyToNull(r.getModel()));
    insert.setString(++i, emptyToNull(r.getUpstreamModel()));
    insert.setString(++i, r.getFinishReason() == FinishReason.FINISH_REASON_UNSPECIFIED ? null
        : shortName(r.getFinishReason().name(), "FINISH_REASON_"));
    Usage usage = r.getUsage();
    setLong(insert, ++i, usage.hasInputTokens(), usage.getInputTokens());
    setLong(insert, ++i, usage.hasOutputTokens(), usage.getOutputTokens());
    setLong(insert, ++i, usage.hasCachedInputTokens(), usage.getCachedInputTokens());
    setLong(insert, ++i, usage.hasReasoningTokens(), usage.getReasoningTokens());
    if (usage.hasCostUsd()) {
      insert.setDouble(++i, usage.getCostUsd());
    } else {
      insert.setNull(++i, Types.REAL);
    }
    insert.setDouble(++i, Durations.toNanos(r.getLatency()) / 1e6);
    if (r.hasTimeToFirstEvent()) {
      insert.setDouble(++i, Durations.toNanos(r.getTimeToFirstEvent()) / 1e6);
    } else {
      insert.setNull(++i, Types.REAL);
    }
    insert.setInt(++i, r.getAttempts());
    insert.setString(++i, r.getCassetteOutcome() == CassetteOutcome.CASSETTE_OUTCOME_UNSPECIFIED ? null
        : shortName(r.getCassetteOutcome().name(), "CASSETTE_OUTCOME_"));
    insert.setString(++i, emptyToNull(r.getCassetteKey()));
    insert.setString(++i, r.getTraceId());
    insert.setString(++i, emptyToNull(r.getParentCallId()));
    insert.setString(++i, emptyToNull(r.getSessionId()));
    insert.setString(++i, emptyToNull(r.getUserId()));
    insert.setString(++i, r.getTagsCount() == 0 ? null : String.join(",", r.getTagsList()));
    insert.setString(++i, r.getMetadataCount() == 0 ? null : metadataJson(r.getMetadataMap(), redactor));
    insert.setString(++i, emptyToNull(redactor.redactText(r.getErrorMessage())));
    CallRecord.Builder bodies = CallRecord.newBuilder().setSystemPrompt(r.getSystemPrompt())
        .addAllMessages(r.getMessagesList()).addAllTools(r.getToolsList());
    if (r.hasToolChoice()) {
      bodies.setToolChoice(r.getToolChoice());
    }
    if (r.hasResponseMessage()) {
      bodies.setResponseMessage(r.getResponseMessage());
    }
    insert.setBytes(++i, redactor.redact(bodies.build()).toByteArray());
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
        .setAttempts(row.getInt("attempts"))
        .setCassetteKey(nullToEmpty(row.getString("cassette_key")))
        .setTraceId(nullToEmpty(row.getString("trace_id")))
        .setParentCallId(nullToEmpty(row.getString("parent_call_id")))
        .setSessionId(nullToEmpty(row.getString("session_id")))
        .setUserId(nullToEmpty(row.getString("user_id")))
        .setErrorMessage(nullToEmpty(row.getString("error_message")));
    // The ISO text keeps the nanoseconds that the milliseconds column (for ordering and ranges) drops.
    r.setStartTime(Timestamps.fromNanos(nanosOf(Instant.parse(row.getString("start_time")))));
    String finish = row.getString("finish_reason");
    if (finish != null) {
      r.setFinishReason(FinishReason.valueOf("FINISH_REASON_" + finish.toUpperCase(Locale.ROOT)));
    }
    String outcome = row.getString("cassette_outcome");
    if (outcome != null) {
      r.setCassetteOutcome(CassetteOutcome.valueOf("CASSETTE_OUTCOME_" + outcome.toUpperCase(Locale.ROOT)));
    }
    double ttfe = row.getDouble("time_to_first_event_ms");
    if (!row.wasNull()) {
      r.setTimeToFirstEvent(Durations.fromNanos(Math.round(ttfe * 1e6)));
    }
    Usage.Builder usage = r.getUsageBuilder();
    long input = row.getLong("input_tokens");
    if (!row.wasNull()) {
      usage.setInputTokens(input);
    }
    long output = row.getLong("output_tokens");
    if (!row.wasNull()) {
      usage.setOutputTokens(output);
    }
    long cached = row.getLong("cached_input_tokens");
    if (!row.wasNull()) {
      usage.setCachedInputTokens(cached);
    }
    long reasoning = row.getLong("reasoning_tokens");
    if (!row.wasNull()) {
      usage.setReasoningTokens(reasoning);
    }
    double cost = row.getDouble("cost_usd");
    if (!row.wasNull()) {
      usage.setCostUsd(cost);
    }
    String tags = row.getString("tags");
    if (tags != null) {
      r.addAllTags(List.of(tags.split(",")));
    }
    try {
      String metadata = row.getString("metadata");
      if (metadata != null) {
        JSON.readTree(metadata).fields().forEachRemaining(e -> r.putMetadata(e.getKey(), e.getValue().asText()));
      }
      byte[] bodies = row.getBytes("bodies");
      if (bodies != null) {
        r.mergeFrom(bodies);
      }
    } catch (InvalidProtocolBufferException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new SQLException("call " + r.getId() + " has unreadable metadata or bodies: " + e.getMessage(), e);
    }
    return r.build();
  }

  private static long nanosOf(Instant instant) {
    return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
  }

  private static String metadataJson(Map<String, String> metadata, Redactor redactor) {
    ObjectNode object = JSON.createObjectNode();
    metadata.forEach(object::put);
    return redactor.redact(object).toString();
  }

  private static String shortName(String enumName, String prefix) {
    return enumName.substring(prefix.length()).toLowerCase(Locale.ROOT);
  }

  private static void setLong(PreparedStatement insert, int index, boolean present, long value) throws SQLException {
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
