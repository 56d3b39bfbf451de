package com.example.reviews;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The cassettes are where README says: {@code <cassettes>/<test class simple name>/<test method name>/<first 16 hex
 * of the key>.json}, one folder per test method. Run after the recording, with the replay.
 */
class CassetteLayoutTest {

  @Test
  void eachTestMethodHasItsOwnCassetteFolder() throws IOException {
    assertEquals(List.of("ReviewSummarizerTest/answersOnItsOwnChannel",
        "ReviewSummarizerTest/answersOverTheOpenAiHttpApi", "ReviewSummarizerTest/summarizesAReview"),
        cassetteFolders(Path.of("target/cassettes")));
    assertEquals(List.of("QuestionAnswererTest/answersFromTheCommittedCassette"),
        cassetteFolders(Path.of("src/test/cassettes")));
  }

  /** The folders holding cassettes, relative to {@code root}, each checked to hold only files named by a key. */
  private static List<String> cassetteFolders(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      List<Path> cassettes = files.filter(Files::isRegularFile).toList();
      cassettes.forEach(file -> assertTrue(file.getFileName().toString().matches("[0-9a-f]{16}\\.json"),
          () -> file + " is not named <16 hex>.json"));
      return cassettes.stream().map(file -> root.relativize(file.getParent()).toString()).distinct().sorted().toList();
    }
  }
}
