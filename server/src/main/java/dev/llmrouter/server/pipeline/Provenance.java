package dev.llmrouter.server.pipeline;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Origin;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.cassettes.Cassette;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.ProviderTypes;
import java.util.List;

/**
 * Where an answer came from, stamped on its `start` and `done` events (on an answer of one value, by
 * {@link OneAnswerCassetteGate}): the deployment and the {@link Origin}.
 */
final class Provenance {

  private Provenance() {
  }

  /** The origin of an answer the upstream gave (live, or recorded under a cassette key and scope). */
  static Origin ofLive(UpstreamAttempts<?, ?> live, CassetteOutcome outcome, String key, String scope) {
    return Origin.newBuilder().setCassette(outcome).setCassetteKey(key).setCassetteScope(scope)
        .setDeployment(live.servedBy().deployment().name()).setAttempts(live.attempts())
        .addAllDroppedSettings(live.droppedSettings()).build();
  }

  /** A live answer's event with its origin; the deltas between `start` and `done` pass as they are. */
  static ChatEvent stampedLive(ChatEvent event, UpstreamAttempts<?, ?> live, CassetteOutcome outcome, String key,
      String scope) {
    return event.hasStart() || event.hasDone() ? withOrigin(event, ofLive(live, outcome, key, scope)) : event;
  }

  /** The origin of an answer replayed from a take of a cassette in a scope. */
  static Origin ofReplay(Cassette cassette, Cassette.Take take, String scope, List<String> droppedSettings) {
    return Origin.newBuilder().setCassette(CassetteOutcome.CASSETTE_OUTCOME_HIT).setCassetteKey(cassette.key())
        .setCassetteScope(scope).setDeployment(cassette.servedBy().provider()).setRedacted(take.redacted())
        .addAllDroppedSettings(droppedSettings).build();
  }

  static ChatEvent withOrigin(ChatEvent event, Origin origin) {
    return switch (event.getEventCase()) {
      case START -> event.toBuilder().setStart(event.getStart().toBuilder().setOrigin(origin)).build();
      case DONE -> event.toBuilder().setDone(event.getDone().toBuilder().setResponse(
          event.getDone().getResponse().toBuilder().setOrigin(origin))).build();
      default -> event;
    };
  }

  /** The event with `origin.prefilled` set (on `start` and `done`): the answer continues the request's prefill. */
  static ChatEvent prefilled(ChatEvent event) {
    return switch (event.getEventCase()) {
      case START -> withOrigin(event, event.getStart().getOrigin().toBuilder().setPrefilled(true).build());
      case DONE -> withOrigin(event, event.getDone().getResponse().getOrigin().toBuilder().setPrefilled(true).build());
      default -> event;
    };
  }

  /**
   * Names the deployment that answered, and marks reasoning signatures with its provider type (and publisher, on a
   * host of several: {@link ProviderTypes#reasoningSigner}), name and the credential it was called with: another provider's adapter drops them rather than sending a signature it cannot
   * verify, and an OpenAI Responses adapter sends back only what its own deployment and key produced.
   */
  static ChatEvent withProvider(ChatEvent event, UpstreamAttempts<?, ?> live) {
    ProviderConfig deployment = live.servedBy().deployment().config();
    String signer = ProviderTypes.reasoningSigner(deployment.type(), live.servedBy().upstreamModel());
    return switch (event.getEventCase()) {
      case START -> event.toBuilder().setStart(event.getStart().toBuilder().setProvider(deployment.name())).build();
      case DONE -> {
        ChatResponse.Builder response = event.getDone().getResponse().toBuilder().setProvider(deployment.name());
        for (Part.Builder part : response.getMessageBuilder().getPartsBuilderList()) {
          if (part.hasReasoning() && !part.getReasoning().getSignature().isEmpty()) {
            part.getReasoningBuilder().setProvider(signer).setDeployment(deployment.name())
                .setCredential(live.servedByCredential());
          }
        }
        yield event.toBuilder().setDone(event.getDone().toBuilder().setResponse(response)).build();
      }
      default -> event;
    };
  }
}
