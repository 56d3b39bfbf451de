package dev.llmrouter.server.pipeline;

import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.llmrouter.server.config.ResilienceConfig;
import dev.llmrouter.server.observe.AttemptSpan;
import dev.llmrouter.server.provider.ProviderTypes;
import dev.llmrouter.server.route.CircuitBreaker;
import dev.llmrouter.server.route.Deployment;
import dev.llmrouter.server.route.RoutePlanner;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The upstream attempts of one call. Until the first event reaches the caller, a failure of the deployment
 * (unreachable, 5xx, its own timeout, a malformed answer) is retried on the same target with exponential backoff and
 * full jitter, up to `max_attempts`; then the next target of the plan is tried. A rate limit (429) makes the deployment
 * skipped until its Retry-After and moves to the next target at once; on the last target it is retried once that has
 * passed, within the caller's deadline. Caller errors (400, 404...) are never retried. After the first event, a
 * failure ends the stream with its status after the events already sent. Each target is sent the request as its model
 * can honour it ({@link CallPlan}). A chat call's attempts stream chat events; an embedding call's attempts answer
 * with one value each, under the same policy.
 *
 * <p>Only the deployment's own failures count against its circuit breaker. The caller's deadline bounds all attempts
 * and waits: when it passes, or the caller cancels, the attempt in flight is aborted with no verdict on the deployment,
 * and the error says that it was the caller's deadline, and what it interrupted.
 *
 * @param <R> the request sent to each target
 * @param <E> the events of the answer
 */
final class UpstreamAttempts<R, E> implements AnswerStream.Upstream {

  /**
   * One attempt, ready to be sent: the stream its answer comes into, the credential it sends (which the reasoning it
   * produces is tagged with; see {@link ProviderTypes.KeyedAdapter}), and how to send it.
   */
  record Prepared<E>(AnswerStream<E> answer, String credential, Runnable send) {
  }

  /** How an attempt is prepared: the step's request, to its target. */
  interface Sender<R, E> {
    Prepared<E> prepare(CallPlan.Step<R> step);
  }

  /** How an attempt's failure bears on its deployment and on what the call does next. */
  private enum FailureKind {
    /** The deployment is in trouble: counted by its circuit breaker, retried, then the next target. */
    DEPLOYMENT_FAULT,
    /** The provider is rate-limiting (429): the deployment is skipped until Retry-After, the next target tried. */
    RATE_LIMITED,
    /** None of the deployment's connections came free in time: the next target, no verdict on the deployment. */
    DEPLOYMENT_BUSY,
    /** The request itself is at fault: returned as is. */
    CALLER_ERROR
  }

  private final Vertx vertx;
  private final ResilienceConfig policy;
  private final List<CallPlan.Step<R>> steps;
  private final Sender<R, E> sender;
  private final Predicate<E> isLast;
  private final long deadlineMillis;
  private final long startedNanos = System.nanoTime();
  private final AnswerStream<E> out;
  /** Told each upstream request about to be sent (for the metrics and the trace); gives the request's span. */
  private final Function<CallPlan.Step<R>, AttemptSpan> onAttempt;
  private int targetIndex;
  private int attemptsOnTarget;
  private int attempts;
  private AnswerStream<E> current;
  /** The deployment whose circuit the attempt in flight probes, until it gives a verdict; null when none. */
  private Deployment probing;
  private long retryTimer = -1;
  private boolean started;
  private CallPlan.Step<R> servedBy;
  /** The credential the adapter that answered sent (see {@link ProviderTypes.KeyedAdapter}). */
  private String servedByCredential = "";
  private CallError lastError;

  private UpstreamAttempts(Vertx vertx, ResilienceConfig policy, CallPlan<R> plan, CallOptions options,
      Function<CallPlan.Step<R>, AttemptSpan> onAttempt, Predicate<E> isLast, Sender<R, E> sender) {
    this.vertx = vertx;
    this.onAttempt = onAttempt;
    this.policy = policy;
    this.steps = plan.steps();
    this.sender = sender;
    this.isLast = isLast;
    this.out = AnswerStream.of(isLast);
    this.deadlineMillis = options.deadlineMillis();
  }

