package dev.llmrouter.server.provider.sse;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * An incremental parser for `text/event-stream`, following the WHATWG rules: lines end in CRLF, LF or CR (even when
 * a chunk boundary splits a CRLF), `:` starts a comment, `data` lines accumulate with `\n`, a blank line dispatches,
 * a leading BOM is skipped, and an event left unfinished when the stream ends is discarded. Every adapter feeds its
 * upstream bytes through one of these.
 */
public final class SseParser {

  private final Consumer<SseEvent> onEvent;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
  private final StringBuilder data = new StringBuilder();
  private String eventType = "";
  private String lastEventId = "";
  private boolean hasData;
  private boolean previousWasCr;
  private boolean atStreamStart = true;

  public SseParser(Consumer<SseEvent> onEvent) {
    this.onEvent = onEvent;
  }

  /** Feeds the next bytes of the stream; complete events are dispatched before this returns. */
  public void feed(byte[] bytes) {
    for (byte b : bytes) {
      if (previousWasCr) {
        previousWasCr = false;
        if (b == '\n') {
          continue; // second half of a CRLF
        }
      }
      if (b == '\r' || b == '\n') {
        previousWasCr = b == '\r';
        processLine(line.toString(StandardCharsets.UTF_8));
        line.reset();
      } else {
        line.write(b);
      }
    }
  }

  /** True when bytes of an unfinished event are pending: the stream was cut in the middle of an event. */
  public boolean hasPartialEvent() {
    return line.size() > 0 || hasData || !eventType.isEmpty();
  }

  private void processLine(String text) {
    if (atStreamStart) {
      atStreamStart = false;
      if (text.startsWith("\uFEFF")) {
        text = text.substring(1);
      }
    }
    if (text.isEmpty()) {
      dispatch();
      return;
    }
    if (text.startsWith(":")) {
      return; // comment, often a keep-alive
    }
    int colon = text.indexOf(':');
    String field = colon < 0 ? text : text.substring(0, colon);
    String value = colon < 0 ? "" : text.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    switch (field) {
      case "event" -> eventType = value;
      case "data" -> {
        if (hasData) {
          data.append('\n');
        }
        data.append(value);
        hasData = true;
      }
      case "id" -> {
        if (value.indexOf('\0') < 0) {
          lastEventId = value;
        }
      }
      default -> {
        // `retry` and unknown fields do not change what the router emits.
      }
    }
  }

  private void dispatch() {
    if (hasData) {
      onEvent.accept(new SseEvent(eventType.isEmpty() ? "message" : eventType, data.toString(), lastEventId));
    }
    data.setLength(0);
    hasData = false;
    eventType = "";
  }
}
