package dev.llmrouter.server.pipeline;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Origin;
import dev.llmrouter.server.provider.UpstreamErrors;
import dev.llmrouter.server.route.Router;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;

/**
 * The one path every RPC takes (ARCHITECTURE.md section 2): plan the target, call its adapter, and decorate the
 * events with where they came from. The answer's upstream call is bounded by the caller's deadline, or by the
 * deployment's timeout when the caller set none.
 */
public final class ChatPipeline {

  private final Vertx vertx;
  private final Router router;

  public ChatPipeline(Vertx vertx, Router router) {
    this.vertx = vertx;
    this.router = router;
  }

  /**
   * Starts one answer. Must be called on the caller's event-loop context.
   *
   * @param stream whether the caller streams (the upstream is then asked to stream too)
   * @param deadlineMillis the caller's remaining time, or 0 for none
   * @throws RouterError when the call cannot start
   */
  public ChatEventStream start(ChatRequest request, boolean stream, long deadlineMillis) {
    Router.Target target = router.resolve(request.getModel())
        .orElseThrow(() -> new RouterError(GrpcStatus.INVALID_ARGUMENT, "unknown model " + request.getModel()));
    String deployment = target.deployment().name();
    if (!target.deployment().apiKeyVariable().isEmpty() && target.deployment().apiKey().isEmpty()) {
      throw new RouterError(GrpcStatus.FAILED_PRECONDITION, "provider " + deployment + " has no API key: set "
          + target.deployment().apiKeyVariable() + " in the router's environment and restart it");
    }
    Origin origin = Origin.newBuilder().setCassette(CassetteOutcome.CASSETTE_OUTCOME_LIVE)
        .setDeployment(deployment).setAttempts(1).build();
    ChatEventStream answer = new ChatEventStream(event -> withOrigin(event, deployment, origin));
    long timeout = deadlineMillis > 0 ? deadlineMillis : target.deployment().timeout().toMillis();
    long timer = vertx.setTimer(timeout, id -> answer.fail(UpstreamErrors.deadline(deployment, timeout)));
    answer.closeHandler(() -> vertx.cancelTimer(timer));
    target.adapter().chat(request, target.upstreamModel(), stream, answer);
    return answer;
  }

  private static ChatEvent withOrigin(ChatEvent event, String provider, Origin origin) {
    return switch (event.getEventCase()) {
      case START -> event.toBuilder().setStart(event.getStart().toBuilder().setProvider(provider).setOrigin(origin))
          .build();
      case DONE -> event.toBuilder().setDone(event.getDone().toBuilder().setResponse(
          event.getDone().getResponse().toBuilder().setProvider(provider).setOrigin(origin))).build();
      default -> event;
    };
  }
}
