package dev.llmrouter.client.junit;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The test class gets a router of its own, started before its first test and stopped after its last, replaying (or,
 * with {@code -Dllmrouter.mode=record}, recording) the cassettes in {@link #cassettes}, one folder per test method:
 * see {@link LlmRouterExtension}, which a {@code @RegisterExtension} field configures in code instead.
 *
 * <pre>
 * &#64;LlmRouterTest(cassettes = "src/test/cassettes")
 * class SummarizerTest {
 *   &#64;Test
 *   void summarizesAReview(LlmRouterClient router) { ... }
 * }
 * </pre>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ExtendWith(LlmRouterExtension.class)
public @interface LlmRouterTest {

  /** The cassette folder, relative to the working directory (a Maven or Gradle module's own folder). */
  String cassettes() default LlmRouterExtension.DEFAULT_CASSETTES;

  /**
   * The router's YAML config file, relative to the working directory; empty for the router's embedded default (the
   * OpenAI, Anthropic and Gemini APIs, keys from {@code OPENAI_API_KEY}, {@code ANTHROPIC_API_KEY} and
   * {@code GEMINI_API_KEY}).
   */
  String config() default "";
}
