package dev.llmrouter.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What a reload reports: the settings it changes for new calls, those that need a restart, by their names in the file. */
class ReloadReportTest {

  private static final String STARTED = """
      listen: 127.0.0.1:50051
      providers:
        - { name: openai, type: openai, base_url: https://api.openai.com/v1 }
      """;
  private static final String CHANGED = """
      listen: 127.0.0.1:50052
      data_dir: elsewhere
      call_log: { retention: 30d, postgres_url: "postgresql://router@db.internal:5432/llm_router" }
      shared_state: { redis_url: "redis://127.0.0.1:6379" }
      admin: { metrics_public: true }
      auth: { required: false }
      converse: { idle_timeout: 1m }
      providers:
        - { name: openai, type: openai, base_url: https://api.openai.com/v1, timeout: 1m }
      models:
        - { alias: fast, targets: [{ model: openai/gpt-4o }] }
      prices:
        gpt-x: { input: 1, output: 2 }
      retry: { max_attempts: 5 }
      drain_timeout: 10s
      """;

  private static RouterConfig parse(String yaml) {
    return ConfigLoader.parse(yaml, variable -> null);
  }

  @Test
  void eachChangedSettingIsNamedAsTheFileNamesIt() {
    ReloadReport report = ReloadReport.between(parse(STARTED), parse(STARTED), parse(CHANGED));

    assertTrue(report.applied());
    assertEquals(List.of("providers", "models", "prices", "retry / circuit_breaker", "drain_timeout"),
        report.changed());
    assertEquals(List.of("listen", "converse.idle_timeout", "data_dir", "call_log.retention", "call_log.postgres_url",
        "admin.metrics_public", "shared_state.redis_url"), report.needRestart());
    assertEquals("config reloaded: providers, models, prices, retry / circuit_breaker, drain_timeout changed for new "
        + "calls; listen, converse.idle_timeout, data_dir, call_log.retention, call_log.postgres_url, "
        + "admin.metrics_public, shared_state.redis_url changed in the file but need a restart (kept as they run)",
        report.summary());
  }

  @Test
  void whatNeedsARestartIsReportedUntilTheRouterRestarts() {
    ReloadReport again = ReloadReport.between(parse(STARTED), parse(CHANGED), parse(CHANGED));

    assertEquals(List.of(), again.changed(), "the last reload applied them");
    assertEquals(7, again.needRestart().size(), again.needRestart().toString());
    assertEquals(List.of(), ReloadReport.between(parse(STARTED), parse(STARTED), parse(STARTED)).needRestart());
  }

  @Test
  void aRefusedReloadListsTheProblems() {
    ReloadReport refused = ReloadReport.refused(List.of("listen (line 1): must be host:port", "retry: bad"));

    assertFalse(refused.applied());
    assertEquals("config reload refused, the running config is kept: listen (line 1): must be host:port; retry: bad",
        refused.summary());
  }
}
