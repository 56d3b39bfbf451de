package dev.llmrouter.server.config;

import java.util.Optional;

/**
 * The `conversations:` section: how `ConversationService` compacts a history grown past its token budget.
 *
 * @param compactionModel the model or alias that writes the summaries; a conversation with a budget needs one
 * @param compactionPrompt the system prompt of the summary call; the turns to summarise follow as one user message
 * @param keepTurns how many of the latest user turns (with their answers) compaction leaves as they are, at least 1
 */
public record ConversationConfig(Optional<String> compactionModel, String compactionPrompt, int keepTurns) {

  public static final ConversationConfig DEFAULT = new ConversationConfig(Optional.empty(),
      "Summarise the conversation below for the assistant that continues it. Keep every fact, name, number, "
          + "decision and open question; say who said what. If it starts with an earlier summary, merge it in. "
          + "Answer with the summary only.", 1);
}
