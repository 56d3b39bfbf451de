package dev.llmrouter.server.observe;

import com.google.protobuf.util.Durations;
import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.CallType;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Origin;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.CallError;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.time.Instant;

/**
 * Follows one model call from its start to its end, on the call's event loop: prices its usage as the events pass
 * (so `usage.cost_usd` reaches the caller), traces it and its upstream attempts ({@link CallSpan}), and at the end
 * counts it in the metrics and hands itself to the call log, whose own thread makes the {@link CallRecord} of it: the
 * event loop is the router's bottleneck, the writer's core has time to spare. Once ended it changes no more.
 */
public final class CallTracker {

  private final Observability observability;
  private final CallContext context;
  private final ChatRequest request;
  private final PriceTable prices;
  private final CallSpan span;
  private final Instant startTime = Instant.now();
  private final long startNanos = System.nanoTime();
  private long firstEventNanos = -1;
  private String provider = "";
  private String upstreamModel = "";
  private Origin origin = Origin.getDefaultInstance();
  private Usage usage = Usage.getDefaultInstance();
  private ChatResponse response;
  private int attempts;
  private boolean routed;
  /** The deployment of the last upstream request: the provider of a call that failed before it started. */
  private String attempted = "";
  private boolean ended;
  private GrpcStatus status;
  private String errorMessage;
  private long endNanos;

  CallTracker(Observability observability, CallContext context, ChatRequest request, PriceTable prices,
      CallSpan span) {
    this.observability = observability;
    this.context = context;
    this.request = request;
    this.prices = prices;
    this.span = span;
    if (context.type() == CallType.CALL_TYPE_STREAM) {
      observability.metrics().streamOpened("StreamChat", 1);
    }
  }

  /** The model resolved to a route: its name is a metric label (an unknown name is counted as `unknown`). */
  public void routed() {
    routed = true;
  }

  /**
   * An upstream request is about to be sent to this deployment (a retry when it is not the first); returns its span,
   * whose context the request carries and which the attempt ends.
   *
   * @param baseUrl the deployment's `base_url`
   */
  public AttemptSpan attempt(String deployment, String upstreamModel, String baseUrl) {
    attempts++;
    attempted = deployment;
    observability.metrics().upstreamAttempt(deployment, attempts > 1);
    return span.attempt(attempts, deployment, upstreamModel, baseUrl);
  }

  /** Sees an event on its way to the caller; returns it with its cost filled in. */
  public ChatEvent onEvent(ChatEvent event) {
    if (ended) {
      return event; // the call log's thread may be reading this tracker
    }
    if (firstEventNanos < 0) {
      firstEventNanos = System.nanoTime();
    }
    switch (event.getEventCase()) {
      case START -> {
        provider = event.getStart().getProvider();
        upstreamModel = event.getStart().getModel();
        origin = event.getStart().getOrigin();
      }
      case USAGE -> {
        usage = prices.withCost(provider, upstreamModel, event.getUsage());
        return usage.equals(event.getUsage()) ? event : event.toBuilder().setUsage(usage).build();
      }
      case DONE -> {
        ChatResponse answer = event.getDone().getResponse();
        answered(answer.getProvider(), answer.getModel(), answer.getOrigin(), answer.getUsage());
        response = usage.equals(answer.getUsage()) ? answer : answer.toBuilder().setUsage(usage).build();
        return response == answer ? event : event.toBuilder().setDone(event.getDone().toBuilder()
            .setResponse(response)).build();
      }
      default -> {
      }
    }
    return event;
  }

  /** Sees the answer of an embedding call on its way to the caller; returns it with its cost filled in. */
  public EmbedResponse onEmbedding(EmbedResponse answer) {
    if (ended) {
      return answer;
    }
    firstEventNanos = System.nanoTime();
    answered(answer.getProvider(), answer.getModel(), answer.getOrigin(), answer.getUsage());
    return usage.equals(answer.getUsage()) ? answer : answer.toBuilder().setUsage(usage).build();
  }

  /** Sees the answer of a count call on its way to the caller (a count costs nothing). */
  public CountTokensResponse onTokenCount(CountTokensResponse answer) {
    if (!ended) {
      firstEventNanos = System.nanoTime();
      answered(answer.getProvider(), answer.getModel(), answer.getOrigin(), Usage.getDefaultInstance());
    }
    return answer;
  }

  /** Who answered, and the answer's usage, priced unless it is already (a chat answer assembled from the events). */
  private void answered(String answeredBy, String model, Origin answerOrigin, Usage answerUsage) {
    provider = answeredBy;
    upstreamModel = model;
    origin = answerOrigin;
    usage = answerUsage.hasCostUsd() ? answerUsage : prices.withCost(provider, upstreamModel, answerUsage);
  }

