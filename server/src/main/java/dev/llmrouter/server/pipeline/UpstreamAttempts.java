package dev.llmrouter.server.pipeline;

import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.answer.CallError;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.llmrouter.server.config.ResilienceConfig;
import dev.llmrouter.server.provider.UpstreamErrors;
import dev.llmrouter.server.route.Deployment;
import dev.llmrouter.server.route.RoutePlanner;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The upstream attempts of one call. Until the first event reaches the caller, a retryable failure (unreachable,
 * 5xx, 429, a timeout before any byte) is retried on the same target with exponential backoff and full jitter,
 * waiting at least what `Retry-After` asked, up to `max_attempts`; then the next target of the plan is tried. A rate
 * limit moves to the next target at once when there is one. Caller errors (400, 404...) are never retried. After the
 * first event, a failure ends the stream with its status after the events already sent. Every attempt is bounded by
 * the deployment's timeout, all of them by the caller's deadline; a cancel stops the attempt and any retry to come.
 * Each target is sent the request as its model can honour it ({@link CallPlan}).
 */
final class UpstreamAttempts implements ChatEventStream.Upstream {

  private final Vertx vertx;
  private final ResilienceConfig policy;
  private final List<CallPlan.Step> steps;
  private final boolean stream;
  private final long deadlineNanos;
  private final ChatEventStream out = new ChatEventStream();
  /** Told the deployment of each upstream request, for the metrics. */
  private final Consumer<String> onAttempt;
  private int targetIndex;
  private int attemptsOnTarget;
  private int attempts;
  private ChatEventStream current;
  private long retryTimer = -1;
  private boolean started;
  private CallPlan.Step servedBy;
  private CallError lastError;

