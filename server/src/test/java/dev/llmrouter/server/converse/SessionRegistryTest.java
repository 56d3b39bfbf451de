package dev.llmrouter.server.converse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.server.config.ConverseConfig;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SessionRegistryTest {

  @Test
  void idleSessionsExpireAndTheLeastRecentlyUsedGoFirst() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      AtomicLong nanos = new AtomicLong();
      SessionRegistry registry = new SessionRegistry(new ConverseConfig(Duration.ofMinutes(1), 2, 4, "sum up"),
          nanos::get);
      for (String id : new String[] {"a", "b"}) {
        registry.add(new ConverseSession(id, ConverseStart.getDefaultInstance(), null, null, 4, "sum up",
            vertx.getOrCreateContext()));
      }
      assertEquals(2, registry.size());
      nanos.addAndGet(TimeUnit.SECONDS.toNanos(30));
      assertTrue(registry.find("a").isPresent(), "a lookup counts as activity");
      nanos.addAndGet(TimeUnit.SECONDS.toNanos(45));
      assertTrue(registry.find("b").isEmpty(), "b was idle for 75 s");
      assertEquals(1, registry.size(), "expired sessions are freed");
      registry.add(new ConverseSession("c", ConverseStart.getDefaultInstance(), null, null, 4, "sum up",
          vertx.getOrCreateContext()));
      registry.add(new ConverseSession("d", ConverseStart.getDefaultInstance(), null, null, 4, "sum up",
          vertx.getOrCreateContext()));
      assertEquals(2, registry.size(), "max_sessions bounds the registry");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }
}
