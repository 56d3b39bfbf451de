package dev.llmrouter.cassettes;

import static dev.llmrouter.cassettes.Fixtures.answer;
import static dev.llmrouter.cassettes.Fixtures.cassette;
import static dev.llmrouter.cassettes.Fixtures.sampleCassette;
import static dev.llmrouter.cassettes.Fixtures.textDelta;
import static dev.llmrouter.cassettes.Fixtures.userRequest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class CassetteCodecTest {

  private static final Path PATH = Path.of("cassettes", "default", "0123456789abcdef.json");

  @Test
  void readGivesBackWhatWasWritten() throws Exception {
    Cassette cassette = sampleCassette();

    assertEquals(cassette, CassetteCodec.read(CassetteCodec.write(cassette), PATH));
  }

  @Test
  void writingIsByteIdenticalEveryTime() throws Exception {
    Cassette cassette = sampleCassette();
    byte[] written = CassetteCodec.write(cassette);

    assertArrayEquals(written, CassetteCodec.write(cassette));
    assertArrayEquals(written, CassetteCodec.write(CassetteCodec.read(written, PATH)));
  }

  @Test
  void fileLayoutIsFixed() {
    Cassette cassette = cassette(userRequest("Hi"), List.of(textDelta("Hello!")));

    String expected = """
        {
          "format_version": 2,
          "key": "%s",
          "served_by": {
            "provider": "openai",
            "model": "gpt-4o-mini"
          },
          "request": {
            "messages": [
              {
                "parts": [
                  {
                    "text": "Hi"
                  }
                ],
                "role": "ROLE_USER"
              }
            ],
            "model": "openai/gpt-4o-mini"
          },
          "takes": [
            {
              "events": [
                {
                  "text_delta": {
                    "text": "Hello!"
                  }
                }
              ]
            }
          ]
        }
        """.formatted(cassette.key());
    assertEquals(expected, new String(CassetteCodec.write(cassette), StandardCharsets.UTF_8));
  }

  @Test
  void eventsKeepProtoFieldNamesAndNothingVolatileIsAdded() {
    String text = new String(CassetteCodec.write(sampleCassette()), StandardCharsets.UTF_8);

    assertTrue(text.startsWith("{\n  \"format_version\": 2,\n  \"key\": \""));
    assertTrue(text.contains("\"finish_reason\": \"FINISH_REASON_STOP\""));
    assertTrue(text.contains("\"cost_usd\": 1.23E-5"));
    assertFalse(text.contains("\r"));
    assertFalse(text.contains("offsets_ms"));
    assertTrue(text.endsWith("}\n") && !text.endsWith("\n\n"));
  }

  @Test
  void timingIsWrittenOnlyWhenRecorded() throws Exception {
    Cassette base = sampleCassette();
    Cassette timed = new Cassette(base.formatVersion(), base.key(), base.request(), base.normalizedRequest(), base.servedBy(),
        List.of(new Cassette.Take(answer("Hello!"), List.of(0L, 250L, 900L, 901L))));

    byte[] written = CassetteCodec.write(timed);

    assertTrue(new String(written, StandardCharsets.UTF_8).contains("\"offsets_ms\": [\n        0,\n"));
    assertEquals(timed, CassetteCodec.read(written, PATH));
  }

  @Test
  void truncatedJsonIsReportedWithPathAndLine() {
    byte[] written = CassetteCodec.write(sampleCassette());
    byte[] truncated = java.util.Arrays.copyOf(written, written.length / 2);

    CorruptCassetteException e = assertThrows(CorruptCassetteException.class,
        () -> CassetteCodec.read(truncated, PATH));

    assertEquals(PATH, e.path());
    assertTrue(e.getMessage().contains(PATH.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("invalid JSON at line "), e.getMessage());
  }

  @Test
  void emptyFileIsCorrupt() {
    CorruptCassetteException e = assertThrows(CorruptCassetteException.class,
        () -> CassetteCodec.read(new byte[0], PATH));

    assertTrue(e.getMessage().contains("empty"), e.getMessage());
  }

  @Test
  void aVersionNewerThanThisCodeIsNamedWithItsFile() {
    String text = new String(CassetteCodec.write(sampleCassette()), StandardCharsets.UTF_8)
        .replace("\"format_version\": 2", "\"format_version\": 3");

    CorruptCassetteException e = assertThrows(CorruptCassetteException.class,
        () -> CassetteCodec.read(text.getBytes(StandardCharsets.UTF_8), PATH));

    assertEquals("corrupt cassette " + PATH + ": unsupported format version 3: this version of llm-router reads "
        + "versions 1 to 2; the file was written by a newer llm-router: upgrade this one", e.getMessage());
  }

  @Test
  void aVersion1FileIsReadWithItsVersionAndWrittenAsVersion2() throws Exception {
    byte[] version2 = CassetteCodec.write(sampleCassette());
    String version1 = new String(version2, StandardCharsets.UTF_8)
        .replace("\"format_version\": 2", "\"format_version\": 1");

    Cassette read = CassetteCodec.read(version1.getBytes(StandardCharsets.UTF_8), PATH);

    assertEquals(1, read.formatVersion());
    assertArrayEquals(version2, CassetteCodec.write(read));
  }

  @Test
  void theNormalizedRequestFollowsTheRequestAndReadsBack() throws Exception {
    MatchRule date = MatchRule.replace("cassettes.match.0", "*", java.util.regex.Pattern.compile("\\d{4}-\\d{2}-\\d{2}"),
        "<date>");
    CanonicalRequest request = CanonicalRequest.of(userRequest("Today is 2025-06-01.")).normalizedBy(List.of(date));
    Cassette cassette = Cassette.of(request, new Cassette.ServedBy("openai", "gpt-4o-mini"),
        List.of(new Cassette.Take(List.of(textDelta("Noted.")), List.of())));

    byte[] written = CassetteCodec.write(cassette);
    String text = new String(written, StandardCharsets.UTF_8);

    assertTrue(text.indexOf("\"text\": \"Today is 2025-06-01.\"") < text.indexOf("\"normalized_request\": {"), text);
    assertTrue(text.indexOf("\"text\": \"Today is <date>.\"") > text.indexOf("\"normalized_request\": {"), text);
    assertTrue(text.indexOf("\"normalized_request\": {") < text.indexOf("\"takes\": ["), text);
    assertEquals(cassette, CassetteCodec.read(written, PATH));
    assertEquals(request.key(), CanonicalRequest.keyOf(CassetteCodec.read(written, PATH).keyedRequest()));
  }

  @Test
  void missingFieldIsNamed() {
    String text = "{\"format_version\": 1, \"key\": \"" + sampleCassette().key() + "\", \"request\": {},"
        + " \"takes\": []}";

    CorruptCassetteException e = assertThrows(CorruptCassetteException.class,
        () -> CassetteCodec.read(text.getBytes(StandardCharsets.UTF_8), PATH));

    assertTrue(e.getMessage().contains("missing field \"served_by\""), e.getMessage());
  }

  @Test
  void invalidEventIsNamedByPosition() {
    String text = new String(CassetteCodec.write(sampleCassette()), StandardCharsets.UTF_8)
        .replace("\"text_delta\"", "\"txt_delta\"");

    CorruptCassetteException e = assertThrows(CorruptCassetteException.class,
        () -> CassetteCodec.read(text.getBytes(StandardCharsets.UTF_8), PATH));

    assertTrue(e.getMessage().contains("\"takes[0].events[1]\" is not a valid ChatEvent"), e.getMessage());
  }
}