  /**
   * Starts the first attempt of a chat call: each sends the request to its target's adapter for it (see
   * {@link Deployment#adapterFor}), streamed when the caller streams. Must be called on the caller's event-loop
   * context.
   */
  static UpstreamAttempts<ChatRequest, ChatEvent> start(Vertx vertx, ResilienceConfig policy,
      CallPlan<ChatRequest> plan, CallOptions options, Function<CallPlan.Step<ChatRequest>, AttemptSpan> onAttempt) {
    return start(vertx, policy, plan, options, onAttempt, ChatEvent::hasDone, step -> {
      ChatEventStream attempt = new ChatEventStream();
      ProviderTypes.KeyedAdapter adapter = step.target().deployment().adapterFor(step.request());
      return new Prepared<>(attempt, adapter.credential(), () -> adapter.adapter().chat(step.request(),
          step.target().upstreamModel(), options.stream(), attempt));
    });
  }

  /**
   * Starts the first attempt of an embedding call: each sends the request to its target's next adapter (one key
   * after another), which answers with one value. Must be called on the caller's event-loop context.
   */
  static UpstreamAttempts<EmbedRequest, EmbedResponse> embedding(Vertx vertx, ResilienceConfig policy,
      CallPlan<EmbedRequest> plan, CallOptions options,
      Function<CallPlan.Step<EmbedRequest>, AttemptSpan> onAttempt) {
    return start(vertx, policy, plan, options, onAttempt, response -> true, step -> {
      AnswerStream<EmbedResponse> attempt = AnswerStream.ofOne();
      // An embedding holds no reasoning to tag with its credential.
      return new Prepared<>(attempt, "", () -> step.target().deployment().nextEmbeddingAdapter()
          .embed(step.request(), step.target().upstreamModel(), attempt));
    });
  }

  /**
   * Starts the first attempt of a count call: each sends the request to its target's next adapter (one key after
   * another), whose count endpoint answers with one value. Must be called on the caller's event-loop context.
   */
  static UpstreamAttempts<ChatRequest, CountTokensResponse> tokenCount(Vertx vertx, ResilienceConfig policy,
      CallPlan<ChatRequest> plan, CallOptions options,
      Function<CallPlan.Step<ChatRequest>, AttemptSpan> onAttempt) {
    return start(vertx, policy, plan, options, onAttempt, response -> true, step -> {
      AnswerStream<CountTokensResponse> attempt = AnswerStream.ofOne();
      return new Prepared<>(attempt, "", () -> step.target().deployment().nextTokenCountAdapter()
          .countTokens(step.request(), step.target().upstreamModel(), attempt));
    });
  }

  /**
   * Starts the first attempt of a call whose attempts {@code sender} prepares, and whose answer ends with the event
   * {@code isLast} tells. Must be called on the caller's event-loop context.
   */
  static <R, E> UpstreamAttempts<R, E> start(Vertx vertx, ResilienceConfig policy, CallPlan<R> plan,
      CallOptions options, Function<CallPlan.Step<R>, AttemptSpan> onAttempt, Predicate<E> isLast,
      Sender<R, E> sender) {
    UpstreamAttempts<R, E> attempts = new UpstreamAttempts<>(vertx, policy, plan, options, onAttempt, isLast,
        sender);
    attempts.out.upstream(attempts);
    if (attempts.deadlineMillis > 0) {
      long deadline = vertx.setTimer(attempts.deadlineMillis, t -> attempts.onCallerDeadline());
      attempts.out.closeHandler(() -> vertx.cancelTimer(deadline));
    }
    attempts.attempt();
    return attempts;
  }

  /** The answer's events, from whichever attempt succeeded. */
  AnswerStream<E> events() {
    return out;
  }

