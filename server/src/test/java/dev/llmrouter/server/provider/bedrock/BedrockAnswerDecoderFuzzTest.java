package dev.llmrouter.server.provider.bedrock;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.bedrock.internal.BedrockAnswerDecoder;
import dev.llmrouter.server.testing.BedrockEventStream;
import dev.llmrouter.server.testing.DecoderFuzzing;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzzes the Bedrock answer decoder with {@link DecoderFuzzing}'s property; the corpus is in its Inputs folder. The
 * first byte of an input picks what the rest is: a JSON answer (0), raw event-stream bytes (1), which the frame
 * checksums mostly refuse, or the frames of an event stream (2), encoded with valid checksums by the AWS SDK so that
 * their payloads reach the decoder: lines whose first character picks the event type (0-5, or 6 for an exception)
 * and whose rest is the payload. A stream is fed in chunks of 1 to 16 bytes, as the network may cut it.
 */
class BedrockAnswerDecoderFuzzTest {

  private static final List<String> EVENT_TYPES = List.of("messageStart", "contentBlockStart", "contentBlockDelta",
      "contentBlockStop", "messageStop", "metadata");

  @FuzzTest(maxExecutions = 20_000)
  void endsWithDoneOrACallError(byte[] input) {
    int mode = input.length == 0 ? 0 : Math.floorMod(input[0], 3);
    byte[] rest = input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
    int chunk = input.length == 0 ? 1 : Math.floorMod(input[0], 16) + 1;
    DecoderFuzzing.checkAnswer(answer -> new BedrockAnswerDecoder("bedrock", "us.amazon.nova-micro-v1:0", answer),
        (decoder, decode) -> {
          if (mode == 0) {
            decode.accept(() -> decoder.onJson(UpstreamHttpCall.parseJson(Buffer.buffer(rest))));
            return;
          }
          byte[] stream = mode == 1 ? rest : frames(new String(rest, StandardCharsets.UTF_8));
          DecoderFuzzing.feedInChunks(decoder, decode, stream, chunk);
        });
  }

  private static byte[] frames(String lines) {
    List<BedrockEventStream.Frame> frames = new ArrayList<>();
    for (String line : lines.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      int kind = Math.floorMod(line.charAt(0) - '0', EVENT_TYPES.size() + 1);
      String payload = line.substring(1);
      frames.add(kind == EVENT_TYPES.size() ? new BedrockEventStream.Frame("exception", "throttlingException", payload)
          : new BedrockEventStream.Frame("event", EVENT_TYPES.get(kind), payload));
    }
    return BedrockEventStream.encode(frames);
  }
}
