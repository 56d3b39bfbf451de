package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpcService;
import dev.llmrouter.server.pipeline.CallMetadata;
import dev.llmrouter.server.pipeline.CallOptions;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.pipeline.ChatPipeline;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.auth.CallerAuth;
import io.vertx.core.Future;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.Service;
import java.util.Optional;

/**
 * `llmrouter.v1.ChatService`: `Chat` folds the pipeline's events into one response, `StreamChat` writes them as
 * they come with back-pressure. Both stop the upstream when the caller cancels, and end with the
 * mapped status when the answer fails. A call whose key is refused ends with the refusal's status.
 */
public final class ChatGrpcService {

  private final ChatPipeline pipeline;
  private final CallMetadata metadata;
  private final ConverseService converse;
  private final CallerAuth auth;

  public ChatGrpcService(ChatPipeline pipeline, CallMetadata metadata, ConverseService converse, CallerAuth auth) {
    this.pipeline = pipeline;
    this.metadata = metadata;
    this.converse = converse;
    this.auth = auth;
  }

  public Service service() {
    return Service.service(ChatServiceGrpcService.SERVICE_NAME, ChatServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(ChatServiceGrpcService.Chat, this::chat)
        .bind(ChatServiceGrpcService.StreamChat, this::streamChat)
        .bind(ChatServiceGrpcService.Converse, converse::converse)
        .build();
  }

  private void chat(GrpcServerRequest<ChatRequest, ChatResponse> call) {
    Future<Caller> caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, ChatServiceGrpcService.Chat, request -> caller.onSuccess(who ->
        start(call, request, false, who).ifPresent(answer -> answer.handler(event -> {
          if (event.hasDone()) {
            call.response().end(event.getDone().getResponse());
          }
        }))));
  }

  private void streamChat(GrpcServerRequest<ChatRequest, ChatEvent> call) {
    GrpcServerResponse<ChatRequest, ChatEvent> response = call.response();
    Future<Caller> caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, ChatServiceGrpcService.StreamChat, request -> caller.onSuccess(who ->
        start(call, request, true, who).ifPresent(answer -> answer.handler(event -> {
          if (event.hasDone()) {
            response.end(event);
            return;
          }
          response.write(event);
          if (response.writeQueueFull()) {
            answer.pause();
            response.drainHandler(v -> answer.resume());
          }
        }))));
  }

  private Optional<ChatEventStream> start(GrpcServerRequest<ChatRequest, ?> call, ChatRequest request, boolean stream,
      Caller caller) {
    ChatEventStream answer;
    try {
      CallOptions options = metadata.optionsOf(call.headers(), stream, call.timeout(), caller);
      // Sent back so that a caller can link a later call to this one (x-parent-call-id) and find it in the log.
      call.response().headers().set(CallMetadata.CALL_ID_HEADER, options.call().callId())
          .set(CallMetadata.TRACE_ID_HEADER, options.call().traceId());
      answer = pipeline.start(request, options);
    } catch (CallError e) {
      GrpcErrors.end(call.response(), e);
      return Optional.empty();
    }
    call.errorHandler(error -> answer.cancel());
    answer.exceptionHandler(failure -> GrpcErrors.end(call.response(), failure));
    return Optional.of(answer);
  }
}
