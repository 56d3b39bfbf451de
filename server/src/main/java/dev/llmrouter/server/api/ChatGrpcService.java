package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpcService;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import com.google.rpc.BadRequest;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.server.pipeline.CallOptions;
import dev.llmrouter.server.pipeline.ChatEventStream;
import dev.llmrouter.server.pipeline.ChatPipeline;
import dev.llmrouter.server.pipeline.ReplayPace;
import dev.llmrouter.server.pipeline.RouterError;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.Service;
import java.util.Optional;

/**
 * `llmrouter.v1.ChatService`: `Chat` folds the pipeline's events into one response, `StreamChat` writes them as
 * they come with back-pressure. Both validate first, stop the upstream when the caller cancels, and end with the
 * mapped status when the answer fails.
 */
public final class ChatGrpcService {

  /** Call metadata naming the cassette folder of a call. */
  public static final String SCOPE_HEADER = "x-cassette-scope";
  /** Call metadata choosing the cassette mode of a call, where the server allows it. */
  public static final String MODE_HEADER = "x-cassette-mode";
  /** Call metadata pacing a replay: `recorded` or a gap in milliseconds. */
  public static final String PACE_HEADER = "x-cassette-pace";
  /** Call metadata `sequence`: the n-th identical request gets the n-th recorded take. */
  public static final String TAKE_HEADER = "x-cassette-take";

  private final ChatPipeline pipeline;
  private final ChatRequestValidator validator;
  private final CassetteMode defaultMode;
  private final boolean allowModeOverride;

  public ChatGrpcService(ChatPipeline pipeline, ChatRequestValidator validator, CassetteMode defaultMode,
      boolean allowModeOverride) {
    this.pipeline = pipeline;
    this.validator = validator;
    this.defaultMode = defaultMode;
    this.allowModeOverride = allowModeOverride;
  }

  public Service service() {
    return Service.service(ChatServiceGrpcService.SERVICE_NAME, ChatServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(ChatServiceGrpcService.Chat, this::chat)
        .bind(ChatServiceGrpcService.StreamChat, this::streamChat)
        .bind(ChatServiceGrpcService.Converse, this::converse)
        .build();
  }

  private void chat(GrpcServerRequest<ChatRequest, ChatResponse> call) {
    call.handler(request -> start(call, request, false).ifPresent(answer -> answer.handler(event -> {
      if (event.hasDone()) {
        call.response().end(event.getDone().getResponse());
      }
    })));
  }

  private void streamChat(GrpcServerRequest<ChatRequest, ChatEvent> call) {
    GrpcServerResponse<ChatRequest, ChatEvent> response = call.response();
    call.handler(request -> start(call, request, true).ifPresent(answer -> answer.handler(event -> {
      if (event.hasDone()) {
        response.end(event);
        return;
      }
      response.write(event);
      if (response.writeQueueFull()) {
        answer.pause();
        response.drainHandler(v -> answer.resume());
      }
    })));
  }

  private void converse(GrpcServerRequest<ConverseRequest, ConverseEvent> call) {
    GrpcErrors.end(call.response(), new RouterError(GrpcStatus.UNIMPLEMENTED,
        "Converse is not available in this release of llm-router; use StreamChat for now "
            + "(see README.md, section \"Converse\")"));
  }

  private Optional<ChatEventStream> start(GrpcServerRequest<ChatRequest, ?> call, ChatRequest request, boolean stream) {
    ChatEventStream answer;
    try {
      validator.validate(request);
      answer = pipeline.start(request, callOptions(call, stream));
    } catch (RouterError e) {
      GrpcErrors.end(call.response(), e);
      return Optional.empty();
    }
    call.errorHandler(error -> answer.cancel());
    answer.exceptionHandler(failure -> GrpcErrors.end(call.response(), failure));
    return Optional.of(answer);
  }

  private CallOptions callOptions(GrpcServerRequest<ChatRequest, ?> call, boolean stream) {
    String scope = call.headers().get(SCOPE_HEADER);
    try {
      scope = scope == null ? CassetteStore.DEFAULT_SCOPE : CassetteStore.validateScope(scope);
    } catch (IllegalArgumentException e) {
      throw badHeader(SCOPE_HEADER, e.getMessage());
    }
    CassetteMode mode = defaultMode;
    String requestedMode = call.headers().get(MODE_HEADER);
    if (requestedMode != null) {
      if (!allowModeOverride) {
        throw new RouterError(GrpcStatus.FAILED_PRECONDITION, "this router does not let callers choose the cassette "
            + "mode (" + MODE_HEADER + ": " + requestedMode + "); it runs in " + defaultMode.externalName()
            + " mode. Set cassettes.allow_mode_override: true in its config to allow it");
      }
      try {
        mode = CassetteMode.parse(requestedMode);
      } catch (IllegalArgumentException e) {
        throw badHeader(MODE_HEADER, e.getMessage());
      }
    }
    ReplayPace pace = ReplayPace.AS_FAST_AS_POSSIBLE;
    String requestedPace = call.headers().get(PACE_HEADER);
    if (requestedPace != null) {
      try {
        pace = ReplayPace.parse(requestedPace);
      } catch (IllegalArgumentException e) {
        throw badHeader(PACE_HEADER, e.getMessage());
      }
    }
    String take = call.headers().get(TAKE_HEADER);
    if (take != null && !take.equals("sequence")) {
      throw badHeader(TAKE_HEADER, "must be `sequence` (the n-th identical request gets the n-th take), not '"
          + take + "'");
    }
    return new CallOptions(stream, call.timeout(), scope, mode, pace, take != null);
  }

  private static RouterError badHeader(String header, String description) {
    return RouterError.badRequest(BadRequest.newBuilder().addFieldViolations(BadRequest.FieldViolation.newBuilder()
        .setField(header).setDescription(description)).build());
  }
}
