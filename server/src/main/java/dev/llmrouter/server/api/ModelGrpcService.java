package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.ListModelsResponse;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.api.v1.ModelServiceGrpcService;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.auth.CallerAuth;
import dev.llmrouter.server.observe.PriceTable;
import dev.llmrouter.server.pipeline.CallMetadata;
import dev.llmrouter.server.pipeline.CallOptions;
import dev.llmrouter.server.pipeline.CallSettings;
import dev.llmrouter.server.pipeline.ChatPipeline;
import dev.llmrouter.server.pipeline.LiveSettings;
import io.vertx.core.Future;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;

/**
 * `llmrouter.v1.ModelService`: the models configured on the router, those the caller's key may call, with their
 * entries in the model catalog; and `CountTokens`, which runs the pipeline's count path and answers with its one
 * response, or ends with the mapped status.
 */
public final class ModelGrpcService {

  private final LiveSettings settings;
  private final ChatPipeline pipeline;
  private final CallMetadata metadata;
  private final CallerAuth auth;

  /** @param settings the models and the catalog of the config of the moment */
  public ModelGrpcService(LiveSettings settings, ChatPipeline pipeline, CallMetadata metadata, CallerAuth auth) {
    this.settings = settings;
    this.pipeline = pipeline;
    this.metadata = metadata;
    this.auth = auth;
  }

  public Service service() {
    return Service.service(ModelServiceGrpcService.SERVICE_NAME, ModelServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(ModelServiceGrpcService.ListModels, this::listModels)
        .bind(ModelServiceGrpcService.CountTokens, this::countTokens)
        .build();
  }

  private void countTokens(GrpcServerRequest<ChatRequest, CountTokensResponse> call) {
    Future<Caller> caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, ModelServiceGrpcService.CountTokens, request -> caller.onSuccess(who -> {
      AnswerStream<CountTokensResponse> answer;
      try {
        CallOptions options = metadata.optionsOf(call.headers(), false, call.timeout(), who);
        call.response().headers().set(CallMetadata.CALL_ID_HEADER, options.call().callId())
            .set(CallMetadata.TRACE_ID_HEADER, options.call().traceId());
        answer = pipeline.countTokens(request, options);
      } catch (CallError e) {
        GrpcErrors.end(call.response(), e);
        return;
      }
      call.errorHandler(error -> answer.cancel());
      answer.exceptionHandler(failure -> GrpcErrors.end(call.response(), failure));
      answer.handler(call.response()::end);
    }));
  }

  private void listModels(GrpcServerRequest<ListModelsRequest, ListModelsResponse> call) {
    Future<Caller> caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, ModelServiceGrpcService.ListModels, request -> caller.onSuccess(who -> {
      CallSettings now = settings.current();
      call.response().end(ListModelsResponse.newBuilder().addAllModels(now.routes().models(request.getProvider())
          .stream().filter(model -> who.mayUse(model.getName())).map(model -> withCatalog(model, now.prices()))
          .toList()).build());
    }));
  }

  /** The model with its context window, output limit and modalities from the catalog (an alias: its first target's). */
  private static Model withCatalog(Model model, PriceTable catalog) {
    String provider = model.getProvider();
    String upstreamModel = model.getUpstreamModel();
    if (provider.isEmpty() && model.getTargetsCount() > 0) {
      String first = model.getTargets(0);
      provider = first.substring(0, first.indexOf('/'));
      upstreamModel = first.substring(first.indexOf('/') + 1);
    }
    return catalog.priceOf(provider, upstreamModel).map(entry -> model.toBuilder()
        .setContextWindow(entry.contextWindow().orElse(0)).setMaxOutputTokens(entry.maxOutputTokens().orElse(0))
        .addAllModalities(entry.modalities()).build()).orElse(model);
  }
}
