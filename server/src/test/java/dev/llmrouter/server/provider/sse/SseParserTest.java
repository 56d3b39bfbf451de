package dev.llmrouter.server.provider.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The WHATWG event-stream rules the one SSE parser follows, fed whole and split at every byte. */
class SseParserTest {

  private static List<SseEvent> parse(String stream, int chunkSize) {
    List<SseEvent> events = new ArrayList<>();
    SseParser parser = new SseParser(events::add);
    byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i += chunkSize) {
      byte[] chunk = new byte[Math.min(chunkSize, bytes.length - i)];
      System.arraycopy(bytes, i, chunk, 0, chunk.length);
      parser.feed(chunk);
    }
    return events;
  }

  @ParameterizedTest(name = "chunks of {0} bytes")
  @ValueSource(ints = {1, 2, 3, 7, 1024})
  void lineEndingsCommentsMultiLineDataAndEventNames(int chunkSize) {
    String stream = "\uFEFF: a comment\r\n"
        + "data: one\r\n\r\n"
        + "event: message_start\ndata: {\"a\":\ndata: 1}\n\n"
        + "data:no space\r\r"
        + "id: 7\ndata: é ✓ 漢\n\n"
        + "retry: 100\nunknown: x\n\n"
        + "data\n\n";
    List<SseEvent> events = parse(stream, chunkSize);
    assertEquals(List.of(
        new SseEvent("message", "one", ""),
        new SseEvent("message_start", "{\"a\":\n1}", ""),
        new SseEvent("message", "no space", ""),
        new SseEvent("message", "é ✓ 漢", "7"),
        new SseEvent("message", "", "7")), events);
  }

  @Test
  void anEventWithoutItsBlankLineIsNotDispatchedAndIsReportedAsPartial() {
    List<SseEvent> events = new ArrayList<>();
    SseParser parser = new SseParser(events::add);
    parser.feed("data: whole\n\ndata: {\"cut".getBytes(StandardCharsets.UTF_8));
    assertEquals(List.of(new SseEvent("message", "whole", "")), events);
    assertTrue(parser.hasPartialEvent());
  }

  @Test
  void aStreamEndingOnABlankLineHasNoPartialEvent() {
    SseParser parser = new SseParser(e -> { });
    parser.feed("data: x\n\n".getBytes(StandardCharsets.UTF_8));
    assertFalse(parser.hasPartialEvent());
  }
}
