package dev.llmrouter.server.provider.openai;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.llmrouter.server.provider.openai.internal.OpenAiAnswerDecoder;
import dev.llmrouter.server.testing.DecoderFuzzing;

/** Fuzzes the OpenAI answer decoder with {@link DecoderFuzzing}'s property; the corpus is in its Inputs folder. */
class OpenAiAnswerDecoderFuzzTest {

  @FuzzTest(maxExecutions = 20_000)
  void endsWithDoneOrACallError(byte[] input) {
    DecoderFuzzing.checkAnswer(input, answer -> new OpenAiAnswerDecoder("openai", answer));
  }
}
