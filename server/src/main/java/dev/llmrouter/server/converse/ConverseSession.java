package dev.llmrouter.server.converse;

import dev.llmrouter.api.v1.CallType;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Compaction;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.SessionCallOptions;
import dev.llmrouter.api.v1.SessionRecord;
import dev.llmrouter.api.v1.SessionStarted;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolCallsRequested;
import dev.llmrouter.api.v1.ToolChoice;
import dev.llmrouter.api.v1.ToolChoiceMode;
import dev.llmrouter.api.v1.ToolResults;
import dev.llmrouter.api.v1.TurnCompleted;
import dev.llmrouter.api.v1.TurnError;
import dev.llmrouter.api.v1.TurnStarted;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.observe.CallContext;
import dev.llmrouter.server.pipeline.CallOptions;
import dev.llmrouter.server.pipeline.ReplayPace;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.pipeline.ChatPipeline;
import dev.llmrouter.server.answer.CallError;
import io.opentelemetry.api.trace.SpanContext;
import dev.llmrouter.server.converse.HistoryCompaction.Compacted;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * One live conversation of `ChatService.Converse`. The session keeps the history and runs one turn at a time: each
 * model call of a turn is an ordinary pipeline call (routing, retries and cassettes apply), and when the model asks
 * for tools the turn waits for the client's results, then calls the model again. A turn ends with `turn_completed`
 * or with a `turn_error` that leaves the session open.
 *
 * <p>Tool loop limits: at most `max_steps` model calls per turn, and at most `tool_budgets[name]` calls of a tool
 * per turn (an exhausted tool is withdrawn and the model told so). When the steps, or every tool, run out, one last
 * call without tools asks the model to sum up (the configured final prompt).
 *
 * <p>Memory compaction: a session with a `history_token_budget` measures its history after each answer; when a user
 * turn comes to a history over budget, the turn first has {@link HistoryCompaction} (the one stored conversations use)
 * replace the older turns by a summary, which then opens the history (so a resumed session has it), and tells the
 * client with a `compaction` event.
 *
 * <p>A live session serves one stream. Each time it comes to rest (no model call running) it hands its
 * {@link #record} to {@link #onSettled}, for the {@link SessionStore} to keep; a later stream, on this router or
 * another, goes on from that record ({@link #resume}). Everything runs on the session's Vert.x context ({@link #run}),
 * so its state needs no locking: one owner is simpler than a lock around a history, a tool loop and a running model
 * call.
 */
public final class ConverseSession {

  /** Where the session's events go: the stream attached to it, which may live on another context. */
  public interface Output {
    void send(ConverseEvent event);

    /** True while the stream's write queue is full: the session pauses its model call until {@link #whenDrained}. */
    boolean isFull();

    /** Runs {@code action} once the stream's write queue has room (on the stream's context). */
    void whenDrained(Runnable action);
  }

  private enum State { IDLE, GENERATING, AWAITING_TOOL_RESULTS }

  private final String id;
  private final ConverseStart settings;
  private final CallOptions options;
  private final ChatPipeline pipeline;
  private final int maxSteps;
  private final String finalPrompt;
  private final HistoryCompaction compaction;
  private final Context context;
  private final List<Message> history = new ArrayList<>();
  private Output output;
  private State state = State.IDLE;
  private int turn;
  private int stepsThisTurn;
  private final Map<String, Integer> toolCallsThisTurn = new HashMap<>();
  private Usage turnUsage = Usage.getDefaultInstance();
  private ChatEventStream running;
  private StringBuilder partialText = new StringBuilder();
  private List<ToolCall> pendingCalls = List.of();
  private Runnable afterModelCall;
  /** The call log's parent for the next model call: the turn's previous call, or what the stream's caller named. */
  private String parentCallId = "";
  /** The history's size as the latest model call measured it; empty before the first and right after a compaction. */
  private Optional<Long> historyTokens = Optional.empty();
  /** The compaction the running (or latest) turn started with, or null. */
  private Compaction turnCompaction;
  private Consumer<SessionRecord> settled = record -> { };

  /**
   * @param options the cassette scope and mode of the stream that started the session, used for every model call
   * @param defaultMaxSteps the steps per turn when the session sets none
   * @param compaction compacts the history when it grows past the session's `history_token_budget`
   */
  public ConverseSession(String id, ConverseStart settings, CallOptions options, ChatPipeline pipeline,
      int defaultMaxSteps, String finalPrompt, HistoryCompaction compaction, Context context) {
    this.id = id;
    this.settings = settings;
    this.options = options;
    this.pipeline = pipeline;
    this.maxSteps = settings.getMaxSteps() > 0 ? settings.getMaxSteps() : defaultMaxSteps;
    this.finalPrompt = finalPrompt;
    this.compaction = compaction;
    this.context = context;
  }

  public String id() {
    return id;
  }

  /**
   * The session a record keeps, going on for {@code caller} (the key that started it) on {@code context}: its model
   * calls run with the options the session started with; a turn that waited for tool results still waits for them.
   */
  public static ConverseSession resume(SessionRecord record, Caller caller, ChatPipeline pipeline, int defaultMaxSteps,
      String finalPrompt, HistoryCompaction compaction, Context context) {
    SessionCallOptions stored = record.getCallOptions();
    CallContext call = new CallContext(CallContext.newCallId(), CallType.CALL_TYPE_STREAM, stored.getTraceId(),
        stored.getParentCallId(), record.getSessionId(), stored.getUserId(), List.copyOf(stored.getTagsList()),
        Map.copyOf(stored.getMetadataMap()), caller.keyId(), caller.keyName(), SpanContext.getInvalid());
    CallOptions options = new CallOptions(true, 0, stored.getCassetteScope(),
        CassetteMode.parse(stored.getCassetteMode()),
        new ReplayPace(stored.getReplayRecordedPace(), stored.getReplayGapMillis()), stored.getSequencedTakes(), call,
        caller, Optional.of(stored.getCassetteMatch()).filter(set -> !set.isEmpty()));
    ConverseSession session = new ConverseSession(record.getSessionId(), record.getStart(), options, pipeline,
        defaultMaxSteps, finalPrompt, compaction, context);
    session.history.addAll(record.getHistoryList());
    session.turn = record.getTurn();
    session.stepsThisTurn = record.getTurnSteps();
    session.toolCallsThisTurn.putAll(record.getTurnToolCallsMap());
    session.turnUsage = record.getTurnUsage();
    session.pendingCalls = List.copyOf(record.getPendingToolCallsList());
    session.state = session.pendingCalls.isEmpty() ? State.IDLE : State.AWAITING_TOOL_RESULTS;
    session.parentCallId = record.getParentCallId();
    session.historyTokens = record.hasHistoryTokens() ? Optional.of(record.getHistoryTokens()) : Optional.empty();
    session.turnCompaction = record.hasTurnCompaction() ? record.getTurnCompaction() : null;
    return session;
  }

  /** Starts a new session from an earlier history (a stored conversation's): call it before the first turn. */
  public void startFrom(List<Message> earlier) {
    history.addAll(earlier);
  }

  /** Everything needed to go on with the session, as it is now: call it while no model call runs. */
  public SessionRecord record() {
    CallContext call = options.call();
    SessionRecord.Builder record = SessionRecord.newBuilder();
    historyTokens.ifPresent(record::setHistoryTokens);
    if (turnCompaction != null) {
      record.setTurnCompaction(turnCompaction);
    }
    return record.setSessionId(id).setKeyId(keyId()).setStart(settings).addAllHistory(history)
        .setTurn(turn).setTurnSteps(stepsThisTurn).putAllTurnToolCalls(toolCallsThisTurn).setTurnUsage(turnUsage)
        .addAllPendingToolCalls(pendingCalls).setParentCallId(parentCallId)
        .setCallOptions(SessionCallOptions.newBuilder().setCassetteScope(options.scope())
            .setCassetteMode(options.mode().externalName()).setReplayRecordedPace(options.pace().recorded())
            .setReplayGapMillis(options.pace().gapMillis()).setSequencedTakes(options.sequenced())
            .setTraceId(call.traceId()).setParentCallId(call.parentCallId()).setUserId(call.userId())
            .addAllTags(call.tags()).putAllMetadata(call.metadata()).setCassetteMatch(options.matchSet().orElse("")))
        .build();
  }

  /**
   * Where the session's {@link #record} goes each time a change comes to rest: a turn completed or failed, tool calls
   * asked for, an interrupt.
   */
  public void onSettled(Consumer<SessionRecord> handler) {
    settled = handler;
  }

  /** The id of the caller key that started the session: only that key may resume it. */
  public String keyId() {
    return options.caller().keyId();
  }

  /** Runs an action on the session's context (callers on another event loop hop over). */
  public void run(Runnable action) {
    onContext(context, action);
  }

  /** Runs an action on {@code owner}: at once when already there, otherwise queued on it. */
  public static void onContext(Context owner, Runnable action) {
    if (Vertx.currentContext() == owner) {
      action.run();
    } else {
      owner.runOnContext(v -> action.run());
    }
  }

  /** Connects the stream the session serves, and tells it the session is open. */
  public void attach(Output newOutput, boolean resumed) {
    output = newOutput;
    send(ConverseEvent.newBuilder().setSessionStarted(SessionStarted.newBuilder().setSessionId(id)
        .setResumed(resumed)).build());
  }

  /**
   * The stream went away. A running model call is stopped (its partial answer kept, marked interrupted); a turn
   * waiting for tool results keeps waiting, so a resumed stream can answer them.
   */
  public void detach(Output gone) {
    if (output != gone) {
      return;
    }
    if (state == State.GENERATING) {
      interrupt();
    }
    output = null;
  }

  /** Ends the live session: stops the running model call; nothing more is sent or settled. */
  public void close() {
    run(() -> {
      settled = record -> { };
      if (running != null) {
        running.cancel();
      }
      output = null;
      state = State.IDLE;
    });
  }

  /** Runs an action once no model call is running: now, or when the running one ends (a half-closed stream). */
  public void whenNoModelCallRuns(Runnable action) {
    afterModelCall = action;
    runAfterModelCall();
  }

  /** A model call ended (or could not start): the session is at rest. */
  private void modelCallEnded() {
    settled.accept(record());
    runAfterModelCall();
  }

  private void runAfterModelCall() {
    if (afterModelCall != null && state != State.GENERATING) {
      Runnable action = afterModelCall;
      afterModelCall = null;
      action.run();
    }
  }

  /** A user turn: runs the model on it, unless a turn is already running or the message is no user turn. */
  public void onUserMessage(Message message) {
    if (message.getRole() != Role.ROLE_USER && message.getRole() != Role.ROLE_UNSPECIFIED) {
      turnError(GrpcStatus.INVALID_ARGUMENT, "user.role: a user turn has role ROLE_USER (or none), not "
          + message.getRole());
      return;
    }
    if (message.getPartsCount() == 0) {
      turnError(GrpcStatus.INVALID_ARGUMENT, "user.parts: a user turn needs at least one part");
      return;
    }
    if (state != State.IDLE) {
      turnError(GrpcStatus.FAILED_PRECONDITION, "turn " + turn + " is still running: wait for its turn_completed "
          + "(or answer its tool calls), or send interrupt");
      return;
    }
    turn++;
    stepsThisTurn = 0;
    toolCallsThisTurn.clear();
    turnUsage = Usage.getDefaultInstance();
    parentCallId = options.call().parentCallId();
    partialText = new StringBuilder();
    turnCompaction = null;
    Message user = message.toBuilder().setRole(Role.ROLE_USER).build();
    send(ConverseEvent.newBuilder().setTurnStarted(TurnStarted.newBuilder().setTurn(turn)).build());
    compactThenAsk(user);
  }

  /**
   * Compacts the history first when it is over budget (the summary then opens it, in place of an earlier one), then
   * asks the model the user's turn.
   */
  private void compactThenAsk(Message user) {
    String earlierSummary = HistoryCompaction.summaryOf(history);
    List<Message> messages = List.copyOf(history.subList(earlierSummary.isEmpty() ? 0 : 1, history.size()));
    Optional<Future<Compacted>> compacting;
    try {
      compacting = compaction.compact(settings.getHistoryTokenBudget(), historyTokens, earlierSummary, messages,
          this::nextModelCall, summaryCall -> running = summaryCall);
    } catch (CallError refused) {
      turnError(refused.status(), refused.getMessage());
      modelCallEnded();
      return;
    }
    if (compacting.isEmpty()) {
      history.add(user);
      callModel();
      return;
    }
    state = State.GENERATING;
    ChatEventStream summaryCall = running;
    compacting.get().onComplete(done -> run(() -> {
      if (running != summaryCall || state != State.GENERATING) {
        return; // interrupted while the summary was being written: the history stays as it was
      }
      if (done.failed()) {
        state = State.IDLE;
        CallError error = CallError.of(done.cause());
        turnError(error.status(), "compacting the history over start.history_token_budget failed: "
            + error.getMessage());
        modelCallEnded();
        return;
      }
      Compacted compacted = done.result();
      history.clear();
      history.add(HistoryCompaction.summaryMessage(compacted.summary()));
      history.addAll(compacted.kept());
      historyTokens = Optional.empty();
      turnCompaction = compacted.compaction();
      turnUsage = Conversations.add(turnUsage, turnCompaction.getUsage());
      send(ConverseEvent.newBuilder().setCompaction(turnCompaction).build());
      history.add(user);
      callModel();
    }));
  }

  /** The client's answers to the tool calls of the running turn. */
  public void onToolResults(ToolResults results) {
    if (state != State.AWAITING_TOOL_RESULTS) {
      turnError(GrpcStatus.FAILED_PRECONDITION, "no tool calls are waiting for results");
      return;
    }
    Set<String> pending = pendingCalls.stream().map(ToolCall::getId).collect(Collectors.toSet());
    Set<String> answered = results.getResultsList().stream().map(Message::getToolCallId).collect(Collectors.toSet());
    if (!answered.equals(pending)) {
      turnError(GrpcStatus.INVALID_ARGUMENT, "tool_results must answer exactly the calls " + pending + " (by "
          + "tool_call_id), not " + answered);
      return;
    }
    for (Message result : results.getResultsList()) {
      history.add(result.toBuilder().setRole(Role.ROLE_TOOL).build());
    }
    pendingCalls.forEach(call -> toolCallsThisTurn.merge(call.getName(), 1, Integer::sum));
    pendingCalls = List.of();
    callModel();
  }

  /** A message that makes no sense in a running session (a second `start`, or an empty one). */
  public void onUnexpected(String what) {
    turnError(GrpcStatus.INVALID_ARGUMENT, "a session accepts user, tool_results and interrupt messages, not " + what);
  }

  /** Stops the running turn; the partial answer stays in the history, marked interrupted. */
  public void onInterrupt() {
    if (state == State.IDLE) {
      turnError(GrpcStatus.FAILED_PRECONDITION, "no turn is running: there is nothing to interrupt");
      return;
    }
    interrupt();
  }

  private void interrupt() {
    if (state == State.GENERATING) {
      running.cancel();
    }
    Message partial = Message.newBuilder().setRole(Role.ROLE_ASSISTANT)
        .addParts(Part.newBuilder().setText(partialText.toString())).build();
    if (state == State.AWAITING_TOOL_RESULTS) {
      // The calls were never answered: the history keeps what was said, without them.
      Message asked = history.remove(history.size() - 1);
      partial = asked.toBuilder().clearToolCalls().build();
      pendingCalls = List.of();
    }
    if (partial.getPartsCount() > 0 && !partial.getParts(0).getText().isEmpty() || partial.getPartsCount() > 1) {
      history.add(partial);
    }
    state = State.IDLE;
    send(ConverseEvent.newBuilder().setTurnCompleted(completed().setMessage(partial).setInterrupted(true)).build());
    modelCallEnded();
  }

  private void callModel() {
    stepsThisTurn++;
    List<Tool> available = settings.getToolsList().stream()
        .filter(tool -> toolCallsThisTurn.getOrDefault(tool.getName(), 0)
            < settings.getToolBudgetsMap().getOrDefault(tool.getName(), Integer.MAX_VALUE))
        .toList();
    boolean toolsRanOut = settings.getToolsCount() > 0 && available.isEmpty();
    boolean finalCall = stepsThisTurn > maxSteps || toolsRanOut;
    ChatRequest request = request(finalCall ? List.of() : available, finalCall);
    partialText = new StringBuilder();
    try {
      running = pipeline.start(request, nextModelCall());
    } catch (CallError e) {
      state = State.IDLE;
      turnError(e.status(), e.getMessage());
      modelCallEnded();
      return;
    }
    state = State.GENERATING;
    ChatEventStream answer = running;
    answer.handler(event -> onModelEvent(event, request, finalCall));
    answer.exceptionHandler(failure -> {
      if (running == answer && state == State.GENERATING) {
        state = State.IDLE;
        CallError error = failure instanceof CallError e ? e : new CallError(GrpcStatus.INTERNAL,
            failure.toString());
        turnError(error.status(), error.getMessage());
        modelCallEnded();
      }
    });
  }

  /** The options of the turn's next model call: its own record in the call log, linked to the one before it. */
  private CallOptions nextModelCall() {
    CallOptions modelCall = options.withCall(options.call().next(CallType.CALL_TYPE_CONVERSE_TURN, parentCallId, id));
    parentCallId = modelCall.call().callId();
    return modelCall;
  }

  private ChatRequest request(List<Tool> tools, boolean finalCall) {
    // Only what the session set: a Converse turn and the same Chat request share one cassette key.
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel(settings.getModel())
        .putAllMetadata(settings.getMetadataMap()).setDropUnsupportedSettings(settings.getDropUnsupportedSettings())
        .setSkipContextCheck(settings.getSkipContextCheck());
    if (settings.hasSettings()) {
      request.setSettings(settings.getSettings());
    }
    if (settings.hasResponseFormat()) {
      request.setResponseFormat(settings.getResponseFormat());
    }
    if (settings.hasWebSearch()) {
      request.setWebSearch(settings.getWebSearch());
    }
    if (!settings.getSystemPrompt().isEmpty()) {
      request.addMessages(Message.newBuilder().setRole(Role.ROLE_SYSTEM)
          .addParts(Part.newBuilder().setText(settings.getSystemPrompt())));
    }
    request.addAllMessages(history);
    List<String> withdrawn = settings.getToolsList().stream().map(Tool::getName)
        .filter(name -> tools.stream().noneMatch(t -> t.getName().equals(name))).toList();
    if (!finalCall && !withdrawn.isEmpty()) {
      request.addMessages(Message.newBuilder().setRole(Role.ROLE_SYSTEM).addParts(Part.newBuilder().setText(
          "These tools have used their budget for this request and are no longer available: "
              + String.join(", ", withdrawn) + ".")));
    }
    if (finalCall) {
      request.addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText(finalPrompt)));
    } else if (!tools.isEmpty()) {
      request.addAllTools(tools);
    }
    if (finalCall && settings.getToolsCount() > 0) {
      // Some providers need the declarations to read the history's tool calls: keep them, but forbid their use.
      request.addAllTools(settings.getToolsList())
          .setToolChoice(ToolChoice.newBuilder().setMode(ToolChoiceMode.TOOL_CHOICE_MODE_NONE));
    }
    return request.build();
  }

  private void onModelEvent(ChatEvent event, ChatRequest request, boolean finalCall) {
    switch (event.getEventCase()) {
      case TEXT_DELTA -> {
        partialText.append(event.getTextDelta().getText());
        send(ConverseEvent.newBuilder().setTextDelta(event.getTextDelta()).build());
      }
      case REASONING_DELTA -> send(ConverseEvent.newBuilder().setReasoningDelta(event.getReasoningDelta()).build());
      case TOOL_CALL_DELTA -> send(ConverseEvent.newBuilder().setToolCallDelta(event.getToolCallDelta()).build());
      case CITATION -> send(ConverseEvent.newBuilder().setCitation(event.getCitation()).build());
      case DONE -> onModelDone(event.getDone().getResponse(), request, finalCall);
      default -> {
        // start and usage: usage is summed from the complete response
      }
    }
  }

  private void onModelDone(ChatResponse response, ChatRequest request, boolean finalCall) {
    turnUsage = Conversations.add(turnUsage, response.getUsage());
    historyTokens = Optional.of(HistoryCompaction.measured(request, response));
    if (turnCompaction != null) {
      turnCompaction = HistoryCompaction.measuredAfter(turnCompaction, response.getUsage());
    }
    history.add(response.getMessage());
    if (response.getMessage().getToolCallsCount() > 0 && !finalCall) {
      state = State.AWAITING_TOOL_RESULTS;
      pendingCalls = response.getMessage().getToolCallsList();
      send(ConverseEvent.newBuilder().setToolCalls(ToolCallsRequested.newBuilder().addAllToolCalls(pendingCalls))
          .build());
    } else {
      state = State.IDLE;
      send(ConverseEvent.newBuilder().setTurnCompleted(completed().setMessage(response.getMessage())
          .setFinishReason(response.getFinishReason())).build());
    }
    modelCallEnded();
  }

  /** The turn's `turn_completed`, without its message. */
  private TurnCompleted.Builder completed() {
    TurnCompleted.Builder completed = TurnCompleted.newBuilder().setTurn(turn).setUsage(turnUsage);
    if (turnCompaction != null) {
      completed.setCompaction(turnCompaction);
    }
    return completed;
  }

  private void turnError(GrpcStatus status, String message) {
    send(ConverseEvent.newBuilder().setTurnError(TurnError.newBuilder().setTurn(turn).setCode(status.code)
        .setMessage(message)).build());
  }

  /** Sends to the attached stream, pausing the running model call while the stream cannot take more. */
  private void send(ConverseEvent event) {
    if (output == null) {
      return;
    }
    output.send(event);
    if (output.isFull() && running != null && state == State.GENERATING) {
      ChatEventStream paused = running;
      paused.pause();
      output.whenDrained(() -> run(paused::resume));
    }
  }
}
