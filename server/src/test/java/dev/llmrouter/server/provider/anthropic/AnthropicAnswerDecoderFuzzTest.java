package dev.llmrouter.server.provider.anthropic;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.llmrouter.server.provider.anthropic.internal.AnthropicAnswerDecoder;
import dev.llmrouter.server.testing.DecoderFuzzing;

/** Fuzzes the Anthropic answer decoder with {@link DecoderFuzzing}'s property; the corpus is in its Inputs folder. */
class AnthropicAnswerDecoderFuzzTest {

  @FuzzTest(maxExecutions = 20_000)
  void endsWithDoneOrACallError(byte[] input) {
    DecoderFuzzing.checkAnswer(input, answer -> new AnthropicAnswerDecoder("anthropic", answer));
  }
}
