package dev.llmrouter.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CallerKey;
import dev.llmrouter.api.v1.KeyLimits;
import dev.llmrouter.cassettes.CassetteMode;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a key's globs and modes let through, and the shape and randomness of new keys. */
class CallerTest {

  private static Caller caller(KeyLimits limits) {
    return Caller.of(CallerKey.newBuilder().setId("key_000000000001").setName("k").setLimits(limits).build(), new byte[0], 0);
  }

  @Test
  void aGlobsStarStandsForAnyCharactersAndTheRestIsLiteral() {
    Caller caller = caller(KeyLimits.newBuilder().addModels("openai/gpt-4.1").addModels("anthropic/*")
        .addModels("*-mini").addModels("fast").build());

    assertTrue(caller.mayUse("openai/gpt-4.1"));
    assertFalse(caller.mayUse("openai/gpt-4x1"), "a dot is a dot");
    assertFalse(caller.mayUse("openai/gpt-4.1-turbo"), "a glob matches the whole name");
    assertTrue(caller.mayUse("anthropic/claude-haiku-4-5"));
    assertTrue(caller.mayUse("gemini/gemini-2.5-flash-mini"));
    assertTrue(caller.mayUse("fast"));
    assertFalse(caller.mayUse("faster"));
    assertFalse(caller(KeyLimits.newBuilder().addModels("a(b").build()).mayUse("ab"), "no regex inside a glob");
    assertTrue(caller(KeyLimits.getDefaultInstance()).mayUse("anything/at-all"), "no globs: every model");
  }

  @Test
  void aKeyRunsOnlyItsCassetteModes() {
    Caller replayOnly = caller(KeyLimits.newBuilder().addCassetteModes("replay").build());
    assertTrue(replayOnly.mayRun(CassetteMode.REPLAY));
    assertFalse(replayOnly.mayRun(CassetteMode.RECORD));
    assertFalse(replayOnly.mayRun(CassetteMode.OFF));
    assertTrue(caller(KeyLimits.getDefaultInstance()).mayRun(CassetteMode.AUTO), "no modes: every mode");
  }

  @Test
  void newKeysHaveTheirShapeAndNeverRepeat() {
    Set<String> keys = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      String key = KeySecret.generate();
      assertTrue(KeySecret.wellFormed(key), key);
      keys.add(key);
    }
    assertEquals(1000, keys.size());
    assertFalse(KeySecret.wellFormed("llmr_" + "0".repeat(42)));
    assertFalse(KeySecret.wellFormed("LLMR_" + "0".repeat(43)));
    assertEquals(64, KeySecret.hex(KeySecret.hash("llmr_x")).length());
  }
}
