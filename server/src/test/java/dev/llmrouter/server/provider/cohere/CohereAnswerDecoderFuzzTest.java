package dev.llmrouter.server.provider.cohere;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.llmrouter.server.provider.cohere.internal.CohereAnswerDecoder;
import dev.llmrouter.server.testing.DecoderFuzzing;

/** Fuzzes the Cohere answer decoder with {@link DecoderFuzzing}'s property; the corpus is in its Inputs folder. */
class CohereAnswerDecoderFuzzTest {

  @FuzzTest(maxExecutions = 20_000)
  void endsWithDoneOrACallError(byte[] input) {
    DecoderFuzzing.checkAnswer(input, answer -> new CohereAnswerDecoder("cohere", "command-a-03-2025", answer));
  }
}
