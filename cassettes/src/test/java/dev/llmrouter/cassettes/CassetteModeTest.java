package dev.llmrouter.cassettes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CassetteModeTest {

  @Test
  void lowerCaseNamesParse() {
    assertEquals(CassetteMode.REPLAY, CassetteMode.parse("replay"));
    assertEquals(CassetteMode.RECORD, CassetteMode.parse("record"));
    assertEquals(CassetteMode.AUTO, CassetteMode.parse("auto"));
    assertEquals(CassetteMode.OFF, CassetteMode.parse("off"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"REPLAY", "Record", "", "live", " auto"})
  void anythingElseIsRejectedNamingTheValidModes(String name) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CassetteMode.parse(name));

    assertTrue(e.getMessage().contains("replay, record, auto, off"), e.getMessage());
  }

  @Test
  void nullIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> CassetteMode.parse(null));
  }
}
