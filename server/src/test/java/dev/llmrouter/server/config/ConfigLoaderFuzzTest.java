package dev.llmrouter.server.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Fuzzes the config loader: whatever the YAML, it returns a config or throws {@link ConfigException}, nothing else.
 * The corpus is in its Inputs folder.
 */
class ConfigLoaderFuzzTest {

  private static final Map<String, String> ENVIRONMENT = Map.of("OPENAI_API_KEY", "sk-fuzz");

  @FuzzTest(maxExecutions = 20_000)
  void throwsOnlyConfigException(byte[] input) {
    try {
      ConfigLoader.parse(new String(input, StandardCharsets.UTF_8), ENVIRONMENT::get);
    } catch (ConfigException expected) {
      // the documented failure: the property holds
    }
  }
}
