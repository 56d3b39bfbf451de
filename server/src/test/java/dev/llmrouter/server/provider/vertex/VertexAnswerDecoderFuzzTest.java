package dev.llmrouter.server.provider.vertex;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.llmrouter.server.provider.gemini.GeminiFormat;
import dev.llmrouter.server.testing.DecoderFuzzing;

/**
 * Fuzzes the generateContent decoder as Vertex AI uses it (finish reasons that may be numbers) with
 * {@link DecoderFuzzing}'s property; the corpus, numbered finish reasons in and out of range, is in its Inputs folder.
 */
class VertexAnswerDecoderFuzzTest {

  @FuzzTest(maxExecutions = 20_000)
  void endsWithDoneOrACallError(byte[] input) {
    DecoderFuzzing.checkAnswer(input, answer -> GeminiFormat.answerDecoder("vertex", answer,
        VertexAdapter.FINISH_REASONS));
  }
}
