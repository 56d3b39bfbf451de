package dev.llmrouter.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CallerKey;
import dev.llmrouter.api.v1.KeyLimits;
import dev.llmrouter.server.testing.Await;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-memory counters of one router: exact under many threads at once, and a spend that outlives a restart. */
class LocalQuotasTest {

  private static final long NOW = 1_800_000_000_000L;

  @TempDir
  Path dataDir;

  private Vertx vertx;
  private SqliteKeyStore store;

  @BeforeEach
  void open() {
    vertx = Vertx.vertx();
    store = SqliteKeyStore.open(vertx, dataDir);
  }

  @AfterEach
  void close() {
    Await.result(store.close());
    Await.result(vertx.close());
  }

  private static CallerKey key(KeyLimits limits) {
    return CallerKey.newBuilder().setId("key_000000000001").setName("k").setLimits(limits).build();
  }

  /** Runs {@code work} on 8 threads at once, {@code times} times in all; how many calls returned true. */
  private static long concurrently(int times, Callable<Boolean> work) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> done = new ArrayList<>();
      for (int i = 0; i < times; i++) {
        done.add(threads.submit(work));
      }
      long yes = 0;
      for (Future<Boolean> one : done) {
        yes += one.get() ? 1 : 0;
      }
      return yes;
    } finally {
      threads.shutdown();
    }
  }

  @Test
  void callsFromManyThreadsAtOnceAreLetInUpToTheLimitExactly() throws Exception {
    LocalQuotas quotas = new LocalQuotas(vertx, store);
    CallerKey key = key(KeyLimits.newBuilder().setRequestsPerMinute(100).build());

    long admitted = concurrently(4000, () -> quotas.admit(key, NOW).result().isEmpty());

    assertEquals(100, admitted);
    Quotas.Refusal refusal = quotas.admit(key, NOW + 15_000).result().orElseThrow();
    assertEquals(Quotas.Limit.REQUESTS_PER_MINUTE, refusal.limit());
    assertEquals(45_000, refusal.retryAfterMillis());
    assertTrue(quotas.admit(key, NOW + 60_000).result().isEmpty(), "the next minute");
    Await.result(quotas.close());
  }

  @Test
  void spendAddsUpExactlyAndOutlivesARestart() throws Exception {
    CallerKey key = key(KeyLimits.newBuilder().setBudgetUsd(0.000_008).build());
    Await.result(store.add(key, "00".repeat(32)));
    LocalQuotas quotas = new LocalQuotas(vertx, store);

    concurrently(8000, () -> quotas.charge(key, 0, 1, NOW).succeeded());

    assertEquals(8e-6, quotas.spend(key, NOW).result().getSpentUsd(), 1e-15);
    assertEquals(Optional.of(Quotas.Limit.BUDGET), quotas.admit(key, NOW).result().map(Quotas.Refusal::limit));
    Await.result(quotas.close());
    CallerKey stored = Await.result(store.find(key.getId())).orElseThrow();
    LocalQuotas restarted = new LocalQuotas(vertx, store);
    assertEquals(8e-6, restarted.spend(stored, NOW).result().getSpentUsd(), 1e-15, "as `keys list` shows it");
    assertEquals(Optional.of(Quotas.Limit.BUDGET), restarted.admit(stored, NOW + 1000).result()
        .map(Quotas.Refusal::limit), "the budget still holds after a restart");
    assertTrue(restarted.admit(stored, NOW + Quotas.DEFAULT_BUDGET_WINDOW.toMillis()).result().isEmpty(),
        "until its window rolls over");
    Await.result(restarted.close());
  }
}
