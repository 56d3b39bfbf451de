package dev.llmrouter.server.ingress.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.server.testing.IngressClient.ServerSentEvent;
import java.util.List;

/** Anthropic's stream grammar, checked on what the router sent. */
final class AnthropicStreams {

  private AnthropicStreams() {
  }

  /**
   * Every event is named, its data's `type` is its name, and they come in Anthropic's order: `message_start` (with
   * no content yet), then per block its start, deltas and stop, at indexes 0, 1, 2..., then `message_delta` and
   * `message_stop`.
   */
  static void assertWellFormed(List<ServerSentEvent> events) {
    for (ServerSentEvent event : events) {
      assertNotNull(event.event(), () -> "an event without a name: " + event.data());
      assertEquals(event.event(), event.json().path("type").asText(), event.data());
    }
    List<String> names = events.stream().map(ServerSentEvent::event).toList();
    assertEquals("message_start", names.get(0), names::toString);
    assertTrue(events.get(0).json().path("message").path("content").isEmpty(), events.get(0).data());
    int at = 1;
    for (int block = 0; names.get(at).equals("content_block_start"); block++) {
      assertEquals(block, events.get(at++).json().path("index").asInt(), names::toString);
      while (names.get(at).equals("content_block_delta")) {
        assertEquals(block, events.get(at++).json().path("index").asInt(), names::toString);
      }
      assertEquals("content_block_stop", names.get(at), names::toString);
      assertEquals(block, events.get(at++).json().path("index").asInt(), names::toString);
    }
    assertEquals(List.of("message_delta", "message_stop"), names.subList(at, names.size()));
  }
}
