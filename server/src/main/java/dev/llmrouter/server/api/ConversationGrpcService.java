package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.Compaction;
import dev.llmrouter.api.v1.ConversationServiceGrpcService;
import dev.llmrouter.api.v1.CreateConversationRequest;
import dev.llmrouter.api.v1.CreateConversationResponse;
import dev.llmrouter.api.v1.DeleteConversationRequest;
import dev.llmrouter.api.v1.DeleteConversationResponse;
import dev.llmrouter.api.v1.GetConversationRequest;
import dev.llmrouter.api.v1.GetConversationResponse;
import dev.llmrouter.api.v1.ListConversationsRequest;
import dev.llmrouter.api.v1.ListConversationsResponse;
import dev.llmrouter.api.v1.SendMessageRequest;
import dev.llmrouter.api.v1.SendMessageResponse;
import dev.llmrouter.api.v1.StreamSendMessageResponse;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.auth.CallerAuth;
import dev.llmrouter.server.converse.ConversationStore;
import dev.llmrouter.server.converse.Conversations;
import dev.llmrouter.server.pipeline.CallMetadata;
import dev.llmrouter.server.prompt.PromptLibrary;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.Service;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * `llmrouter.v1.ConversationService`: the {@link Conversations} the router keeps, each visible to the caller key
 * that created it only. `SendMessage` and `StreamSendMessage` take the call metadata `Chat` does (cassette scope and
 * mode, trace and user ids, tags), stop the model call when the caller cancels, and end with the mapped status when
 * the answer fails.
 */
public final class ConversationGrpcService {

  private static final int DEFAULT_PAGE_SIZE = 50;
  private static final int MAX_PAGE_SIZE = 1000;

  private final Conversations conversations;
  private final PromptLibrary prompts;
  private final CallMetadata metadata;
  private final CallerAuth auth;

  public ConversationGrpcService(Conversations conversations, PromptLibrary prompts, CallMetadata metadata,
      CallerAuth auth) {
    this.conversations = conversations;
    this.prompts = prompts;
    this.metadata = metadata;
    this.auth = auth;
  }

  public Service service() {
    return Service.service(ConversationServiceGrpcService.SERVICE_NAME,
            ConversationServiceGrpcService.SERVICE_DESCRIPTOR)
        .bind(ConversationServiceGrpcService.CreateConversation, this::create)
        .bind(ConversationServiceGrpcService.SendMessage, this::send)
        .bind(ConversationServiceGrpcService.StreamSendMessage, this::streamSend)
        .bind(ConversationServiceGrpcService.GetConversation, this::get)
        .bind(ConversationServiceGrpcService.ListConversations, this::list)
        .bind(ConversationServiceGrpcService.DeleteConversation, this::delete)
        .build();
  }

  private void create(GrpcServerRequest<CreateConversationRequest, CreateConversationResponse> call) {
    Future<Caller> caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, ConversationServiceGrpcService.CreateConversation, request -> caller.onSuccess(who ->
        answer(call.response(), () -> conversations.create(request, prompts::render, who.keyId())
            .map(created -> CreateConversationResponse.newBuilder().setConversation(created).build()))));
  }

  private void send(GrpcServerRequest<SendMessageRequest, SendMessageResponse> call) {
    Future<Caller> caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, ConversationServiceGrpcService.SendMessage, request -> caller.onSuccess(who -> {
      Compaction[] compaction = new Compaction[1];
      PipelineRpc.start(call, metadata, false, who, options -> conversations.send(request, options))
          .ifPresent(answer -> answer.handler(event -> {
            if (event.hasCompaction()) {
              compaction[0] = event.getCompaction();
            } else if (event.getChatEvent().hasDone()) {
              SendMessageResponse.Builder response = SendMessageResponse.newBuilder()
                  .setResponse(event.getChatEvent().getDone().getResponse());
              Optional.ofNullable(compaction[0]).ifPresent(response::setCompaction);
              call.response().end(response.build());
            }
          }));
    }));
  }

  private void streamSend(GrpcServerRequest<SendMessageRequest, StreamSendMessageResponse> call) {
    Future<Caller> caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, ConversationServiceGrpcService.StreamSendMessage, request -> caller.onSuccess(who ->
        PipelineRpc.start(call, metadata, true, who, options -> conversations.send(request, options))
            .ifPresent(answer -> PipelineRpc.stream(answer, call.response(),
                event -> event.getChatEvent().hasDone()))));
  }

  private void get(GrpcServerRequest<GetConversationRequest, GetConversationResponse> call) {
    Future<Caller> caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, ConversationServiceGrpcService.GetConversation, request -> caller.onSuccess(who ->
        answer(call.response(), () -> conversations.store().find(required(request.getConversationId()), who.keyId())
            .map(found -> GetConversationResponse.newBuilder().setConversation(found.orElseThrow(() ->
                ConversationStore.notFound(request.getConversationId()))).build()))));
  }

  private void list(GrpcServerRequest<ListConversationsRequest, ListConversationsResponse> call) {
    Future<Caller> caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, ConversationServiceGrpcService.ListConversations, request -> caller.onSuccess(who ->
        answer(call.response(), () -> {
          if (request.getPageSize() < 0 || request.getPageSize() > MAX_PAGE_SIZE) {
            throw new CallError(GrpcStatus.INVALID_ARGUMENT, "page_size must be from 1 to " + MAX_PAGE_SIZE
                + " (or 0 for " + DEFAULT_PAGE_SIZE + "), not " + request.getPageSize());
          }
          int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE_SIZE : request.getPageSize();
          return conversations.store().list(who.keyId(), request.getMetadataMap(), pageSize, request.getPageToken())
              .map(page -> ListConversationsResponse.newBuilder().addAllConversations(page.conversations())
                  .setNextPageToken(page.nextPageToken()).build());
        })));
  }

  private void delete(GrpcServerRequest<DeleteConversationRequest, DeleteConversationResponse> call) {
    Future<Caller> caller = GrpcAuthentication.caller(call, auth);
    RequestMessages.unary(call, ConversationServiceGrpcService.DeleteConversation, request -> caller.onSuccess(who ->
        answer(call.response(), () -> conversations.store().delete(required(request.getConversationId()),
                who.keyId())
            .map(deleted -> {
              if (!deleted) {
                throw ConversationStore.notFound(request.getConversationId());
              }
              return DeleteConversationResponse.getDefaultInstance();
            }))));
  }

  private static String required(String conversationId) {
    if (conversationId.isEmpty()) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, "conversation_id: name the conversation (CreateConversation "
          + "gives its id, ListConversations lists them)");
    }
    return conversationId;
  }

  /** Ends the call with the answer {@code work} gives, or with the status of its failure (thrown or failed). */
  private static <R> void answer(GrpcServerResponse<?, R> response, Supplier<Future<R>> work) {
    Future<R> answer;
    try {
      answer = work.get();
    } catch (CallError refused) {
      GrpcErrors.end(response, refused);
      return;
    }
    answer.onSuccess(response::end).onFailure(failure -> GrpcErrors.end(response, failure));
  }
}
