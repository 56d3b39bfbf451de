package dev.llmrouter.server.pipeline;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.CapabilityCheck;
import dev.llmrouter.server.route.Deployment;
import dev.llmrouter.server.route.RoutePlanner;
import java.util.ArrayList;
import java.util.List;

/**
 * The targets a call may go to, in order, each with the request as its model can honour it (its declared
 * capabilities). A target whose model cannot honour what the request asks is left out, unless the only obstacles are
 * settings that the request or the deployment's config allows dropping: then it is sent the request without them.
 * Planned before the cassette gate, so a request that no target can serve is refused alike live and replayed.
 *
 * @param <R> the request: a chat request, or an embedding request
 */
record CallPlan<R>(List<Step<R>> steps) {

  /** One target, the request it is sent, and the settings left out of that request. */
  record Step<R>(RoutePlanner.Target target, R request, List<String> droppedSettings) {
  }

  /** What a target's model lacks of a request, named as in the request: features (never dropped) and settings. */
  record Lacks(List<String> features, List<String> settings) {
  }

  /** How a kind of request fits a target: what the target's model lacks of it, and the request without settings. */
  interface Fit<R> {
    Lacks lacks(R request, RoutePlanner.Target target);

    R without(R request, List<String> settings);
  }

  private static final Fit<ChatRequest> CHAT = new Fit<>() {
    @Override
    public Lacks lacks(ChatRequest request, RoutePlanner.Target target) {
      Capabilities capabilities = target.deployment().capabilities(target.upstreamModel());
      return new Lacks(CapabilityCheck.unsupportedFeatures(request, capabilities),
          CapabilityCheck.unsupportedSettings(request, capabilities));
    }

    @Override
    public ChatRequest without(ChatRequest request, List<String> settings) {
      return CapabilityCheck.withoutSettings(request, settings);
    }
  };

  /** @throws CallError INVALID_ARGUMENT naming what the first target cannot honour, when no target can serve it */
  static CallPlan<ChatRequest> of(ChatRequest request, List<RoutePlanner.Target> targets) {
    return of(request, request.getDropUnsupportedSettings(), targets, CHAT);
  }

  /**
   * @param dropRequested whether the request allows dropping the settings a target lacks
   * @throws CallError INVALID_ARGUMENT naming what the first target cannot honour, when no target can serve it
   */
  static <R> CallPlan<R> of(R request, boolean dropRequested, List<RoutePlanner.Target> targets, Fit<R> fit) {
    List<Step<R>> steps = new ArrayList<>();
    CallError firstRefusal = null;
    for (RoutePlanner.Target target : targets) {
      Deployment deployment = target.deployment();
      Lacks lacks = fit.lacks(request, target);
      boolean mayDrop = dropRequested || deployment.config().dropUnsupportedSettings();
      if (lacks.features().isEmpty() && (lacks.settings().isEmpty() || mayDrop)) {
        steps.add(new Step<>(target, lacks.settings().isEmpty() ? request : fit.without(request, lacks.settings()),
            lacks.settings()));
      } else if (firstRefusal == null) {
        List<String> unsupported = new ArrayList<>(lacks.features());
        unsupported.addAll(mayDrop ? List.of() : lacks.settings());
        firstRefusal = CapabilityCheck.refusal(deployment.name(), target.upstreamModel(), unsupported,
            lacks.features().isEmpty());
      }
    }
    if (steps.isEmpty()) {
      throw firstRefusal;
    }
    return new CallPlan<>(List.copyOf(steps));
  }

  /** The settings left out for a deployment of the plan (for the origin of a replayed answer); none if absent. */
  List<String> droppedFor(String deployment) {
    for (Step<R> step : steps) { // a loop, not a stream: every replayed call asks
      if (step.target().deployment().name().equals(deployment)) {
        return step.droppedSettings();
      }
    }
    return List.of();
  }
}
