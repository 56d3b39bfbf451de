package dev.llmrouter.cassettes;

import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.ChatDone;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatStart;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.TextDelta;
import dev.llmrouter.api.v1.Usage;
import java.util.List;

/** Requests, events and cassettes shared by the tests. */
final class Fixtures {

  private Fixtures() {
  }

  static ChatRequest userRequest(String text) {
    return ChatRequest.newBuilder()
        .setModel("openai/gpt-4o-mini")
        .addMessages(message(Role.ROLE_USER, text))
        .build();
  }

  static Message message(Role role, String text) {
    return Message.newBuilder().setRole(role).addParts(Part.newBuilder().setText(text)).build();
  }

  static ChatEvent textDelta(String text) {
    return ChatEvent.newBuilder().setTextDelta(TextDelta.newBuilder().setText(text)).build();
  }

  /** A short answer as an upstream provider streams it, with volatile ids and times. */
  static List<ChatEvent> answer(String text) {
    Timestamp now = Timestamp.newBuilder().setSeconds(1_760_000_000L).setNanos(123_000_000).build();
    return List.of(
        ChatEvent.newBuilder().setStart(ChatStart.newBuilder()
            .setId("chatcmpl-upstream123").setModel("gpt-4o-mini-2024-07-18").setProvider("openai")
            .setCreated(now)).build(),
        textDelta(text),
        ChatEvent.newBuilder().setUsage(Usage.newBuilder()
            .setInputTokens(12).setOutputTokens(3).setCostUsd(0.0000123)).build(),
        ChatEvent.newBuilder().setDone(ChatDone.newBuilder().setResponse(ChatResponse.newBuilder()
            .setId("chatcmpl-upstream123").setModel("gpt-4o-mini-2024-07-18").setProvider("openai")
            .setCreated(now)
            .setMessage(message(Role.ROLE_ASSISTANT, text))
            .setFinishReason(FinishReason.FINISH_REASON_STOP))).build());
  }

  static Cassette cassette(ChatRequest request, List<ChatEvent> events) {
    return Cassette.of(CanonicalRequest.of(request), new Cassette.ServedBy("openai", "gpt-4o-mini"),
        List.of(new Cassette.Take(events, List.of())));
  }

  static Cassette sampleCassette() {
    return cassette(userRequest("Hi"), answer("Hello!"));
  }
}