  /** The call ended: OK after its last event ({@code error} null), or failed. Only the first end counts. */
  public void onEnd(CallError error) {
    if (ended) {
      return;
    }
    ended = true;
    this.status = error == null ? GrpcStatus.OK : error.status();
    this.errorMessage = error == null || error.getMessage() == null ? "" : error.getMessage();
    endNanos = System.nanoTime();
    if (context.type() == CallType.CALL_TYPE_STREAM) {
      observability.metrics().streamOpened("StreamChat", -1);
    }
    if (origin.getCassette() == CassetteOutcome.CASSETTE_OUTCOME_HIT) {
      observability.metrics().cassette("hit");
    } else if (origin.getCassette() == CassetteOutcome.CASSETTE_OUTCOME_RECORDED && status == GrpcStatus.OK) {
      observability.metrics().cassette("recorded");
    }
    observability.metrics().call(context.type(), routed ? request.getModel() : "unknown", status.name(),
        Duration.ofNanos(endNanos - startNanos), firstEventNanos < 0 ? null : Duration.ofNanos(firstEventNanos
        - startNanos), usage);
    span.end(error, answeredBy(), upstreamModel, origin, usage, response, attempts,
        firstEventNanos < 0 ? -1 : firstEventNanos - startNanos);
    observability.log(this::record);
  }

  /** The call's tokens and cost so far (all of them once it ended). */
  public Usage usage() {
    return usage;
  }

  /** Whether the answer was replayed from a cassette: no provider was paid for it. */
  public boolean replayed() {
    return origin.getCassette() == CassetteOutcome.CASSETTE_OUTCOME_HIT;
  }

  /** The deployment that answered, or else the one the last upstream request went to; empty when none. */
  private String answeredBy() {
    return provider.isEmpty() ? attempted : provider;
  }

  /** The call log's record of the ended call; called on the call log's thread. */
  private CallRecord record() {
    String answeredBy = answeredBy();
    CallRecord.Builder record = CallRecord.newBuilder()
        .setId(context.callId())
        .setCallType(context.type())
        .setStatus(status.name())
        .setProvider(answeredBy)
        .setProviderType(observability.providerType(answeredBy))
        .setModel(request.getModel())
        .setUpstreamModel(upstreamModel)
        .setUsage(usage)
        .setStartTime(Timestamps.fromNanos(startTime.getEpochSecond() * 1_000_000_000L + startTime.getNano()))
        .setLatency(Durations.fromNanos(endNanos - startNanos))
        .setAttempts(attempts)
        .setCassetteOutcome(origin.getCassette())
        .setCassetteKey(origin.getCassetteKey())
        .setTraceId(context.traceId())
        .setParentCallId(context.parentCallId())
        .setSessionId(context.sessionId())
        .setUserId(context.userId())
        .setKeyId(context.keyId())
        .setKeyName(context.keyName())
        .setErrorMessage(errorMessage);
    // Most calls have none of these, and an empty addAll still makes the builder copy its list.
    if (origin.getDroppedSettingsCount() > 0) {
      record.addAllDroppedSettings(origin.getDroppedSettingsList());
    }
    if (!context.tags().isEmpty()) {
      record.addAllTags(context.tags());
    }
    if (!context.metadata().isEmpty()) {
      record.putAllMetadata(context.metadata());
    }
    if (firstEventNanos >= 0) {
      record.setTimeToFirstEvent(Durations.fromNanos(firstEventNanos - startNanos));
    }
    if (request.hasToolChoice()) {
      record.setToolChoice(request.getToolChoice());
    }
    if (response != null) {
      record.setFinishReason(response.getFinishReason());
    }
    if (observability.logsBodies()) {
      StringBuilder system = new StringBuilder();
      for (Message message : request.getMessagesList()) {
        if (message.getRole() != Role.ROLE_SYSTEM) {
          record.addMessages(message);
          continue;
        }
        for (Part part : message.getPartsList()) {
          if (part.hasText()) {
            system.append(system.length() == 0 ? "" : "\n\n").append(part.getText());
          }
        }
      }
      record.setSystemPrompt(system.toString());
      if (request.getToolsCount() > 0) {
        record.addAllTools(request.getToolsList());
      }
      if (response != null) {
        record.setResponseMessage(response.getMessage());
      }
      record.setBodiesTruncated(BodyCap.fit(record, observability.maxBodyBytes()));
    }
    return record.build();
  }
}
