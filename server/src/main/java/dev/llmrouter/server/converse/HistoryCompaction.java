package dev.llmrouter.server.converse;

import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Compaction;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.config.ConversationConfig;
import dev.llmrouter.server.pipeline.CallOptions;
import dev.llmrouter.server.pipeline.ChatPipeline;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Memory compaction, for stored conversations ({@link Conversations}) and live `Converse` sessions
 * ({@link ConverseSession}) alike: a history measured over its token budget has the turns before the latest
 * `keep_turns` replaced by a summary that `conversations.compaction.model` writes in one ordinary pipeline call (so it
 * is recorded and replayed like any call).
 *
 * <p>A history is measured after each answer, as the input plus output tokens the provider reported for it (or, when
 * it reported none, the characters of the request and answer divided by 4). The cut always falls just before a user
 * message, so a tool call and its result are never separated, and an unanswered tool call (only ever in the latest
 * turn) is never summarised; the system prompt is never part of it. In a model call the summary is a system message
 * after the system prompt ({@link #summaryMessage}).
 */
public final class HistoryCompaction {

  /** A compaction done: the new summary, the messages kept after it, and its stats (`tokens_after` unset). */
  public record Compacted(String summary, List<Message> kept, Compaction compaction) {
  }

  /** The heading of the summary's system message, in every model call after a compaction. */
  static final String SUMMARY_HEADING = "Summary of the earlier conversation:\n";
  private static final int CHARS_PER_TOKEN = 4;

  private final ChatPipeline pipeline;
  private final ConversationConfig config;
  private final Clock clock;

  public HistoryCompaction(ChatPipeline pipeline, ConversationConfig config, Clock clock) {
    this.pipeline = pipeline;
    this.config = config;
    this.clock = clock;
  }

  /**
   * Refuses a budget that cannot be kept.
   *
   * @param field the budget's name in the caller's request, for the message
   * @throws CallError INVALID_ARGUMENT for a negative budget, or a budget while no compaction model is configured
   */
  public void checkBudget(String field, long budget) {
    if (budget < 0) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, field + " must be 0 (never compact) or more, not " + budget);
    }
    if (budget > 0 && config.compactionModel().isEmpty()) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, field + " needs a model to write summaries: set "
          + "conversations: { compaction: { model: ... } } in the router's config, or leave the budget out");
    }
  }

  /**
   * Compacts {@code messages} (the history after the system prompt and any summary) when {@code historyTokens} is
   * over {@code budget} and there are turns to spare; empty otherwise.
   *
   * @param earlierSummary the summary of an earlier compaction (merged into the new one), or empty
   * @param call the options of the summary call, asked for only when there is one
   * @param started gets the summary call as soon as it runs, for the caller to cancel or pause it
   */
  public Optional<Future<Compacted>> compact(long budget, Optional<Long> historyTokens, String earlierSummary,
      List<Message> messages, Supplier<CallOptions> call, Consumer<ChatEventStream> started) {
    int cut = compactionCut(messages, config.keepTurns());
    if (budget == 0 || historyTokens.isEmpty() || historyTokens.get() <= budget || cut == 0
        || config.compactionModel().isEmpty()) {
      return Optional.empty();
    }
    List<Message> compacted = messages.subList(0, cut);
    String model = config.compactionModel().get();
    ChatRequest summaryRequest = ChatRequest.newBuilder().setModel(model)
        .addMessages(Message.newBuilder().setRole(Role.ROLE_SYSTEM)
            .addParts(Part.newBuilder().setText(config.compactionPrompt())))
        .addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
            .addParts(Part.newBuilder().setText(transcript(earlierSummary, compacted))))
        .build();
    Promise<ChatResponse> summary = Promise.promise();
    ChatEventStream summaryCall = pipeline.start(summaryRequest, call.get());
    started.accept(summaryCall);
    summaryCall.exceptionHandler(summary::tryFail);
    summaryCall.handler(event -> {
      if (event.hasDone()) {
        summary.tryComplete(event.getDone().getResponse());
      }
    });
    List<Message> kept = List.copyOf(messages.subList(cut, messages.size()));
    return Optional.of(summary.future().map(response -> new Compacted(text(response.getMessage()), kept,
        Compaction.newBuilder()
            .setTurnsCompacted((int) compacted.stream().filter(m -> m.getRole() == Role.ROLE_USER).count())
            .setMessagesCompacted(compacted.size()).setTokensBefore(historyTokens.get()).setModel(model)
            .setUsage(response.getUsage()).setTime(timestamp(clock.instant())).build())));
  }

  /**
   * The compaction with `tokens_after` from the first model call after it, when that call reported its input tokens
   * and the compaction has none yet.
   */
  static Compaction measuredAfter(Compaction compaction, Usage firstCall) {
    return compaction.hasTokensAfter() || !firstCall.hasInputTokens() ? compaction
        : compaction.toBuilder().setTokensAfter(firstCall.getInputTokens()).build();
  }

  /** The history's size after a model call: the tokens it reported, or the estimate when it reported none. */
  static long measured(ChatRequest request, ChatResponse response) {
    Usage usage = response.getUsage();
    return usage.hasInputTokens() ? usage.getInputTokens() + usage.getOutputTokens()
        : estimatedTokens(request.getMessagesList()) + estimatedTokens(List.of(response.getMessage()));
  }

  /**
   * Where compaction cuts {@code messages}: the index of the first message kept, the start of the
   * {@code keepTurns}-th latest user turn; 0 when there are not more turns than that.
   */
  static int compactionCut(List<Message> messages, int keepTurns) {
    int turnsSeen = 0;
    for (int i = messages.size() - 1; i > 0; i--) {
      if (messages.get(i).getRole() == Role.ROLE_USER && ++turnsSeen == keepTurns) {
        return i;
      }
    }
    return 0;
  }

  /** The compacted turns as the summary model reads them: one line per message, after the earlier summary. */
  static String transcript(String earlierSummary, List<Message> messages) {
    StringBuilder text = new StringBuilder();
    if (!earlierSummary.isEmpty()) {
      text.append("[earlier summary]\n").append(earlierSummary).append("\n\n");
    }
    for (Message message : messages) {
      String who = switch (message.getRole()) {
        case ROLE_USER -> "user";
        case ROLE_ASSISTANT -> "assistant";
        case ROLE_TOOL -> "tool result for " + message.getToolCallId();
        default -> "system";
      };
      text.append('[').append(who).append("]\n").append(text(message)).append('\n');
      for (ToolCall call : message.getToolCallsList()) {
        text.append("[assistant calls ").append(call.getName()).append(" as ").append(call.getId()).append("]\n")
            .append(call.getArgumentsJson()).append('\n');
      }
    }
    return text.toString();
  }

  /** The summary as model calls carry it: a system message after the system prompt. */
  static Message summaryMessage(String summary) {
    return system(SUMMARY_HEADING + summary);
  }

  /** The summary a history opens with ({@link #summaryMessage}), or empty. */
  static String summaryOf(List<Message> history) {
    if (history.isEmpty() || history.get(0).getRole() != Role.ROLE_SYSTEM) {
      return "";
    }
    String first = text(history.get(0));
    return first.startsWith(SUMMARY_HEADING) ? first.substring(SUMMARY_HEADING.length()) : "";
  }

  static Message system(String text) {
    return Message.newBuilder().setRole(Role.ROLE_SYSTEM).addParts(Part.newBuilder().setText(text)).build();
  }

  /** The text of a message's parts; an image or document shows as such. */
  static String text(Message message) {
    return message.getPartsList().stream().map(part -> switch (part.getKindCase()) {
      case TEXT -> part.getText();
      case REFUSAL -> part.getRefusal();
      case IMAGE -> "[image]";
      case DOCUMENT -> "[document]";
      default -> "";
    }).filter(text -> !text.isEmpty()).collect(Collectors.joining("\n"));
  }

  /** A size in tokens from characters, for a provider that reports none: about 4 characters a token. */
  static long estimatedTokens(List<Message> messages) {
    long chars = 0;
    for (Message message : messages) {
      chars += text(message).length();
      for (ToolCall call : message.getToolCallsList()) {
        chars += call.getName().length() + call.getArgumentsJson().length();
      }
    }
    return (chars + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN;
  }

  static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }
}
