package dev.llmrouter.server.converse;

import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.CallType;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Conversation;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.CreateConversationRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.PromptReference;
import dev.llmrouter.api.v1.RenderPromptResponse;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.SendMessageRequest;
import dev.llmrouter.api.v1.StreamSendMessageResponse;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.config.ConversationConfig;
import dev.llmrouter.server.pipeline.CallOptions;
import dev.llmrouter.server.pipeline.ChatPipeline;
import dev.llmrouter.server.pipeline.ChatRequestValidator;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The conversations of `ConversationService`, kept in the {@link ConversationStore}. Each message is answered by one
 * ordinary pipeline call whose request is the conversation as a client would send it ({@link #request}): the system
 * prompt, the summary of compacted turns, the history, the tools. So cassettes key it as any `Chat` call, and a
 * conversation replays call for call.
 *
 * <p>Compaction: a conversation with a `history_token_budget` is measured after each answer; when a new user turn
 * comes to a history over budget, {@link HistoryCompaction} (which live `Converse` sessions share) replaces its older
 * turns by a summary first.
 */
public final class Conversations {

  private final ChatPipeline pipeline;
  private final ChatRequestValidator validator;
  private final HistoryCompaction compaction;
  private final ConversationStore store;
  private final Clock clock;
  /** Conversations with a message being answered on this router: a second message waits its turn (refused). */
  private final Set<String> answering = ConcurrentHashMap.newKeySet();

  public Conversations(ChatPipeline pipeline, ChatRequestValidator validator, ConversationConfig config,
      ConversationStore store, Clock clock) {
    this.pipeline = pipeline;
    this.validator = validator;
    this.compaction = new HistoryCompaction(pipeline, config, clock);
    this.store = store;
    this.clock = clock;
  }

  public ConversationStore store() {
    return store;
  }

  /** The compaction of histories over budget, for `Converse` sessions to share. */
  public HistoryCompaction compaction() {
    return compaction;
  }

  /**
   * Creates a conversation, checked as its first model call would be.
   *
   * @param render renders the request's prompt template: its system messages become the system prompt, the others
   *     open the history, and its model is used when the request names none
   * @throws CallError INVALID_ARGUMENT naming what is wrong
   */
  public Future<Conversation> create(CreateConversationRequest request,
      Function<PromptReference, RenderPromptResponse> render, String keyId) {
    compaction.checkBudget("history_token_budget", request.getHistoryTokenBudget());
    if (request.hasPrompt() && !request.getSystemPrompt().isEmpty()) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, "system_prompt and prompt are exclusive: the template's "
          + "system messages are the system prompt");
    }
    RenderPromptResponse template = request.hasPrompt() ? render.apply(request.getPrompt())
        : RenderPromptResponse.getDefaultInstance();
    List<Message> rendered = template.getMessagesList();
    String systemPrompt = request.hasPrompt()
        ? rendered.stream().filter(m -> m.getRole() == Role.ROLE_SYSTEM).map(HistoryCompaction::text)
            .collect(Collectors.joining("\n\n"))
        : request.getSystemPrompt();
    Instant now = clock.instant();
    Conversation.Builder conversation = Conversation.newBuilder()
        .setId("conv_" + UUID.randomUUID().toString().replace("-", ""))
        .setModel(request.getModel().isEmpty() ? template.getModel() : request.getModel())
        .setSystemPrompt(systemPrompt).addAllTools(request.getToolsList()).putAllMetadata(request.getMetadataMap())
        .setHistoryTokenBudget(request.getHistoryTokenBudget())
        .addAllMessages(rendered.stream().filter(m -> m.getRole() != Role.ROLE_SYSTEM).toList())
        .setCreateTime(HistoryCompaction.timestamp(now)).setUpdateTime(HistoryCompaction.timestamp(now));
    if (request.hasPrompt()) {
      conversation.setPrompt(PromptReference.newBuilder().setName(request.getPrompt().getName())
          .setVersion(template.getVersion()).setVariables(request.getPrompt().getVariables()));
    }
    if (request.hasSettings()) {
      conversation.setSettings(request.getSettings());
    }
    if (conversation.getModel().isEmpty()) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, "model: name the model or alias to talk to (or a prompt "
          + "template with a model)");
    }
    // Checked as a first call would be: the model, the tools, the settings.
    validator.validate(request(conversation.build()).toBuilder().addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("-"))).build());
    return store.create(conversation.build(), keyId);
  }

  /**
   * Answers the next message of a conversation: the stream's events are the compaction (when one ran), then the
   * model's events; `done` comes once the conversation, answer included, is saved. Must be called on the caller's
   * event-loop context.
   *
   * @throws CallError INVALID_ARGUMENT for a malformed request, FAILED_PRECONDITION while the conversation answers
   *     another message on this router
   */
  public AnswerStream<StreamSendMessageResponse> send(SendMessageRequest request, CallOptions options) {
    String id = request.getConversationId();
    if (id.isEmpty()) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, "conversation_id: name the conversation (CreateConversation "
          + "gives its id)");
    }
    if (request.hasMessage() == request.getToolResultsCount() > 0) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, "send either message (a user turn) or tool_results (the "
          + "results of the calls the model asked for), " + (request.hasMessage() ? "not both" : "not neither"));
    }
    if (request.hasMessage() && request.getMessage().getPartsCount() == 0) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, "message.parts: a user turn needs at least one part");
    }
    if (request.hasMessage() && request.getMessage().getRole() != Role.ROLE_USER
        && request.getMessage().getRole() != Role.ROLE_UNSPECIFIED) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, "message.role: a user turn has role ROLE_USER (or none), not "
          + request.getMessage().getRole());
    }
    if (!answering.add(id)) {
      throw new CallError(GrpcStatus.FAILED_PRECONDITION, "conversation " + id + " is answering another message: "
          + "send the next one once that answer is done");
    }
    AnswerStream<StreamSendMessageResponse> answer =
        AnswerStream.of(event -> event.hasChatEvent() && event.getChatEvent().hasDone());
    answer.closeHandler(() -> answering.remove(id));
    String keyId = options.caller().keyId();
    store.find(id, keyId)
        .map(found -> found.orElseThrow(() -> ConversationStore.notFound(id)))
        .map(conversation -> withMessage(conversation, request))
        .compose(conversation -> request.hasMessage() ? compacted(conversation, options, answer)
            : Future.succeededFuture(conversation))
        .onSuccess(ready -> answer(ready, request, options, answer))
        .onFailure(answer::fail);
    return answer;
  }

  /** The conversation with the request's message checked: it must fit where the conversation is. */
  private static Conversation withMessage(Conversation conversation, SendMessageRequest request) {
    List<ToolCall> waiting = waitingToolCalls(conversation.getMessagesList());
    if (request.hasMessage() && !waiting.isEmpty()) {
      throw new CallError(GrpcStatus.FAILED_PRECONDITION, "the model's last answer asked for tool calls "
          + waiting.stream().map(ToolCall::getId).toList() + ": send their results (tool_results) before a new "
          + "message");
    }
    if (!request.hasMessage()) {
      Set<String> pending = waiting.stream().map(ToolCall::getId).collect(Collectors.toSet());
      Set<String> answered = request.getToolResultsList().stream().map(Message::getToolCallId)
          .collect(Collectors.toSet());
      if (pending.isEmpty()) {
        throw new CallError(GrpcStatus.FAILED_PRECONDITION, "no tool calls wait for results in conversation "
            + conversation.getId() + ": send a message");
      }
      if (!answered.equals(pending) || answered.size() != request.getToolResultsCount()) {
        throw new CallError(GrpcStatus.INVALID_ARGUMENT, "tool_results must answer exactly the calls " + pending
            + " (one message each, by tool_call_id), not " + answered);
      }
    }
    return conversation;
  }

  /** Calls the model on the conversation with the request's message appended; saves it with the answer. */
  private void answer(Conversation conversation, SendMessageRequest request, CallOptions options,
      AnswerStream<StreamSendMessageResponse> answer) {
    if (answer.isClosed()) {
      return;
    }
    Conversation.Builder asked = conversation.toBuilder();
    if (request.hasMessage()) {
      asked.addMessages(request.getMessage().toBuilder().setRole(Role.ROLE_USER));
    } else {
      request.getToolResultsList().forEach(result -> asked.addMessages(result.toBuilder().setRole(Role.ROLE_TOOL)));
    }
    ChatRequest modelRequest = request(asked.build());
    ChatEventStream model;
    try {
      model = pipeline.start(modelRequest, modelCall(options, conversation.getId()));
    } catch (CallError refused) {
      answer.fail(refused);
      return;
    }
    answer.upstream(model.asUpstream());
    model.exceptionHandler(answer::fail);
    model.handler(event -> {
      if (!event.hasDone()) {
        answer.emit(StreamSendMessageResponse.newBuilder().setChatEvent(event).build());
        return;
      }
      ChatResponse response = event.getDone().getResponse();
      store.save(answered(asked, modelRequest, response), options.caller().keyId())
          .onSuccess(saved -> answer.emit(StreamSendMessageResponse.newBuilder().setChatEvent(event).build()))
          .onFailure(answer::fail);
    });
  }

  /** The conversation with the model's answer appended, its usage added and its history measured. */
  private Conversation answered(Conversation.Builder asked, ChatRequest modelRequest, ChatResponse response) {
    Usage usage = response.getUsage();
    asked.addMessages(response.getMessage()).setUsage(add(asked.getUsage(), usage))
        .setHistoryTokens(HistoryCompaction.measured(modelRequest, response))
        .setUpdateTime(HistoryCompaction.timestamp(clock.instant()));
    int last = asked.getCompactionsCount() - 1;
    if (last >= 0) {
      // The first call after a compaction tells how large the compacted history is.
      asked.setCompactions(last, HistoryCompaction.measuredAfter(asked.getCompactions(last), usage));
    }
    return asked.build();
  }

  /**
   * The conversation, compacted when its history is over budget and has turns to spare; the compaction is told on
   * {@code answer} before the model's events.
   */
  private Future<Conversation> compacted(Conversation conversation, CallOptions options,
      AnswerStream<StreamSendMessageResponse> answer) {
    Optional<Long> measured = conversation.hasHistoryTokens() ? Optional.of(conversation.getHistoryTokens())
        : Optional.empty();
    return compaction.compact(conversation.getHistoryTokenBudget(), measured, conversation.getSummary(),
            conversation.getMessagesList(), () -> modelCall(options, conversation.getId()),
            summaryCall -> answer.upstream(summaryCall.asUpstream()))
        .map(running -> running.map(done -> {
          answer.emit(StreamSendMessageResponse.newBuilder().setCompaction(done.compaction()).build());
          return conversation.toBuilder().setSummary(done.summary()).clearMessages().addAllMessages(done.kept())
              .addCompactions(done.compaction())
              .setUsage(add(conversation.getUsage(), done.compaction().getUsage())).build();
        }))
        .orElseGet(() -> Future.succeededFuture(conversation));
  }

  /**
   * The request of a model call on the conversation, as a client keeping the history itself would send it: the
   * system prompt, the summary (after a compaction), the messages, the tools and the settings.
   */
  public static ChatRequest request(Conversation conversation) {
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel(conversation.getModel())
        .putAllMetadata(conversation.getMetadataMap()).addAllTools(conversation.getToolsList());
    if (conversation.hasSettings()) {
      request.setSettings(conversation.getSettings());
    }
    if (!conversation.getSystemPrompt().isEmpty()) {
      request.addMessages(HistoryCompaction.system(conversation.getSystemPrompt()));
    }
    summaryMessage(conversation).ifPresent(request::addMessages);
    return request.addAllMessages(conversation.getMessagesList()).build();
  }

  /**
   * The settings of a `Converse` session driving a stored conversation: the conversation's, with the start's own
   * tool loop limits.
   */
  public static ConverseStart converseStart(Conversation conversation, ConverseStart asked) {
    ConverseStart.Builder start = ConverseStart.newBuilder().setModel(conversation.getModel())
        .setSystemPrompt(conversation.getSystemPrompt()).addAllTools(conversation.getToolsList())
        .putAllMetadata(conversation.getMetadataMap()).setMaxSteps(asked.getMaxSteps())
        .putAllToolBudgets(asked.getToolBudgetsMap()).setDropUnsupportedSettings(asked.getDropUnsupportedSettings())
        .setConversationId(conversation.getId()).setHistoryTokenBudget(conversation.getHistoryTokenBudget());
    if (conversation.hasSettings()) {
      start.setSettings(conversation.getSettings());
    }
    return start.build();
  }

  /**
   * The history a `Converse` session on the conversation starts from: the summary (a system message, as in
   * {@link #request}), then the messages.
   *
   * @throws CallError FAILED_PRECONDITION while the conversation's last answer waits for tool results
   */
  public static List<Message> sessionHistory(Conversation conversation) {
    List<ToolCall> waiting = waitingToolCalls(conversation.getMessagesList());
    if (!waiting.isEmpty()) {
      throw new CallError(GrpcStatus.FAILED_PRECONDITION, "conversation " + conversation.getId() + " waits for the "
          + "results of tool calls " + waiting.stream().map(ToolCall::getId).toList() + ": send them with "
          + "ConversationService.SendMessage first");
    }
    List<Message> history = new ArrayList<>();
    summaryMessage(conversation).ifPresent(history::add);
    history.addAll(conversation.getMessagesList());
    return history;
  }

  /**
   * Writes a `Converse` session's history back into its conversation: the summary it opens with (the one it started
   * with, or its own compaction's) as the summary, the rest as the messages. A session keeps no per-call usage, so the
   * history is measured by the estimate (4 characters a token) for the next `SendMessage` to compact it when it is
   * over budget.
   */
  public Future<Conversation> writeBack(String conversationId, String keyId, List<Message> sessionHistory) {
    String summary = HistoryCompaction.summaryOf(sessionHistory);
    List<Message> messages = sessionHistory.stream().dropWhile(m -> m.getRole() == Role.ROLE_SYSTEM).toList();
    Timestamp now = HistoryCompaction.timestamp(clock.instant());
    return store.update(conversationId, keyId, stored -> {
      Conversation updated = stored.toBuilder().setSummary(summary).clearMessages().addAllMessages(messages)
          .setUpdateTime(now).build();
      return updated.toBuilder()
          .setHistoryTokens(HistoryCompaction.estimatedTokens(request(updated).getMessagesList())).build();
    });
  }

  /** The tool calls of the last message, when it is the model's and no result follows them. */
  private static List<ToolCall> waitingToolCalls(List<Message> messages) {
    if (messages.isEmpty()) {
      return List.of();
    }
    Message last = messages.get(messages.size() - 1);
    return last.getRole() == Role.ROLE_ASSISTANT ? last.getToolCallsList() : List.of();
  }

  private static Optional<Message> summaryMessage(Conversation conversation) {
    return conversation.getSummary().isEmpty() ? Optional.empty()
        : Optional.of(HistoryCompaction.summaryMessage(conversation.getSummary()));
  }

  /** A model call of the conversation: its call-log record names the conversation as its session. */
  private static CallOptions modelCall(CallOptions options, String conversationId) {
    return options.withCall(options.call().next(options.call().type(), options.call().parentCallId(),
        conversationId));
  }

  /** Two usages summed: a count either reports is set. */
  static Usage add(Usage sum, Usage more) {
    Usage.Builder total = sum.toBuilder();
    if (more.hasInputTokens()) {
      total.setInputTokens(sum.getInputTokens() + more.getInputTokens());
    }
    if (more.hasOutputTokens()) {
      total.setOutputTokens(sum.getOutputTokens() + more.getOutputTokens());
    }
    if (more.hasCachedInputTokens()) {
      total.setCachedInputTokens(sum.getCachedInputTokens() + more.getCachedInputTokens());
    }
    if (more.hasReasoningTokens()) {
      total.setReasoningTokens(sum.getReasoningTokens() + more.getReasoningTokens());
    }
    if (more.hasCostUsd()) {
      total.setCostUsd(sum.getCostUsd() + more.getCostUsd());
    }
    if (more.hasWebSearches()) {
      total.setWebSearches(sum.getWebSearches() + more.getWebSearches());
    }
    return total.build();
  }
}
