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
 */
record CallPlan<R>(List<Step<R>> steps) {

  /** One target, the request it is sent, and the settings left out of that request. */
  record Step<R>(RoutePlanner.Target target, R request, List<String> droppedSettings) {
  }

  /** @throws CallError INVALID_ARGUMENT naming what the first target cannot honour, when no target can serve it */
  static CallPlan<ChatRequest> of(ChatRequest request, List<RoutePlanner.Target> targets) {
    List<Step<ChatRequest>> steps = new ArrayList<>();
    CallError firstRefusal = null;
    for (RoutePlanner.Target target : targets) {
      Deployment deployment = target.deployment();
      Capabilities capabilities = deployment.capabilities(target.upstreamModel());
      List<String> features = CapabilityCheck.unsupportedFeatures(request, capabilities);
      List<String> settings = CapabilityCheck.unsupportedSettings(request, capabilities);
      boolean mayDrop = request.getDropUnsupportedSettings() || deployment.config().dropUnsupportedSettings();
      if (features.isEmpty() && (settings.isEmpty() || mayDrop)) {
        steps.add(new Step<>(target, settings.isEmpty() ? request : CapabilityCheck.withoutSettings(request, settings),
            settings));
      } else if (firstRefusal == null) {
        List<String> unsupported = new ArrayList<>(features);
        unsupported.addAll(mayDrop ? List.of() : settings);
        firstRefusal = CapabilityCheck.refusal(deployment.name(), target.upstreamModel(), unsupported,
            features.isEmpty());
      }
    }
    if (steps.isEmpty()) {
      throw firstRefusal;
    }
    return new CallPlan<>(List.copyOf(steps));
  }

  /** The settings left out for a deployment of the plan (for the origin of a replayed answer); none if absent. */
  List<String> droppedFor(String deployment) {
    return steps.stream().filter(step -> step.target().deployment().name().equals(deployment)).findFirst()
        .map(Step::droppedSettings).orElse(List.of());
  }
}