  private UpstreamAttempts(Vertx vertx, ResilienceConfig policy, CallPlan plan, CallOptions options,
      Consumer<String> onAttempt) {
    this.vertx = vertx;
    this.onAttempt = onAttempt;
    this.policy = policy;
    this.steps = plan.steps();
    this.stream = options.stream();
    this.deadlineNanos = options.deadlineMillis() > 0
        ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.deadlineMillis()) : 0;
  }

  /** Starts the first attempt; must be called on the caller's event-loop context. */
  static UpstreamAttempts start(Vertx vertx, ResilienceConfig policy, CallPlan plan, CallOptions options,
      Consumer<String> onAttempt) {
    UpstreamAttempts attempts = new UpstreamAttempts(vertx, policy, plan, options, onAttempt);
    attempts.out.upstream(attempts);
    attempts.attempt();
    return attempts;
  }

  /** The answer's events, from whichever attempt succeeded. */
  ChatEventStream events() {
    return out;
  }

  /** The target that answered (known once the first event arrived). */
  RoutePlanner.Target servedBy() {
    return servedBy.target();
  }

  /** How many upstream requests were sent so far. */
  int attempts() {
    return attempts;
  }

  /** The settings left out of the request sent to the target that answered (known once the first event arrived). */
  List<String> droppedSettings() {
    return servedBy.droppedSettings();
  }

  private void attempt() {
    retryTimer = -1;
    if (out.isClosed()) {
      return;
    }
    CallPlan.Step step = steps.get(targetIndex);
    Deployment deployment = step.target().deployment();
    String missingKey = deployment.missingKeyVariable();
    if (missingKey != null) {
      lastError = new CallError(GrpcStatus.FAILED_PRECONDITION, "provider " + deployment.name()
          + " has no API key: set " + missingKey + " in the router's environment and restart it");
      nextTarget();
      return;
    }
    if (!deployment.breaker().allowsCall()) {
      lastError = CallError.withInfo(GrpcStatus.UNAVAILABLE, deployment.name() + " is skipped: its circuit breaker "
          + "is open after repeated failures", "CIRCUIT_OPEN", Map.of("deployment", deployment.name()), null);
      nextTarget();
      return;
    }
    if (!deployment.tryAcquire()) {
      deployment.breaker().release();
      lastError = CallError.withInfo(GrpcStatus.RESOURCE_EXHAUSTED, deployment.name() + " already has "
          + deployment.config().maxConcurrency() + " calls in flight (max_concurrency)", "DEPLOYMENT_BUSY",
          Map.of("deployment", deployment.name()), null);
      nextTarget();
      return;
    }
    attempts++;
    attemptsOnTarget++;
    onAttempt.accept(deployment.name());
    ChatEventStream attempt = new ChatEventStream();
    current = attempt;
    long timeoutMillis = deployment.config().timeout().toMillis();
    boolean callerDeadlineFirst = deadlineNanos != 0 && remainingMillis() <= timeoutMillis;
    long limit = callerDeadlineFirst ? Math.max(1, remainingMillis()) : timeoutMillis;
    long timer = vertx.setTimer(limit, t -> attempt.fail(UpstreamErrors.deadline(deployment.name(), limit)));
    attempt.closeHandler(() -> {
      vertx.cancelTimer(timer);
      deployment.release();
    });
    attempt.handler(event -> {
      if (!started) {
        started = true;
        servedBy = step;
      }
      if (event.hasDone()) {
        deployment.breaker().success();
      }
      out.emit(event);
    });
    attempt.exceptionHandler(failure -> onFailure(deployment, failure, callerDeadlineFirst));
    deployment.nextAdapter().chat(step.request(), step.target().upstreamModel(), stream, attempt);
  }

  private void onFailure(Deployment deployment, Throwable failure, boolean callerDeadlineFirst) {
    CallError error = CallError.of(failure);
    boolean upstreamFault = isUpstreamFault(error);
    if (upstreamFault) {
      deployment.breaker().failure();
    } else {
      deployment.breaker().success();
    }
    lastError = withAttempts(error, deployment.name());
    boolean deadlinePassed = callerDeadlineFirst && error.status() == GrpcStatus.DEADLINE_EXCEEDED;
    if (started || !upstreamFault || deadlinePassed) {
      out.fail(lastError);
      return;
    }
    boolean rateLimited = error.status() == GrpcStatus.RESOURCE_EXHAUSTED;
    if (rateLimited && targetIndex + 1 < steps.size()) {
      nextTarget();
      return;
    }
    if (attemptsOnTarget < policy.maxAttempts()) {
      long delay = backoffMillis(error);
      if (deadlineNanos == 0 || delay < remainingMillis()) {
        retryTimer = vertx.setTimer(Math.max(1, delay), t -> attempt());
        return;
      }
    }
    nextTarget();
  }

  private void nextTarget() {
    targetIndex++;
    attemptsOnTarget = 0;
    if (targetIndex >= steps.size()) {
      out.fail(lastError);
    } else {
      attempt();
    }
  }

  // Full jitter below an exponential ceiling; never sooner than the upstream's Retry-After.
  private long backoffMillis(CallError error) {
    long ceiling = Math.min(policy.maxBackoff().toMillis(),
        policy.initialBackoff().toMillis() << Math.min(20, attemptsOnTarget - 1));
    long jitter = ThreadLocalRandom.current().nextLong(ceiling + 1);
    return Math.max(jitter, retryAfterMillis(error));
  }

  private long remainingMillis() {
    return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
  }

  /** Failures that say the deployment is in trouble, not the request: worth another attempt, and the breaker's. */
  private static boolean isUpstreamFault(CallError error) {
    return error.status() == GrpcStatus.UNAVAILABLE || error.status() == GrpcStatus.RESOURCE_EXHAUSTED
        || error.status() == GrpcStatus.DEADLINE_EXCEEDED;
  }

  private static long retryAfterMillis(CallError error) {
    for (Any detail : error.details()) {
      if (detail.is(RetryInfo.class)) {
        try {
          com.google.protobuf.Duration delay = detail.unpack(RetryInfo.class).getRetryDelay();
          return delay.getSeconds() * 1000 + delay.getNanos() / 1_000_000;
        } catch (InvalidProtocolBufferException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  /** The error with the deployment and the attempts so far in its ErrorInfo. */
  private CallError withAttempts(CallError error, String deployment) {
    List<Any> details = new ArrayList<>();
    boolean hasInfo = false;
    for (Any detail : error.details()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          detail = Any.pack(detail.unpack(ErrorInfo.class).toBuilder().putMetadata("deployment", deployment)
              .putMetadata("attempts", Integer.toString(attempts)).build());
          hasInfo = true;
        } catch (InvalidProtocolBufferException e) {
          // keep the detail as it was
        }
      }
      details.add(detail);
    }
    if (!hasInfo) {
      details.add(Any.pack(ErrorInfo.newBuilder().setDomain(CallError.DOMAIN).setReason(error.status().name())
          .putMetadata("deployment", deployment).putMetadata("attempts", Integer.toString(attempts)).build()));
    }
    return new CallError(error.status(), error.getMessage(), details);
  }

  @Override
  public void pause() {
    if (current != null) {
      current.pause();
    }
  }

  @Override
  public void resume() {
    if (current != null) {
      current.resume();
    }
  }

  @Override
  public void cancel() {
    if (retryTimer != -1) {
      vertx.cancelTimer(retryTimer);
    }
    if (current != null) {
      current.cancel();
    }
  }
}
