package dev.llmrouter.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.CallType;
import dev.llmrouter.api.v1.GetUsageResponse;
import dev.llmrouter.api.v1.UsageGrouping;
import dev.llmrouter.cassettes.Redactor;
import dev.llmrouter.server.testing.Await;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A call log written before caller keys (schema 1) is brought up to date on open, its calls kept. */
class CallLogMigrationTest {

  /** The `calls` table as schema 1 made it. */
  private static final String SCHEMA_1 = """
      CREATE TABLE calls (id TEXT NOT NULL, start_ms INTEGER NOT NULL, call_type TEXT NOT NULL, status TEXT NOT NULL,
        provider TEXT, provider_type TEXT, model TEXT, upstream_model TEXT, finish_reason TEXT, input_tokens INTEGER,
        output_tokens INTEGER, cached_input_tokens INTEGER, reasoning_tokens INTEGER, cost_usd REAL, latency_ms REAL,
        cassette_outcome TEXT, trace_id TEXT, session_id TEXT, user_id TEXT, error_message TEXT, details BLOB)""";

  @TempDir
  Path dataDir;

  @Test
  void anOlderCallLogGainsTheKeyColumnsAndKeepsItsCalls() throws Exception {
    try (Connection old = SqliteCallStore.connect(dataDir.resolve(CallLog.FILE_NAME));
        Statement statement = old.createStatement()) {
      statement.execute(SCHEMA_1);
      statement.execute("CREATE TABLE call_tags (tag TEXT NOT NULL, call_id TEXT NOT NULL)");
      statement.execute("INSERT INTO calls (id, start_ms, call_type, status, model, latency_ms, trace_id) VALUES "
          + "('00000000000000a1', 1000, 'chat', 'OK', 'openai/gpt-4o-mini', 12.5, 'trace-1')");
      statement.execute("PRAGMA user_version = 1");
    }

    CallLog log = CallLog.open(dataDir, 10, Optional.empty(), Redactor.defaults());
    log.append(() -> CallRecord.newBuilder().setId("00000000000000b2").setCallType(CallType.CALL_TYPE_CHAT)
        .setStatus("OK").setModel("openai/gpt-4o-mini").setStartTime(Timestamps.fromMillis(2000))
        .setTraceId("trace-2").setKeyId("key_0123456789ab").setKeyName("ci").build());
    Await.until(Duration.ofSeconds(10), () -> log.queued() == 0);
    log.close();

    CallQueries queries = log.queries();
    List<CallRecord> calls = queries.list(CallFilter.getDefaultInstance(), 10, "").getCallsList();
    assertEquals(List.of("00000000000000b2", "00000000000000a1"), calls.stream().map(CallRecord::getId).toList());
    assertEquals("", calls.get(1).getKeyId(), "an older call was made without a key");
    assertEquals("ci", calls.get(0).getKeyName());
    GetUsageResponse usage = queries.usage(CallFilter.getDefaultInstance(), List.of(UsageGrouping.USAGE_GROUPING_KEY));
    assertEquals(Set.of("key_0123456789ab", ""), usage.getRowsList().stream().map(row -> row.getKeyId())
        .collect(Collectors.toSet()));
    try (Connection upgraded = SqliteCallStore.connect(dataDir.resolve(CallLog.FILE_NAME)); Statement statement = upgraded.createStatement();
        ResultSet version = statement.executeQuery("PRAGMA user_version")) {
      assertEquals(CallTable.SCHEMA_VERSION, version.getInt(1));
    }
  }
}
