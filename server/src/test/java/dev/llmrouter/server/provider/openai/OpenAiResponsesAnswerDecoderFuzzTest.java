package dev.llmrouter.server.provider.openai;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.llmrouter.server.provider.openai.internal.ResponsesAnswerDecoder;
import dev.llmrouter.server.testing.DecoderFuzzing;

/**
 * Fuzzes the OpenAI Responses answer decoder with {@link DecoderFuzzing}'s property; the corpus (the project's own
 * Responses wire samples) is in its Inputs folder.
 */
class OpenAiResponsesAnswerDecoderFuzzTest {

  @FuzzTest(maxExecutions = 20_000)
  void endsWithDoneOrACallError(byte[] input) {
    DecoderFuzzing.checkAnswer(input, answer -> new ResponsesAnswerDecoder("oair", answer));
  }
}
