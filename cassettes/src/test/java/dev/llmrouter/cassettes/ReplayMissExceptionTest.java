package dev.llmrouter.cassettes;

import static dev.llmrouter.cassettes.Fixtures.userRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReplayMissExceptionTest {

  private static final String HOW_TO_RECORD = "to record it, run the router with --mode record (or auto), "
      + "or send metadata x-cassette-mode: record where overrides are allowed";

  @Test
  void messageNamesTheClosestCassetteAndItsDifferences() {
    CanonicalRequest request = CanonicalRequest.of(userRequest("Hello"));
    Path closestPath = Path.of("cassettes", "suite", "0123456789abcdef.json");
    CassetteStore.ClosestMatch closest = new CassetteStore.ClosestMatch(closestPath, "0".repeat(64),
        List.of("messages[0].parts[0].text: \"Hi\" -> \"Hello\""));

    ReplayMissException miss = ReplayMissException.of("suite", request, Optional.of(closest));

    assertEquals("no cassette for key " + request.key() + " in scope \"suite\" (file suite/"
        + request.shortKey() + ".json)\n"
        + "closest cassette: " + closestPath + "\n"
        + "differences (recorded -> requested):\n"
        + "  messages[0].parts[0].text: \"Hi\" -> \"Hello\"\n"
        + "no match rule changed this request\n"
        + HOW_TO_RECORD, miss.getMessage());
    assertEquals("suite", miss.scope());
    assertEquals(request.key(), miss.key());
    assertEquals(Optional.of(closest), miss.closest());
  }

  @Test
  void messageSaysWhenTheScopeIsEmpty() {
    CanonicalRequest request = CanonicalRequest.of(userRequest("Hello"));

    ReplayMissException miss = ReplayMissException.of("default", request, Optional.empty());

    assertEquals("no cassette for key " + request.key() + " in scope \"default\" (file default/"
        + request.shortKey() + ".json)\n"
        + "the scope has no cassettes\n"
        + "no match rule changed this request\n"
        + HOW_TO_RECORD, miss.getMessage());
    assertEquals(Optional.empty(), miss.closest());
  }
}