  /** The target that answered (known once the first event arrived). */
  RoutePlanner.Target servedBy() {
    return servedBy.target();
  }

  /** The credential the target that answered was called with (known once the first event arrived). */
  String servedByCredential() {
    return servedByCredential;
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
    CallPlan.Step<R> step = steps.get(targetIndex);
    Deployment deployment = step.target().deployment();
    CallError refusal = admit(deployment);
    if (refusal != null) {
      // What an upstream answered this call says more than why a later try was not sent.
      if (attempts == 0) {
        lastError = refusal;
      }
      nextTarget();
      return;
    }
    attempts++;
    attemptsOnTarget++;
    AttemptSpan span = onAttempt.apply(step);
    Prepared<E> prepared = sender.prepare(step);
    AnswerStream<E> attempt = prepared.answer();
    attempt.traceContext(span.traceContext());
    attempt.observe(UnaryOperator.identity(), span::end);
    current = attempt;
    attempt.closeHandler(deployment::release);
    attempt.handler(event -> {
      if (!started) {
        started = true;
        servedBy = step;
        servedByCredential = prepared.credential();
      }
      if (isLast.test(event)) {
        answered(deployment);
      }
      out.emit(event);
    });
    attempt.exceptionHandler(failure -> onFailure(deployment, CallError.of(failure)));
    prepared.send().run();
  }

  /** Takes the deployment's leave for one attempt; returns why it is skipped (nothing sent) when it cannot go. */
  private CallError admit(Deployment deployment) {
    String name = deployment.name();
    String missingKey = deployment.missingKeyVariable();
    if (missingKey != null) {
      return new CallError(GrpcStatus.FAILED_PRECONDITION, "provider " + name + " has no API key: set " + missingKey
          + " in the router's environment and restart it");
    }
    Duration rateLimited = deployment.rateLimitRemaining();
    if (!rateLimited.isZero()) {
      return CallError.withInfo(GrpcStatus.RESOURCE_EXHAUSTED, name + " is rate-limited by its provider for another "
          + rateLimited.toMillis() + " ms (it answered HTTP 429); nothing was sent", "UPSTREAM_RATE_LIMITED",
          Map.of("deployment", name, "provider", name), rateLimited);
    }
    CircuitBreaker.Admission admission = deployment.breaker().admit();
    if (admission == CircuitBreaker.Admission.REFUSED) {
      Duration retryAfter = deployment.breaker().retryAfter();
      return CallError.withInfo(GrpcStatus.UNAVAILABLE, name + " is skipped for another " + retryAfter.toMillis()
          + " ms: its circuit breaker opened after repeated failures; nothing was sent", "CIRCUIT_OPEN",
          Map.of("deployment", name), retryAfter);
    }
    if (!deployment.tryAcquire()) {
      if (admission == CircuitBreaker.Admission.PROBE) {
        deployment.breaker().releaseProbe();
      }
      return CallError.withInfo(GrpcStatus.RESOURCE_EXHAUSTED, name + " already has "
          + deployment.config().maxConcurrency() + " calls in flight (max_concurrency)", "DEPLOYMENT_BUSY",
          Map.of("deployment", name), null);
    }
    probing = admission == CircuitBreaker.Admission.PROBE ? deployment : null;
    return null;
  }

  private void onFailure(Deployment deployment, CallError error) {
    FailureKind kind = kindOf(error);
    switch (kind) {
      case DEPLOYMENT_FAULT -> {
        probing = null;
        deployment.breaker().failure();
      }
      case RATE_LIMITED -> {
        deployment.rateLimitedFor(retryAfter(error));
        answered(deployment);
      }
      case DEPLOYMENT_BUSY -> releaseProbe();
      case CALLER_ERROR -> answered(deployment);
    }
    lastError = withAttempts(error, deployment.name());
    if (started || kind == FailureKind.CALLER_ERROR) {
      out.fail(lastError);
      return;
    }
    boolean anotherTarget = targetIndex + 1 < steps.size();
    if (kind == FailureKind.DEPLOYMENT_BUSY || (kind == FailureKind.RATE_LIMITED && anotherTarget)) {
      nextTarget();
      return;
    }
    if (attemptsOnTarget < policy.maxAttempts()) {
      long delay = backoffMillis(error);
      if (deadlineMillis == 0 || delay < remainingMillis()) {
        retryTimer = vertx.setTimer(Math.max(1, delay), t -> attempt());
        return;
      }
    }
    nextTarget();
  }

