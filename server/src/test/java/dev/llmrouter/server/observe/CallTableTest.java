package dev.llmrouter.server.observe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.CallType;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolChoice;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.cassettes.Redactor;
import dev.llmrouter.server.config.PostgresUrl;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.PostgresServer;
import dev.llmrouter.server.testing.TestCallLog;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A call record goes into the call log's columns and `details` and comes back whole, from SQLite and from a real
 * PostgreSQL (started by the test; that case is skipped where it is not installed), in many-row statements and alone.
 */
class CallTableTest {

  /** SQLite: two statements of 32 rows and some rows alone; PostgreSQL: one statement. */
  private static final int RECORDS = 70;

  @TempDir
  Path dataDir;

  @Test
  void recordsWithEveryFieldSetComeBackWholeFromSqlite() throws Exception {
    writeAndReadBack(CallLog.open(dataDir, RECORDS, Optional.empty(), Redactor.defaults()), recordsOfEveryField());
  }

  @Test
  void recordsWithEveryFieldSetComeBackWholeFromPostgres() throws Exception {
    writeAndReadBackInPostgres(recordsOfEveryField());
  }

  @Test
  void aTurnTooLargeForOneStatementGoesToPostgresWhole() throws Exception {
    // 40 calls of 1 MB each: more than one INSERT carries.
    writeAndReadBackInPostgres(IntStream.range(0, 40).mapToObj(n -> record(n).toBuilder()
        .setSystemPrompt(String.valueOf((char) ('a' + n % 26)).repeat(1 << 20)).build()).toList());
  }

  /** The round trips above cover every field of a record only while the records they write have each one set. */
  @Test
  void theRecordsWrittenHaveEveryFieldSet() {
    CallRecord record = record(1);
    for (MessageOrBuilder message : List.of(record, record.getUsage())) {
      for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
        assertTrue(field.isRepeated() ? message.getRepeatedFieldCount(field) > 0 : message.hasField(field),
            field.getFullName() + " is not set in the records written: set it, so that the round trips cover it");
      }
    }
  }

  private static List<CallRecord> recordsOfEveryField() {
    return IntStream.range(0, RECORDS).mapToObj(CallTableTest::record).toList();
  }

  /** Writes the records to a real PostgreSQL, started for the test; skipped where it is not installed. */
  private static void writeAndReadBackInPostgres(List<CallRecord> records) throws Exception {
    Assumptions.assumeTrue(PostgresServer.installed(), PostgresServer.NOT_INSTALLED);
    Vertx vertx = Vertx.vertx();
    try (PostgresServer postgres = PostgresServer.start()) {
      PostgresUrl url = PostgresUrl.parse(TestCallLog.postgres(postgres).postgresUrl(), name -> null);
      writeAndReadBack(CallLog.open(vertx, url, records.size(), Optional.empty(), Redactor.defaults()), records);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static void writeAndReadBack(CallLog log, List<CallRecord> records) throws Exception {
    records.forEach(record -> log.append(() -> record));
    Await.until(Duration.ofSeconds(10), () -> log.queued() == 0);
    log.close();

    for (CallRecord record : records) {
      assertEquals(record, log.queries().call(record.getId()));
    }
  }

  private static CallRecord record(int n) {
    return CallRecord.newBuilder().setId("%016x".formatted(0xc300 + n)).setCallType(CallType.CALL_TYPE_STREAM)
        .setStatus("OK").setProvider("openai").setProviderType("openai").setModel("openai/gpt-4o-mini")
        .setUpstreamModel("gpt-4o-mini-2024-07-18").setSystemPrompt("Be brief.")
        .addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hi " + n)))
        .addTools(Tool.newBuilder().setName("get_weather"))
        .setToolChoice(ToolChoice.newBuilder().setToolName("get_weather"))
        .setResponseMessage(Message.newBuilder().setRole(Role.ROLE_ASSISTANT).addParts(Part.newBuilder().setText("Hello")))
        .setFinishReason(FinishReason.FINISH_REASON_STOP)
        .setUsage(Usage.newBuilder().setInputTokens(10).setOutputTokens(2).setCachedInputTokens(4)
            .setReasoningTokens(1).setCostUsd(0.25).setWebSearches(3))
        .setStartTime(Timestamps.fromNanos(1_700_000_000_123_456_789L + n)).setLatency(Durations.fromMillis(250))
        .setTimeToFirstEvent(Durations.fromMillis(40)).setAttempts(2)
        .setCassetteOutcome(CassetteOutcome.CASSETTE_OUTCOME_RECORDED).setCassetteKey("ab".repeat(32))
        .setTraceId("018bcfe56800abcd0123456789abcdef").setParentCallId("00000000000000b2").setSessionId("s-1")
        .setUserId("u-1").addTags("nightly").putMetadata("team", "search").setErrorMessage(n % 2 == 0 ? "" : "oops")
        .addDroppedSettings("seed").setBodiesTruncated(true).setKeyId("key_0123456789ab").setKeyName("ci")
        .build();
  }
}
