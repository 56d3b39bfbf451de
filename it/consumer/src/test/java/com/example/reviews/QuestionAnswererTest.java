package com.example.reviews;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.llmrouter.client.ChatRequests;
import dev.llmrouter.client.LlmRouterClient;
import dev.llmrouter.client.Messages;
import dev.llmrouter.client.junit.LlmRouterTest;
import org.junit.jupiter.api.Test;

/**
 * {@code @LlmRouterTest} as a project uses it: the router's embedded default (OpenAI, Anthropic and Gemini, their
 * keys from the environment, needed only to record) over the cassettes committed in
 * {@code src/test/cassettes/QuestionAnswererTest/<method>/}. This build only replays it.
 */
@LlmRouterTest(cassettes = "src/test/cassettes")
class QuestionAnswererTest {

  @Test
  void answersFromTheCommittedCassette(LlmRouterClient router) {
    assertEquals("The capital of France is Paris.", router.chat(ChatRequests.of("openai/gpt-4o-mini",
        Messages.user("What is the capital of France?"))).getMessage().getParts(0).getText());
  }
}
