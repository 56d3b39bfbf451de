package dev.llmrouter.server.config;

import java.time.Duration;

/**
 * The `converse:` section: live sessions of `ChatService.Converse`.
 *
 * @param idleTimeout how long a session with no stream attached stays resumable (in Redis too, as its time to live)
 * @param maxSessions the most sessions kept in memory; the least recently used go first (Redis bounds its own)
 * @param maxSteps the most model calls in one turn when the session sets none
 * @param finalPrompt what the model is asked when a turn runs out of steps or tools
 */
public record ConverseConfig(Duration idleTimeout, long maxSessions, int maxSteps, String finalPrompt) {

  public static final ConverseConfig DEFAULT = new ConverseConfig(Duration.ofMinutes(10), 10_000, 8,
      "You have used all the tool calls available for this request. Do not call any tool. Summarise what you have "
          + "found so far, and say what is left to do.");
}
