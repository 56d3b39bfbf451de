package dev.llmrouter.cassettes;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CassetteUsageFileTest {

  @TempDir
  Path dir;

  @Test
  void anEntryIsTheCassettePathBelowTheCassetteFolder() {
    Path file = dir.resolve("suite").resolve("test").resolve("0123456789abcdef.json");

    assertEquals("suite/test/0123456789abcdef.json", CassetteUsageFile.entryOf("suite/test", file));
  }

  @Test
  void appendedEntriesAddUpAndReadBackAsASet() throws Exception {
    Path usage = dir.resolve("used.txt");

    CassetteUsageFile.append(usage, "default/0123456789abcdef.json");
    CassetteUsageFile.append(usage, "suite/fedcba9876543210.json");

    assertEquals("default/0123456789abcdef.json\nsuite/fedcba9876543210.json\n", Files.readString(usage));
    assertEquals(Set.of("default/0123456789abcdef.json", "suite/fedcba9876543210.json"),
        CassetteUsageFile.entriesIn(usage));
  }

  @Test
  void blankLinesAndSurroundingSpacesAreIgnored() throws Exception {
    Path usage = dir.resolve("used.txt");
    Files.writeString(usage, "  default/0123456789abcdef.json \n\n\t\ndefault/0123456789abcdef.json\n");

    assertEquals(Set.of("default/0123456789abcdef.json"), CassetteUsageFile.entriesIn(usage));
  }
}
