package dev.llmrouter.server.provider.gemini;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.llmrouter.server.provider.gemini.internal.GeminiAnswerDecoder;
import dev.llmrouter.server.testing.DecoderFuzzing;
import java.util.List;

/** Fuzzes the Gemini answer decoder with {@link DecoderFuzzing}'s property; the corpus is in its Inputs folder. */
class GeminiAnswerDecoderFuzzTest {

  @FuzzTest(maxExecutions = 20_000)
  void endsWithDoneOrACallError(byte[] input) {
    DecoderFuzzing.checkAnswer(input, answer -> new GeminiAnswerDecoder("gemini", answer, List.of()));
  }
}
