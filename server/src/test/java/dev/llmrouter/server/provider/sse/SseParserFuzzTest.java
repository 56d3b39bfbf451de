package dev.llmrouter.server.provider.sse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzzes the SSE parser: it never throws, and a stream split into chunks (of a size the input's first byte picks)
 * yields the same events and the same partial state as the stream fed whole. The corpus is in its Inputs folder.
 */
class SseParserFuzzTest {

  @FuzzTest(maxExecutions = 50_000)
  void sameEventsHoweverTheBytesAreSplit(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int chunkSize = 1 + (input[0] & 0x0f);
    byte[] stream = Arrays.copyOfRange(input, 1, input.length);

    List<SseEvent> whole = new ArrayList<>();
    SseParser wholeParser = new SseParser(whole::add);
    wholeParser.feed(stream);
    List<SseEvent> chunked = new ArrayList<>();
    SseParser chunkedParser = new SseParser(chunked::add);
    for (int i = 0; i < stream.length; i += chunkSize) {
      chunkedParser.feed(Arrays.copyOfRange(stream, i, Math.min(stream.length, i + chunkSize)));
    }

    assertEquals(whole, chunked);
    assertEquals(wholeParser.hasPartialEvent(), chunkedParser.hasPartialEvent());
  }
}
