package dev.llmrouter.server.pipeline;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.observe.PriceTable;
import dev.llmrouter.server.provider.LocalTokenizer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The pre-flight check of a chat call: its input, estimated by the {@link LocalTokenizer}, plus its
 * `settings.max_output_tokens` must fit the context window the model catalog gives its model, or the call is refused
 * (INVALID_ARGUMENT, reason CONTEXT_LENGTH_EXCEEDED, naming both numbers) before any upstream request and any
 * cassette, so a refusal is the same live and in replay. Through an alias, the targets it does not fit are left out
 * of the plan, and the call is refused only when none is left (the error names the first target's numbers); a target
 * whose window the catalog does not know is kept. A large request is counted on a worker thread.
 * `skip_context_check` skips the check.
 */
final class ContextWindowCheck {

  /** Up to this size a request is tokenized on the event loop: a millisecond or two; larger ones go to a worker. */
  private static final int INLINE_COUNT_BYTES = 16 * 1024;

  private ContextWindowCheck() {
  }

  /**
   * The plan without the targets the request does not fit (those whose window is unknown stay); fails with the
   * refusal when none is left. Call on the call's event loop.
   */
  static Future<CallPlan<ChatRequest>> check(Vertx vertx, ChatRequest request, CallPlan<ChatRequest> plan,
      PriceTable catalog) {
    long smallestWindow = Long.MAX_VALUE; // no target's window known: nothing to check
    for (CallPlan.Step<ChatRequest> step : plan.steps()) { // a loop, not a stream: every chat call runs this
      OptionalInt window = windowOf(step, catalog);
      if (window.isPresent()) {
        smallestWindow = Math.min(smallestWindow, window.getAsInt());
      }
    }
    if (request.getSkipContextCheck() || smallestWindow == Long.MAX_VALUE
        || LocalTokenizer.upperBound(request) + maxOutput(request) <= smallestWindow) {
      return Future.succeededFuture(plan); // fits every target without tokenizing: most calls, on the hot path
    }
    return estimate(vertx, request, plan.steps().get(0).target().upstreamModel())
        .compose(input -> verdict(request, plan, catalog, input.tokens()));
  }

  /** The local tokenizer's count of a request for a model, on a worker thread when the request is large. */
  static Future<LocalTokenizer.Count> estimate(Vertx vertx, ChatRequest request, String upstreamModel) {
    if (request.getSerializedSize() <= INLINE_COUNT_BYTES) {
      return Future.succeededFuture(LocalTokenizer.count(request, upstreamModel));
    }
    return vertx.executeBlocking(() -> LocalTokenizer.count(request, upstreamModel), false);
  }

  private static Future<CallPlan<ChatRequest>> verdict(ChatRequest request, CallPlan<ChatRequest> plan,
      PriceTable catalog, int inputTokens) {
    int maxOutput = maxOutput(request);
    long needed = (long) inputTokens + maxOutput;
    List<CallPlan.Step<ChatRequest>> fitting = plan.steps().stream()
        .filter(step -> windowOf(step, catalog).orElse(Integer.MAX_VALUE) >= needed).toList();
    if (!fitting.isEmpty()) {
      return Future.succeededFuture(fitting.size() == plan.steps().size() ? plan : new CallPlan<>(fitting));
    }
    CallPlan.Step<ChatRequest> first = plan.steps().get(0);
    int window = windowOf(first, catalog).orElseThrow();
    String model = first.target().deployment().name() + "/" + first.target().upstreamModel();
    return Future.failedFuture(CallError.withInfo(GrpcStatus.INVALID_ARGUMENT, "the request needs about "
        + needed + " tokens (" + inputTokens + " input, estimated, + " + maxOutput + " max_output_tokens), over the "
        + "context window of " + window + " tokens of " + model + ": shorten the conversation, lower "
        + "settings.max_output_tokens, or set skip_context_check to let the provider judge",
        "CONTEXT_LENGTH_EXCEEDED", Map.of("provider", first.target().deployment().name(),
            "model", first.target().upstreamModel(), "estimated_input_tokens", Integer.toString(inputTokens),
            "max_output_tokens", Integer.toString(maxOutput), "context_window", Integer.toString(window)), null));
  }

  private static int maxOutput(ChatRequest request) {
    return request.getSettings().hasMaxOutputTokens() ? request.getSettings().getMaxOutputTokens() : 0;
  }

  private static OptionalInt windowOf(CallPlan.Step<ChatRequest> step, PriceTable catalog) {
    return catalog.priceOf(step.target().deployment().name(), step.target().upstreamModel())
        .map(entry -> entry.contextWindow()).orElse(OptionalInt.empty());
  }
}
