package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.EmbeddingServiceGrpcService;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.auth.CallerAuth;
import dev.llmrouter.server.pipeline.CallMetadata;
import dev.llmrouter.server.pipeline.ChatPipeline;
import io.vertx.core.Future;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;

/**
 * `llmrouter.v1.EmbeddingService`: `Embed` runs the pipeline's embedding path and answers with its one response, or
 * ends with the mapped status. A caller's cancel stops the upstream call; a call whose key is refused ends with the
 * refusal's status.
 */
public final class EmbeddingGrpcService {

  private final ChatPipeline pipeline;
  private final CallMetadata metadata;
  private final CallerAuth auth;

  public EmbeddingGrpcService(ChatPipeline pipeline, CallMetadata metadata, CallerAuth auth) {
    this.pipeline = pipeline;
    this.metadata = metadata;
    this.auth = auth;
  }

  public Service service() {
    return Service.service(EmbeddingServiceGrpcService.SERVICE_NAME, EmbeddingServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(EmbeddingServiceGrpcService.Embed, this::embed)
        .build();
  }

  private void embed(GrpcServerRequest<EmbedRequest, EmbedResponse> call) {
    Future<Caller> caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, EmbeddingServiceGrpcService.Embed, request -> caller.onSuccess(who ->
        PipelineRpc.startCall(call, metadata, false, who, options -> pipeline.embed(request, options))
            .ifPresent(answer -> answer.handler(call.response()::end))));
  }
}
