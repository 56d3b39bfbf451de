package dev.llmrouter.server.pipeline;

import dev.llmrouter.server.answer.CallError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.grpc.common.GrpcStatus;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The calls this router is running (model calls and Converse streams), and whether it takes new ones. A drain stops
 * the intake (every door then refuses new calls with {@link #drainingRefusal()}), asks each running call to wind down,
 * waits for all to end, and at its deadline cancels those still running. Safe from every event loop.
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

  /** Whether new calls are refused: a drain has begun. */
  public boolean draining() {
    return draining;
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
    if (running.remove(call) && draining && running.isEmpty()) {
      allEnded.tryComplete();
    }
  }

  /**
   * Stops the intake and asks every running call to wind down.
   *
   * @return completed once no call runs
   */
  public Future<Void> drain() {
    draining = true;
    running.forEach(Call::windDown);
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
