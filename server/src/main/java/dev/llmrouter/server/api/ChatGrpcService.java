package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpcService;
import dev.llmrouter.server.pipeline.CallMetadata;
import dev.llmrouter.server.pipeline.ChatPipeline;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.auth.CallerAuth;
import io.vertx.core.Future;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;

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
        PipelineRpc.startCall(call, metadata, false, who, options -> pipeline.start(request, options))
            .ifPresent(answer -> answer.handler(event -> {
              if (event.hasDone()) {
                call.response().end(event.getDone().getResponse());
              }
            }))));
  }

  private void streamChat(GrpcServerRequest<ChatRequest, ChatEvent> call) {
    Future<Caller> caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, ChatServiceGrpcService.StreamChat, request -> caller.onSuccess(who ->
        PipelineRpc.startCall(call, metadata, true, who, options -> pipeline.start(request, options))
            .ifPresent(answer -> PipelineRpc.stream(answer, call.response(), ChatEvent::hasDone))));
  }
}
