package dev.llmrouter.server.pipeline;

import dev.llmrouter.api.v1.CallType;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.TokenCountMethod;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.cassettes.MatchRules;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.auth.CallerAuth;
import dev.llmrouter.server.config.ResilienceConfig;
import dev.llmrouter.server.observe.AttemptSpan;
import dev.llmrouter.server.observe.CallTracker;
import dev.llmrouter.server.observe.Observability;
import dev.llmrouter.server.provider.CapabilityCheck;
import dev.llmrouter.server.provider.LocalTokenizer;
import dev.llmrouter.server.route.RoutePlanner;
import dev.llmrouter.server.prompt.PromptLibrary;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The one path every call takes (ARCHITECTURE.md section 2): take the config's settings of the moment
 * ({@link LiveSettings}), render the request's prompt template (so that everything after, the cassette key included,
 * sees the messages it stands for), validate and plan the targets, let the caller's key in ({@link CallerAuth#admit}: its
 * models, cassette modes, budget and rate limits), check that it fits its model's context window
 * ({@link ContextWindowCheck}), pass the {@link CassetteGate} (unless the mode is `off`), call
 * upstream through {@link UpstreamAttempts} when the answer must be live, and hand the caller one stream of events,
 * followed from start to end by the call log and counted among the {@link RunningCalls} until it ends. An embedding
 * call ({@link #embed}) takes the same path, with its own plan ({@link EmbeddingPlan}) and cassette layer
 * ({@link OneAnswerCassetteGate}), and an answer of one value; so does a count call ({@link #countTokens}) where a
 * target's host counts, while one that no target's host counts is answered by the {@link LocalTokenizer}.
 */
public final class ChatPipeline {

  /** A count endpoint counts whatever the request holds: no target is refused for a setting. */
  private static final CallPlan.Fit<ChatRequest> COUNTS_EVERYTHING = new CallPlan.Fit<>() {
    @Override
    public CallPlan.Lacks lacks(ChatRequest request, RoutePlanner.Target target) {
      return new CallPlan.Lacks(List.of(), List.of());
    }

    @Override
    public ChatRequest without(ChatRequest request, List<String> settings) {
      return request;
    }
  };

  private final Vertx vertx;
  private final LiveSettings settings;
  private final ChatRequestValidator validator;
  private final CassetteGate gate;
  private final OneAnswerCassetteGate<EmbedRequest, EmbedResponse> embeddingGate;
  private final OneAnswerCassetteGate<ChatRequest, CountTokensResponse> tokenCountGate;
  private final Observability observability;
  private final CallerAuth auth;
  private final RunningCalls running;
  private final PromptLibrary prompts;

  /**
   * @param settings the routes, prices, retries and circuit breaking of each new call
   * @param validator checks each request and plans its targets
   * @param matchRules how requests are normalized before they are keyed
   * @param recordTiming whether recordings keep each event's offset, for `x-cassette-pace: recorded`
   * @param usageLog where cassette hits, misses and recordings are tallied (`--track-usage`, the replay report)
   * @param observability where each call is counted and logged
   * @param auth what each call's key may do, and where its tokens and cost are counted
   * @param running where each call is counted until it ends, for a drain to wait for (or cancel)
   * @param prompts the templates a request's `prompt` names
   */
  public ChatPipeline(Vertx vertx, LiveSettings settings, ChatRequestValidator validator, CassetteStore store,
      MatchRules matchRules, boolean recordTiming, CassetteUsageLog usageLog, Observability observability,
      CallerAuth auth, RunningCalls running, PromptLibrary prompts) {
    this.vertx = vertx;
    this.settings = settings;
    this.validator = validator;
    this.gate = new CassetteGate(vertx, store, matchRules, recordTiming, usageLog, observability.metrics());
    this.embeddingGate = new OneAnswerCassetteGate<>(vertx, gate, store, usageLog, OneAnswerCassetteGate.EMBEDDINGS);
    this.tokenCountGate = new OneAnswerCassetteGate<>(vertx, gate, store, usageLog,
        OneAnswerCassetteGate.TOKEN_COUNTS);
    this.observability = observability;
    this.auth = auth;
    this.running = running;
    this.prompts = prompts;
  }

  /**
   * Starts one answer. Must be called on the caller's event-loop context; everything after runs there too.
   *
   * @throws CallError when the request is invalid (INVALID_ARGUMENT naming each field); the refusal is logged
   */
  public ChatEventStream start(ChatRequest asSent, CallOptions options) {
    CallSettings call = settings.forCall();
    ChatRequest request;
    try {
      request = prompts.render(asSent);
    } catch (CallError refused) {
      call.callEnded();
      observability.begin(options.call(), asSent, call.prices()).onEnd(refused);
      throw refused;
    }
    CallTracker tracker = observability.begin(options.call(), request, call.prices());
    CallPlan<ChatRequest> plan = planned(call, tracker,
        () -> CallPlan.of(request, validator.validate(request, call.routes())));
    ChatEventStream answer = new ChatEventStream();
    boolean prefill = CapabilityCheck.isPrefill(request); // the plan holds only targets that continue it
    run(call, tracker, options, request.getModel(), answer,
        event -> tracker.onEvent(prefill ? Provenance.prefilled(event) : event),
        () -> ContextWindowCheck.check(vertx, request, plan, call.prices()).onComplete(fits -> {
          if (answer.isClosed()) {
            return;
          }
          if (fits.failed()) {
            answer.fail(fits.cause());
          } else {
            answer(request, options, fits.result(), call.resilience(), tracker, answer);
          }
        }));
    return answer;
  }

  /**
   * Starts one embedding call, logged as such whatever the options' call type. Must be called on the caller's
   * event-loop context; everything after runs there too.
   *
   * @throws CallError when the request is invalid, or no target of its model embeds (INVALID_ARGUMENT); the refusal is
   *     logged
   */
  public AnswerStream<EmbedResponse> embed(EmbedRequest request, CallOptions callOptions) {
    CallOptions options = callOptions.withCall(callOptions.call().ofType(CallType.CALL_TYPE_EMBED));
    CallSettings call = settings.forCall();
    CallTracker tracker = observability.beginEmbedding(options.call(), request, call.prices());
    CallPlan<EmbedRequest> plan = planned(call, tracker, () -> EmbeddingPlan.of(request, call.routes()));
    AnswerStream<EmbedResponse> answer = AnswerStream.ofOne();
    run(call, tracker, options, request.getModel(), answer, tracker::onEmbedding,
        () -> embedding(request, options, plan, call.resilience(), tracker, answer));
    return answer;
  }

  /**
   * Starts one count call (`ModelService.CountTokens`), logged as such whatever the options' call type: through the
   * count endpoint of the model's first target whose host has one (and its cassettes), or else with the local
   * tokenizer for the model's first target. Must be called on the caller's event-loop context; everything after runs
   * there too.
   *
   * @throws CallError when the request is invalid (INVALID_ARGUMENT naming each field); the refusal is logged
   */
  public AnswerStream<CountTokensResponse> countTokens(ChatRequest asSent, CallOptions callOptions) {
    CallOptions options = callOptions.withCall(callOptions.call().ofType(CallType.CALL_TYPE_COUNT_TOKENS));
    CallSettings call = settings.forCall();
    ChatRequest request;
    try {
      request = prompts.render(asSent);
    } catch (CallError refused) {
      call.callEnded();
      observability.begin(options.call(), asSent, call.prices()).onEnd(refused);
      throw refused;
    }
    CallTracker tracker = observability.begin(options.call(), request, call.prices());
    List<RoutePlanner.Target> targets = planned(call, tracker, () -> validator.validate(request, call.routes()));
    List<RoutePlanner.Target> counting = targets.stream().filter(target -> target.deployment().tokenCounter()
        .filter(counter -> counter.countsTokens(target.upstreamModel())).isPresent()).toList();
    AnswerStream<CountTokensResponse> answer = AnswerStream.ofOne();
    run(call, tracker, options, request.getModel(), answer, tracker::onTokenCount, counting.isEmpty()
        ? () -> localCount(request, targets.get(0)).onComplete(count -> {
          if (count.failed()) {
            answer.fail(count.cause());
          } else {
            answer.emit(count.result());
          }
        })
        : () -> tokenCount(request, options, CallPlan.of(request, false, counting, COUNTS_EVERYTHING),
            call.resilience(), tracker, answer));
    return answer;
  }

  /** The local tokenizer's count for a target's model. */
  private Future<CountTokensResponse> localCount(ChatRequest request, RoutePlanner.Target target) {
    return ContextWindowCheck.estimate(vertx, request, target.upstreamModel()).map(local -> CountTokensResponse
        .newBuilder().setInputTokens(local.tokens()).setMethod(TokenCountMethod.TOKEN_COUNT_METHOD_LOCAL)
        .setEncoding(local.encoding()).setModel(target.upstreamModel()).setProvider(target.deployment().name())
        .build());
  }

  /** The plan of a call; a call refused on the way is logged, and released from its settings. */
  private static <P> P planned(CallSettings call, CallTracker tracker, Supplier<P> plan) {
    P planned;
    try {
      planned = plan.get();
    } catch (CallError refused) {
      call.callEnded();
      tracker.onEnd(refused);
      throw refused;
    }
    tracker.routed();
    return planned;
  }

  /**
   * Runs a planned call: counted among the running calls and followed by its tracker until it ends (then charged to
   * the caller's key), and answered by {@code answerAdmitted} once the caller's key is let in.
   */
  private <E> void run(CallSettings call, CallTracker tracker, CallOptions options, String model,
      AnswerStream<E> answer, UnaryOperator<E> observe, Runnable answerAdmitted) {
    RunningCalls.Call runningCall = runningCall(answer);
    running.add(runningCall);
    answer.observe(observe, error -> {
      tracker.onEnd(error);
      auth.charge(options.caller(), tracker.usage(), tracker.replayed());
      running.remove(runningCall);
      call.callEnded();
    });
    Future<Void> admitted = auth.admit(options.caller(), model, options.mode());
    if (admitted.succeeded()) {
      answerAdmitted.run();
    } else {
      admitted.onComplete(admission -> {
        if (admission.failed()) {
          answer.fail(admission.cause());
        } else if (!answer.isClosed()) {
          answerAdmitted.run();
        }
      });
    }
  }

  /** The answer as a drain sees it: it ends by itself, or is failed on its own event loop at the drain's deadline. */
  private RunningCalls.Call runningCall(AnswerStream<?> answer) {
    Context context = vertx.getOrCreateContext();
    return new RunningCalls.Call() {
      @Override
      public void windDown() {
      }

      @Override
      public void cancel(CallError why) {
        context.runOnContext(v -> answer.fail(why));
      }
    };
  }

  /** Answers an admitted call: from the provider, or through the cassettes. */
  private void answer(ChatRequest request, CallOptions options, CallPlan<ChatRequest> plan,
      ResilienceConfig resilience, CallTracker tracker, ChatEventStream answer) {
    Supplier<UpstreamAttempts<ChatRequest, ChatEvent>> live =
        () -> UpstreamAttempts.start(vertx, resilience, plan, options, step -> attempt(tracker, step));
    if (options.mode() == CassetteMode.OFF) {
      UpstreamAttempts<ChatRequest, ChatEvent> attempts = live.get();
      attempts.events().relayTo(answer, event -> Provenance.stampedLive(
          Provenance.withProvider(event, attempts), attempts, CassetteOutcome.CASSETTE_OUTCOME_LIVE, "", ""));
    } else {
      gate.answer(request, options, plan, live, answer);
    }
  }

  /** Answers an admitted embedding call: from the provider, or through the cassettes. */
  private void embedding(EmbedRequest request, CallOptions options, CallPlan<EmbedRequest> plan,
      ResilienceConfig resilience, CallTracker tracker, AnswerStream<EmbedResponse> answer) {
    Supplier<UpstreamAttempts<EmbedRequest, EmbedResponse>> live =
        () -> UpstreamAttempts.embedding(vertx, resilience, plan, options, step -> attempt(tracker, step));
    if (options.mode() == CassetteMode.OFF) {
      UpstreamAttempts<EmbedRequest, EmbedResponse> attempts = live.get();
      attempts.events().relayTo(answer, response -> embeddingGate.stampedLive(response, attempts,
          CassetteOutcome.CASSETTE_OUTCOME_LIVE, "", ""));
    } else {
      embeddingGate.answer(request, options, plan, live, answer);
    }
  }

  /** Answers an admitted count call from a provider's count endpoint, or through the cassettes. */
  private void tokenCount(ChatRequest request, CallOptions options, CallPlan<ChatRequest> plan,
      ResilienceConfig resilience, CallTracker tracker, AnswerStream<CountTokensResponse> answer) {
    Supplier<UpstreamAttempts<ChatRequest, CountTokensResponse>> live =
        () -> UpstreamAttempts.tokenCount(vertx, resilience, plan, options, step -> attempt(tracker, step));
    if (options.mode() == CassetteMode.OFF) {
      UpstreamAttempts<ChatRequest, CountTokensResponse> attempts = live.get();
      attempts.events().relayTo(answer, response -> tokenCountGate.stampedLive(response, attempts,
          CassetteOutcome.CASSETTE_OUTCOME_LIVE, "", ""));
    } else {
      tokenCountGate.answer(request, options, plan, live, answer);
    }
  }

  /** An upstream request about to go to a step's target, told to the call's tracker; its span. */
  private static AttemptSpan attempt(CallTracker tracker, CallPlan.Step<?> step) {
    return tracker.attempt(step.target().deployment().name(), step.target().upstreamModel(),
        step.target().deployment().config().baseUrl());
  }
}
