package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.ListModelsResponse;
import dev.llmrouter.api.v1.ModelServiceGrpcService;
import dev.llmrouter.server.route.RoutePlanner;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;

/** `llmrouter.v1.ModelService`: the models configured on the router. */
public final class ModelGrpcService {

  private final RoutePlanner routes;

  public ModelGrpcService(RoutePlanner routes) {
    this.routes = routes;
  }

  public Service service() {
    return Service.service(ModelServiceGrpcService.SERVICE_NAME, ModelServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(ModelServiceGrpcService.ListModels, this::listModels)
        .build();
  }

  private void listModels(GrpcServerRequest<ListModelsRequest, ListModelsResponse> call) {
    RequestMessages.unary(call, ModelServiceGrpcService.ListModels, request -> call.response().end(
        ListModelsResponse.newBuilder().addAllModels(routes.models(request.getProvider())).build()));
  }
}