  /** The deployment answered, even if with an error of the request or a rate limit: its circuit closes. */
  private void answered(Deployment deployment) {
    probing = null;
    deployment.breaker().success();
  }

  /** The attempt in flight ends with no verdict on its deployment: if it was the probe, the next caller may probe. */
  private void releaseProbe() {
    if (probing != null) {
      probing.breaker().releaseProbe();
      probing = null;
    }
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

  /** The caller's deadline passed: whatever is in flight or waiting stops, and the deployment is not blamed. */
  private void onCallerDeadline() {
    if (out.isClosed()) {
      return;
    }
    String deployment = steps.get(targetIndex).target().deployment().name();
    String interrupted;
    if (retryTimer != -1) {
      vertx.cancelTimer(retryTimer);
      interrupted = "waiting to try again after: " + lastError.getMessage();
    } else if (current != null && !current.activity().isEmpty()) {
      interrupted = current.activity();
    } else {
      interrupted = "waiting for " + deployment;
    }
    abortCurrent();
    out.fail(CallError.withInfo(GrpcStatus.DEADLINE_EXCEEDED, "the caller's deadline of " + deadlineMillis
        + " ms passed while " + interrupted + " (a caller's deadline never counts against " + deployment + ")",
        "CALLER_DEADLINE_EXCEEDED", Map.of("deployment", deployment, "attempts", Integer.toString(attempts)), null));
  }

  /** Aborts the attempt in flight, if any, without a verdict on its deployment. */
  private void abortCurrent() {
    releaseProbe();
    if (current != null) {
      current.cancel();
    }
  }

  // Full jitter below an exponential ceiling; never sooner than the upstream's Retry-After.
  private long backoffMillis(CallError error) {
    long ceiling = Math.min(policy.maxBackoff().toMillis(),
        policy.initialBackoff().toMillis() << Math.min(20, attemptsOnTarget - 1));
    long jitter = ThreadLocalRandom.current().nextLong(ceiling + 1);
    return Math.max(jitter, retryAfter(error).toMillis());
  }

  private long remainingMillis() {
    return deadlineMillis - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
  }

  // Envoy's outlier detection alike: 5xx, gateway errors, unreachable and timeouts count; a 429 never does.
  private static FailureKind kindOf(CallError error) {
    return switch (error.status()) {
      case UNAVAILABLE, DEADLINE_EXCEEDED -> FailureKind.DEPLOYMENT_FAULT;
      case RESOURCE_EXHAUSTED -> error.errorInfo().filter(info -> info.getReason().equals("DEPLOYMENT_BUSY"))
          .isPresent() ? FailureKind.DEPLOYMENT_BUSY : FailureKind.RATE_LIMITED;
      default -> FailureKind.CALLER_ERROR;
    };
  }

  /** The upstream's Retry-After, carried by the error's RetryInfo; zero when it has none. */
  private static Duration retryAfter(CallError error) {
    for (Any detail : error.details()) {
      if (detail.is(RetryInfo.class)) {
        try {
          com.google.protobuf.Duration delay = detail.unpack(RetryInfo.class).getRetryDelay();
          return Duration.ofSeconds(delay.getSeconds(), delay.getNanos());
        } catch (InvalidProtocolBufferException e) {
          return Duration.ZERO;
        }
      }
    }
    return Duration.ZERO;
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
    abortCurrent();
  }
}
