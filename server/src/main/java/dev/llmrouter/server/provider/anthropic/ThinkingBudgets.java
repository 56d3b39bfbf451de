package dev.llmrouter.server.provider.anthropic;

import dev.llmrouter.api.v1.ReasoningEffort;
import java.util.Map;
import java.util.Optional;

/**
 * Anthropic's extended-thinking budget for each reasoning effort, both ways: the adapter sends the budget of an effort,
 * and the Anthropic dialect of the HTTP ingress reads such a budget back as the effort, so that the two are inverses.
 */
public final class ThinkingBudgets {

  /**
   * MINIMAL is 1024, the smallest budget Anthropic accepts; LOW to HIGH double from 4096 and stay below the 32k above
   * which Anthropic recommends batch processing.
   */
  private static final Map<ReasoningEffort, Integer> BUDGET_OF_EFFORT = Map.of(
      ReasoningEffort.REASONING_EFFORT_MINIMAL, 1024, ReasoningEffort.REASONING_EFFORT_LOW, 4096,
      ReasoningEffort.REASONING_EFFORT_MEDIUM, 8192, ReasoningEffort.REASONING_EFFORT_HIGH, 16384);

  private ThinkingBudgets() {
  }

  /** The thinking budget of {@code effort}; 0 means no thinking. */
  public static int of(ReasoningEffort effort) {
    return BUDGET_OF_EFFORT.getOrDefault(effort, 0);
  }

  /** The effort whose budget is exactly {@code budget}, if one is. */
  public static Optional<ReasoningEffort> effortOf(long budget) {
    return BUDGET_OF_EFFORT.entrySet().stream().filter(e -> e.getValue() == budget).map(Map.Entry::getKey)
        .findFirst();
  }
}
