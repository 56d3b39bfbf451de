package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.EmbeddingServiceGrpcService;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.auth.CallerAuth;
import dev.llmrouter.server.pipeline.CallMetadata;
import dev.llmrouter.server.pipeline.CallOptions;
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
    RequestMessages.unary(call, EmbeddingServiceGrpcService.Embed, request -> caller.onSuccess(who -> {
      AnswerStream<EmbedResponse> answer;
      try {
        CallOptions options = metadata.optionsOf(call.headers(), false, call.timeout(), who);
        call.response().headers().set(CallMetadata.CALL_ID_HEADER, options.call().callId())
            .set(CallMetadata.TRACE_ID_HEADER, options.call().traceId());
        answer = pipeline.embed(request, options);
      } catch (CallError e) {
        GrpcErrors.end(call.response(), e);
        return;
      }
      call.errorHandler(error -> answer.cancel());
      answer.exceptionHandler(failure -> GrpcErrors.end(call.response(), failure));
      answer.handler(call.response()::end);
    }));
  }
}
