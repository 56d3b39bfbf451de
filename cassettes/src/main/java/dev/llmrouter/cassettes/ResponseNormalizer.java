package dev.llmrouter.cassettes;

import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatResponse;

/**
 * Makes answers deterministic, in record and replay mode alike, so the caller sees the same bytes whether the answer
 * was live or replayed: the response id and tool-call ids are derived from the cassette key, {@code created} is a
 * fixed instant. A pure function.
 */
public final class ResponseNormalizer {

  /** 2025-01-01T00:00:00Z. */
  public static final Timestamp FIXED_CREATED = Timestamp.newBuilder().setSeconds(1_735_689_600L).build();

  private ResponseNormalizer() {
  }

  public static ChatEvent normalize(ChatEvent event, String key) {
    return switch (event.getEventCase()) {
      case START -> event.toBuilder()
          .setStart(event.getStart().toBuilder().setId(responseId(key)).setCreated(FIXED_CREATED))
          .build();
      case TOOL_CALL_DELTA -> event.getToolCallDelta().getId().isEmpty()
          ? event
          : event.toBuilder()
              .setToolCallDelta(event.getToolCallDelta().toBuilder()
                  .setId(toolCallId(key, event.getToolCallDelta().getIndex())))
              .build();
      case DONE -> event.toBuilder()
          .setDone(event.getDone().toBuilder().setResponse(normalize(event.getDone().getResponse(), key)))
          .build();
      default -> event;
    };
  }

  private static ChatResponse normalize(ChatResponse response, String key) {
    ChatResponse.Builder normalized = response.toBuilder().setId(responseId(key)).setCreated(FIXED_CREATED);
    for (int index = 0; index < response.getMessage().getToolCallsCount(); index++) {
      normalized.getMessageBuilder().getToolCallsBuilder(index).setId(toolCallId(key, index));
    }
    return normalized.build();
  }

  private static String responseId(String key) {
    return "chatcmpl-" + key.substring(0, 24);
  }

  /** The call's position names it, so a delta and the final message give the same call the same id. */
  private static String toolCallId(String key, int index) {
    return "call_" + key.substring(0, 12) + "_" + index;
  }
}
