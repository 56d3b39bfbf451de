package com.example.reviews;

import dev.llmrouter.client.ChatRequests;
import dev.llmrouter.client.LlmRouterClient;
import dev.llmrouter.client.Messages;

/** The service under test: it asks a model, through llm-router, for a four-word summary of a customer review. */
public final class ReviewSummarizer {

  private final LlmRouterClient router;

  public ReviewSummarizer(LlmRouterClient router) {
    this.router = router;
  }

  public String summarize(String review) {
    return router.chat(ChatRequests.of("openai/gpt-4o-mini", Messages.system("Summarize in four words."),
        Messages.user(review))).getMessage().getParts(0).getText();
  }
}
