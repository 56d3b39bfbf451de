package dev.llmrouter.server.observe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.JsonFormat;
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
 * bodies as protobuf JSON, so the file reads well in the `sqlite3` shell.
 */
final class CallTable {

  /** Bumped when the schema changes; kept in `PRAGMA user_version`. */
  static final int SCHEMA_VERSION = 1;

  static final List<String> SCHEMA = List.of("""
      CREATE TABLE IF NOT EXISTS calls (
        id TEXT PRIMARY KEY,
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
        system_prompt TEXT,
        messages TEXT,
        tools TEXT,
        tool_choice TEXT,
        response_message TEXT
      )""",
      "CREATE TABLE IF NOT EXISTS call_tags (tag TEXT NOT NULL, call_id TEXT NOT NULL, PRIMARY KEY (tag, call_id))",
      "CREATE INDEX IF NOT EXISTS calls_by_start ON calls (start_ms, id)",
      "CREATE INDEX IF NOT EXISTS calls_by_trace ON calls (trace_id, start_ms)",
      "CREATE INDEX IF NOT EXISTS calls_by_session ON calls (session_id, start_ms)",
      "CREATE INDEX IF NOT EXISTS calls_by_user ON calls (user_id, start_ms)",
      "CREATE INDEX IF NOT EXISTS call_tags_by_call ON call_tags (call_id)");

  static final String INSERT_CALL = "INSERT OR REPLACE INTO calls (id, start_time, start_ms, call_type, status, "
      + "provider, provider_type, model, upstream_model, finish_reason, input_tokens, output_tokens, "
      + "cached_input_tokens, reasoning_tokens, cost_usd, latency_ms, time_to_first_event_ms, attempts, "
      + "cassette_outcome, cassette_key, trace_id, parent_call_id, session_id, user_id, tags, metadata, "
      + "error_message, system_prompt, messages, tools, tool_choice, response_message) "
      + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  static final String INSERT_TAG = "INSERT OR IGNORE INTO call_tags (tag, call_id) VALUES (?, ?)";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

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
    insert.setString(++i, emptyToNull(redactor.redactText(r.getSystemPrompt())));
    insert.setString(++i, r.getMessagesCount() == 0 ? null : redactor.redactText(jsonArray(r.getMessagesList())));
    insert.setString(++i, r.getToolsCount() == 0 ? null : redactor.redactText(jsonArray(r.getToolsList())));
    insert.setString(++i, r.hasToolChoice() ? json(r.getToolChoice()) : null);
    insert.setString(++i, r.hasResponseMessage() ? redactor.redactText(json(r.getResponseMessage())) : null);
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
        .setErrorMessage(nullToEmpty(row.getString("error_message")))
        .setSystemPrompt(nullToEmpty(row.getString("system_prompt")));
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
      for (JsonNode message : array(row.getString("messages"))) {
        PARSER.merge(message.toString(), r.addMessagesBuilder());
      }
      for (JsonNode tool : array(row.getString("tools"))) {
        PARSER.merge(tool.toString(), r.addToolsBuilder());
      }
      String toolChoice = row.getString("tool_choice");
      if (toolChoice != null) {
        PARSER.merge(toolChoice, r.getToolChoiceBuilder());
      }
      String response = row.getString("response_message");
      if (response != null) {
        PARSER.merge(response, r.getResponseMessageBuilder());
      }
    } catch (InvalidProtocolBufferException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new SQLException("call " + r.getId() + " has a body that is not valid JSON: " + e.getMessage(), e);
    }
    return r.build();
  }

  private static long nanosOf(Instant instant) {
    return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
  }

  private static Iterable<JsonNode> array(String json) throws com.fasterxml.jackson.core.JsonProcessingException {
    return json == null ? List.of() : JSON.readTree(json);
  }

  private static String metadataJson(Map<String, String> metadata, Redactor redactor) {
    ObjectNode object = JSON.createObjectNode();
    metadata.forEach(object::put);
    return redactor.redact(object).toString();
  }

  private static String jsonArray(List<? extends MessageOrBuilder> messages) {
    StringBuilder out = new StringBuilder("[");
    for (MessageOrBuilder message : messages) {
      out.append(out.length() == 1 ? "" : ",").append(json(message));
    }
    return out.append(']').toString();
  }

  private static String json(MessageOrBuilder message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName() + " as JSON", e);
    }
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
