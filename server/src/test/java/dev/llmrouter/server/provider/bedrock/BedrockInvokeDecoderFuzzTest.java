package dev.llmrouter.server.provider.bedrock;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.anthropic.AnthropicFormat;
import dev.llmrouter.server.provider.bedrock.internal.BedrockInvokeDecoder;
import dev.llmrouter.server.testing.BedrockEventStream;
import dev.llmrouter.server.testing.DecoderFuzzing;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Fuzzes the InvokeModel (Anthropic Messages) decoder with {@link DecoderFuzzing}'s property; the corpus is in its
 * Inputs folder. The first byte of an input picks what the rest is: a JSON answer (even), or the frames of an
 * InvokeModelWithResponseStream answer (odd), encoded with valid checksums by the AWS SDK: lines whose first
 * character picks the frame, a `chunk` carrying the rest of the line in base64 as Bedrock does (0), a `chunk` whose
 * payload is the rest as it stands (1), or an exception (2). A stream is fed in chunks of 1 to 16 bytes.
 */
class BedrockInvokeDecoderFuzzTest {

  @FuzzTest(maxExecutions = 20_000)
  void endsWithDoneOrACallError(byte[] input) {
    boolean stream = input.length > 0 && Math.floorMod(input[0], 2) == 1;
    byte[] rest = input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
    int chunk = input.length == 0 ? 1 : Math.floorMod(input[0], 16) + 1;
    DecoderFuzzing.checkAnswer(answer -> new BedrockInvokeDecoder("bedrock", AnthropicFormat.answerDecoder("bedrock",
        answer)), (decoder, decode) -> {
          if (!stream) {
            decode.accept(() -> decoder.onJson(UpstreamHttpCall.parseJson(Buffer.buffer(rest))));
            return;
          }
          byte[] body = frames(new String(rest, StandardCharsets.UTF_8));
          DecoderFuzzing.feedInChunks(decoder, decode, body, chunk);
        });
  }

  private static byte[] frames(String lines) {
    List<BedrockEventStream.Frame> frames = new ArrayList<>();
    for (String line : lines.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      String rest = line.substring(1);
      frames.add(switch (Math.floorMod(line.charAt(0) - '0', 3)) {
        case 0 -> BedrockEventStream.event("chunk", "{\"bytes\":\""
            + Base64.getEncoder().encodeToString(rest.getBytes(StandardCharsets.UTF_8)) + "\"}");
        case 1 -> BedrockEventStream.event("chunk", rest);
        default -> new BedrockEventStream.Frame("exception", "throttlingException", rest);
      });
    }
    return BedrockEventStream.encode(frames);
  }
}
