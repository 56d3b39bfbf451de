package dev.llmrouter.cassettes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The usage file: the cassettes that answered calls, one {@code <scope>/<short key>.json} a line, as the server
 * writes it with {@code --track-usage FILE} and {@code cassettes prune --unused --usage FILE} reads it. Blank lines
 * and surrounding spaces are ignored, and appending to an existing file adds to it, so several runs add up.
 */
public final class CassetteUsageFile {

  private CassetteUsageFile() {
  }

  /** The line that stands for a cassette file of a scope: its path relative to the cassette folder. */
  public static String entryOf(String scope, Path cassetteFile) {
    return scope + "/" + cassetteFile.getFileName();
  }

  /** The cassettes listed in a usage file. */
  public static Set<String> entriesIn(Path usageFile) throws IOException {
    try (Stream<String> lines = Files.lines(usageFile)) {
      return lines.map(String::strip).filter(line -> !line.isEmpty()).collect(Collectors.toUnmodifiableSet());
    }
  }

  /** Adds one entry as a line of its own, creating the file if needed; callers keep to one writer at a time. */
  public static void append(Path usageFile, String entry) throws IOException {
    Files.writeString(usageFile, entry + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }
}
