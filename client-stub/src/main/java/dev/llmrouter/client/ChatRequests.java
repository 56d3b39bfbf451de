package dev.llmrouter.client;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import java.util.List;

/**
 * Requests in one line:
 * {@code ChatRequests.of("openai/gpt-4o-mini", Messages.system("Be brief."), Messages.user("Hi"))}.
 */
public final class ChatRequests {

  private ChatRequests() {
  }

  /** A request for this model with this conversation; add tools or settings with {@code toBuilder()}. */
  public static ChatRequest of(String model, Message... messages) {
    return ChatRequest.newBuilder().setModel(model).addAllMessages(List.of(messages)).build();
  }
}
