package dev.llmrouter.server.pipeline;

import dev.llmrouter.server.answer.CallError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpVersion;
import io.vertx.grpc.common.GrpcStatus;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The calls this router is running (model calls and Converse streams), and whether it takes new ones. A drain stops
 * the intake (the doors refuse new calls with {@link #drainingRefusal()}, as {@link #refusesNewCall} says), asks each
 * running call to wind down, waits for all to end, and at its deadline cancels those still running. Safe from every
 * event loop.
 */
public final class RunningCalls {

  /** Something running that a drain waits for. Each acts on its own event loop, whichever thread asks. */
  public interface Call {

    /** The drain began: finish what is under way, then end (a model call has nothing to do: it ends by itself). */
    void windDown();

    /** The drain's deadline passed: end now, with {@code why}. */
    void cancel(CallError why);
  }

  private static final CallError DRAINING = CallError.withInfo(GrpcStatus.UNAVAILABLE, "this router replica is "
      + "draining (shutting down) and takes no new calls: send the call to another replica", "DRAINING", Map.of(),
      null);

  private final Set<Call> running = ConcurrentHashMap.newKeySet();
  private final Promise<Void> allEnded = Promise.promise();
  private volatile boolean draining;
  private volatile boolean intakeClosed;

  /** Whether a drain has begun. */
  public boolean draining() {
    return draining;
  }

  /**
   * Whether a door refuses a new call that came over {@code version} on the main listener: while the router drains,
   * one over HTTP/1.x (a balancer retries it on another replica); not one over HTTP/2, which the client sent before
   * it read its connection's first GOAWAY: HTTP/2 itself refuses a stream sent after the final one (REFUSED_STREAM).
   */
  public boolean refusesNewCall(HttpVersion version) {
    return draining && version != HttpVersion.HTTP_2;
  }

  /** The error a new call gets while the router drains: UNAVAILABLE, reason DRAINING. */
  public CallError drainingRefusal() {
    return DRAINING;
  }

  /** A call runs until {@link #remove}; one added during a drain (a step of a running Converse turn) winds down. */
  public void add(Call call) {
    running.add(call);
    if (draining) {
      call.windDown();
    }
  }

  public void remove(Call call) {
    if (running.remove(call) && intakeClosed && running.isEmpty()) {
      allEnded.tryComplete();
    }
  }

  /** Begins the drain: the doors refuse new calls ({@link #refusesNewCall}), every running call winds down. */
  public void drain() {
    draining = true;
    running.forEach(Call::windDown);
  }

  /**
   * Once no new call can come (the drain began, and the listeners' connections had their final GOAWAY).
   *
   * @return completed once no call runs
   */
  public Future<Void> allEnded() {
    intakeClosed = true;
    if (running.isEmpty()) {
      allEnded.tryComplete();
    }
    return allEnded.future();
  }

  /** Ends every call still running with UNAVAILABLE: the drain's deadline passed. */
  public void cancelAll() {
    CallError why = CallError.withInfo(GrpcStatus.UNAVAILABLE, "this router replica is shutting down and its "
        + "drain_timeout has passed: the call was cut short; send it again to another replica", "DRAINING",
        Map.of(), null);
    running.forEach(call -> call.cancel(why));
  }
}
