package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.UpstreamErrors;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.sse.SseParser;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The property every answer decoder's fuzz test checks: whatever a 200 answer holds, the decoder ends the stream with
 * `done` (after a start) or with a {@code CallError}, and never throws anything else out. The input is fed as
 * {@code UpstreamHttpCall} feeds it: its first byte picks a JSON body (odd) or an event stream (even), the rest is
 * the body.
 */
public final class DecoderFuzzing {

  private DecoderFuzzing() {
  }

  /** Decodes {@code input} with the decoder {@code decoderFor} makes, and checks the property. */
  public static void checkAnswer(byte[] input, Function<ChatEventStream, UpstreamHttpCall.Decoder> decoderFor) {
    byte[] body = input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
    checkAnswer(decoderFor, (decoder, decode) -> {
      if (input.length > 0 && (input[0] & 1) == 1) {
        decode.accept(() -> decoder.onJson(UpstreamHttpCall.parseJson(Buffer.buffer(body))));
      } else {
        SseParser parser = new SseParser(event -> decode.accept(() -> decoder.onEvent(event)));
        parser.feed(body);
        decode.accept(() -> decoder.onStreamEnd(parser.hasPartialEvent()));
      }
    });
  }

  /**
   * Checks the property of an answer that {@code feed} gives the decoder, each decoding step run through the
   * consumer it is handed (as {@code UpstreamHttpCall} runs them), for an answer in another framing.
   */
  public static void checkAnswer(Function<ChatEventStream, UpstreamHttpCall.Decoder> decoderFor,
      BiConsumer<UpstreamHttpCall.Decoder, Consumer<Step>> feed) {
    ChatEventStream answer = new ChatEventStream();
    List<ChatEvent> events = new ArrayList<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    answer.handler(events::add);
    answer.exceptionHandler(failure::set);
    feed.accept(decoderFor.apply(answer), step -> decode(answer, step));
    assertTrue(answer.isClosed(), "the answer ended");
    if (failure.get() != null) {
      assertTrue(failure.get() instanceof CallError, "failed with a CallError: " + failure.get());
    } else {
      assertTrue(events.get(0).hasStart(), "a whole answer begins with start: " + events);
      assertEquals(1, events.stream().filter(ChatEvent::hasDone).count(), "one done: " + events);
      assertTrue(events.get(events.size() - 1).hasDone(), "done comes last: " + events);
    }
  }

  /**
   * Feeds {@code body} to the decoder in pieces of {@code chunk} bytes, as a binary stream arrives, then ends the
   * stream: for {@link #checkAnswer(Function, BiConsumer)} over a framing of bytes (Bedrock's event stream).
   */
  public static void feedInChunks(UpstreamHttpCall.Decoder decoder, Consumer<Step> decode, byte[] body, int chunk) {
    for (int at = 0; at < body.length; at += chunk) {
      byte[] piece = Arrays.copyOfRange(body, at, Math.min(body.length, at + chunk));
      decode.accept(() -> decoder.onChunk(Buffer.buffer(piece)));
    }
    decode.accept(() -> decoder.onStreamEnd(false));
  }

  /** One decoding step, which may find the answer unreadable. */
  public interface Step {
    void run() throws IOException;
  }

  // As UpstreamHttpCall: a CallError thrown by the decoder fails the answer, a body that is not JSON is malformed.
  private static void decode(ChatEventStream answer, Step step) {
    if (answer.isClosed()) {
      return;
    }
    try {
      step.run();
    } catch (CallError error) {
      answer.fail(error);
    } catch (IOException notJson) {
      answer.fail(UpstreamErrors.malformed("fuzzed", notJson.getMessage()));
    }
  }
}
