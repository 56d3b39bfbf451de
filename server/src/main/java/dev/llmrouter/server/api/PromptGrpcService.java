package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.GetPromptRequest;
import dev.llmrouter.api.v1.GetPromptResponse;
import dev.llmrouter.api.v1.ListPromptsRequest;
import dev.llmrouter.api.v1.ListPromptsResponse;
import dev.llmrouter.api.v1.PromptServiceGrpcService;
import dev.llmrouter.api.v1.RenderPromptRequest;
import dev.llmrouter.api.v1.RenderPromptResponse;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.auth.CallerAuth;
import dev.llmrouter.server.prompt.PromptLibrary;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.Service;

/** `llmrouter.v1.PromptService`: the prompt templates of `prompts.dir`, for any caller the router lets in. */
public final class PromptGrpcService {

  private final PromptLibrary prompts;
  private final CallerAuth auth;

  public PromptGrpcService(PromptLibrary prompts, CallerAuth auth) {
    this.prompts = prompts;
    this.auth = auth;
  }

  public Service service() {
    return Service.service(PromptServiceGrpcService.SERVICE_NAME, PromptServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(PromptServiceGrpcService.ListPrompts, this::listPrompts)
        .bind(PromptServiceGrpcService.GetPrompt, this::getPrompt)
        .bind(PromptServiceGrpcService.RenderPrompt, this::renderPrompt)
        .build();
  }

  private void listPrompts(GrpcServerRequest<ListPromptsRequest, ListPromptsResponse> call) {
    var caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, PromptServiceGrpcService.ListPrompts, request -> caller.onSuccess(who ->
        call.response().end(ListPromptsResponse.newBuilder()
            .addAllPrompts(prompts.list(request.getNamePrefix())).build())));
  }

  private void getPrompt(GrpcServerRequest<GetPromptRequest, GetPromptResponse> call) {
    var caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, PromptServiceGrpcService.GetPrompt, request -> caller.onSuccess(who ->
        prompts.find(request.getName(), request.getVersion()).ifPresentOrElse(
            found -> call.response().end(GetPromptResponse.newBuilder().setPrompt(found).build()),
            () -> GrpcErrors.end(call.response(), new CallError(GrpcStatus.NOT_FOUND, "no prompt template "
                + CallError.quote(request.getName()) + (request.getVersion() == 0 ? ""
                : " version " + request.getVersion()) + " (ListPrompts lists them)")))));
  }

  private void renderPrompt(GrpcServerRequest<RenderPromptRequest, RenderPromptResponse> call) {
    var caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, PromptServiceGrpcService.RenderPrompt, request -> caller.onSuccess(who -> {
      RenderPromptResponse rendered;
      try {
        rendered = prompts.render(request.getPrompt());
      } catch (CallError refused) {
        GrpcErrors.end(call.response(), refused);
        return;
      }
      call.response().end(rendered);
    }));
  }
}
