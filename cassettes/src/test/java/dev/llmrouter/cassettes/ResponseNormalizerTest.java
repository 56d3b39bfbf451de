package dev.llmrouter.cassettes;

import static dev.llmrouter.cassettes.Fixtures.answer;
import static dev.llmrouter.cassettes.Fixtures.textDelta;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.ChatDone;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolCallDelta;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResponseNormalizerTest {

  private static final String KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

  @Test
  void fixedCreatedIsNewYear2025() {
    assertEquals(Instant.parse("2025-01-01T00:00:00Z").getEpochSecond(),
        ResponseNormalizer.FIXED_CREATED.getSeconds());
    assertEquals(0, ResponseNormalizer.FIXED_CREATED.getNanos());
  }

  @Test
  void responseIdAndCreatedComeFromTheKey() {
    List<ChatEvent> events = answer("Hello!").stream().map(event -> ResponseNormalizer.normalize(event, KEY))
        .toList();

    ChatEvent start = events.get(0);
    ChatResponse done = events.get(3).getDone().getResponse();
    assertEquals("chatcmpl-0123456789abcdef01234567", start.getStart().getId());
    assertEquals(ResponseNormalizer.FIXED_CREATED, start.getStart().getCreated());
    assertEquals("chatcmpl-0123456789abcdef01234567", done.getId());
    assertEquals(ResponseNormalizer.FIXED_CREATED, done.getCreated());
    assertEquals("gpt-4o-mini-2024-07-18", done.getModel());
    assertEquals("Hello!", done.getMessage().getParts(0).getText());
  }

  @Test
  void aToolCallGetsTheSameIdInDeltasAndInDone() {
    ChatEvent firstDelta = toolCallDelta(1, "toolu_01XYZ", "weather", "");
    ChatEvent argumentsDelta = toolCallDelta(1, "", "", "{\"city\":");
    ChatEvent done = ChatEvent.newBuilder().setDone(ChatDone.newBuilder().setResponse(ChatResponse.newBuilder()
        .setId("msg_01").setCreated(Timestamp.newBuilder().setSeconds(1_760_000_000L))
        .setMessage(Message.newBuilder().setRole(Role.ROLE_ASSISTANT)
            .addToolCalls(ToolCall.newBuilder().setId("toolu_01ABC").setName("time"))
            .addToolCalls(ToolCall.newBuilder().setId("toolu_01XYZ").setName("weather")
                .setArgumentsJson("{\"city\":\"Rome\"}"))))).build();

    String deltaId = ResponseNormalizer.normalize(firstDelta, KEY).getToolCallDelta().getId();
    List<ToolCall> calls = ResponseNormalizer.normalize(done, KEY).getDone().getResponse().getMessage()
        .getToolCallsList();

    assertEquals("call_0123456789ab_1", deltaId);
    assertEquals("call_0123456789ab_0", calls.get(0).getId());
    assertEquals(deltaId, calls.get(1).getId());
    assertEquals("{\"city\":\"Rome\"}", calls.get(1).getArgumentsJson());
    assertSame(argumentsDelta, ResponseNormalizer.normalize(argumentsDelta, KEY));
  }

  @Test
  void eventsWithoutIdsAreUntouched() {
    ChatEvent delta = textDelta("Hello");

    assertSame(delta, ResponseNormalizer.normalize(delta, KEY));
  }

  @Test
  void twoLiveRunsWithDifferentUpstreamIdsNormalizeToTheSameEvents() {
    List<ChatEvent> firstRun = answer("Hi");
    List<ChatEvent> secondRun = firstRun.stream().map(ResponseNormalizerTest::withOtherUpstreamIds).toList();

    assertEquals(firstRun.stream().map(event -> ResponseNormalizer.normalize(event, KEY)).toList(),
        secondRun.stream().map(event -> ResponseNormalizer.normalize(event, KEY)).toList());
  }

  @Test
  void aDoneWithoutMessageGetsNoMessage() {
    ChatEvent done = ChatEvent.newBuilder().setDone(ChatDone.newBuilder()
        .setResponse(ChatResponse.newBuilder().setId("x"))).build();

    assertEquals(false, ResponseNormalizer.normalize(done, KEY).getDone().getResponse().hasMessage());
  }

  private static ChatEvent toolCallDelta(int index, String id, String name, String arguments) {
    return ChatEvent.newBuilder().setToolCallDelta(ToolCallDelta.newBuilder()
        .setIndex(index).setId(id).setName(name).setArgumentsDelta(arguments)).build();
  }

  private static ChatEvent withOtherUpstreamIds(ChatEvent event) {
    Timestamp later = Timestamp.newBuilder().setSeconds(1_770_000_000L).build();
    return switch (event.getEventCase()) {
      case START -> event.toBuilder().setStart(event.getStart().toBuilder().setId("other").setCreated(later))
          .build();
      case DONE -> event.toBuilder().setDone(ChatDone.newBuilder().setResponse(
          event.getDone().getResponse().toBuilder().setId("other").setCreated(later))).build();
      default -> event;
    };
  }
}
