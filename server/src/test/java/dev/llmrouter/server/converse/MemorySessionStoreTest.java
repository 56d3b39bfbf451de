package dev.llmrouter.server.converse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.SessionRecord;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.config.ConverseConfig;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MemorySessionStoreTest {

  private final AtomicLong nanos = new AtomicLong();
  private final MemorySessionStore store = new MemorySessionStore(new ConverseConfig(Duration.ofMinutes(1), 2, 4,
      "sum up"), nanos::get);

  private static SessionRecord session(String id) {
    return SessionRecord.newBuilder().setSessionId(id).setKeyId("key-a").build();
  }

  private static <T> T result(Future<T> future) {
    assertTrue(future.succeeded(), () -> String.valueOf(future.cause()));
    return future.result();
  }

  private static GrpcStatus refusal(Future<?> future) {
    assertTrue(future.failed(), "refused");
    return ((CallError) future.cause()).status();
  }

  private void advance(long seconds) {
    nanos.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
  }

  @Test
  void aSessionLetGoExpiresAfterTheIdleTimeButNotWhileAStreamDrivesIt() {
    assertTrue(result(store.create(session("a"), "t1")));
    advance(600);
    assertTrue(result(store.keep("a", "t1", Optional.empty())) == null, "a driven session does not expire");
    result(store.release("a", "t1"));
    advance(45);
    assertTrue(result(store.claim("a", "key-a", "t2")).isPresent(), "resumed within the idle time");
    result(store.release("a", "t2"));
    advance(61);
    assertTrue(result(store.claim("a", "key-a", "t3")).isEmpty(), "idle for 61 s");
    assertEquals(0, store.size(), "expired sessions are freed");
  }

  @Test
  void oneStreamDrivesASessionAndOnlyItsKeyResumesIt() {
    assertTrue(result(store.create(session("a"), "t1")));
    assertFalse(result(store.create(session("a"), "t2")), "the id is taken");
    assertEquals(GrpcStatus.FAILED_PRECONDITION, refusal(store.claim("a", "key-a", "t2")));
    result(store.release("a", "t1"));
    assertTrue(result(store.claim("a", "key-b", "t2")).isEmpty(), "another key's session is not there for it");
    assertTrue(result(store.claim("a", "key-a", "t2")).isPresent());
    assertEquals(GrpcStatus.ABORTED, refusal(store.keep("a", "t1", Optional.of(session("a")))),
        "the first stream's lease went to the second");
    result(store.remove("a", "t2"));
    assertTrue(result(store.claim("a", "key-a", "t3")).isEmpty(), "removed for good");
  }

  @Test
  void maxSessionsBoundsTheStore() {
    for (String id : new String[] {"a", "b", "c", "d"}) {
      result(store.create(session(id), "t"));
      result(store.release(id, "t"));
    }
    assertEquals(2, store.size());
  }
}
