package dev.llmrouter.cassettes;

import static dev.llmrouter.cassettes.Fixtures.answer;
import static dev.llmrouter.cassettes.Fixtures.cassette;
import static dev.llmrouter.cassettes.Fixtures.message;
import static dev.llmrouter.cassettes.Fixtures.sampleCassette;
import static dev.llmrouter.cassettes.Fixtures.userRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Role;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CassetteStoreTest {

  private static final long ONE_MEGABYTE = 1 << 20;

  @TempDir
  Path dir;

  private CassetteStore store() {
    return new CassetteStore(dir, ONE_MEGABYTE, Redactor.defaults());
  }

  @Test
  void writtenCassetteIsLoadedFromItsScopeFolder() throws Exception {
    Cassette cassette = sampleCassette();
    CassetteStore store = store();

    store.write("MyTest/testHello", cassette);

    Path file = dir.resolve("MyTest").resolve("testHello").resolve(cassette.key().substring(0, 16) + ".json");
    assertEquals(file, store.pathOf("MyTest/testHello", cassette.key()));
    assertTrue(Files.isRegularFile(file));
    assertEquals(Optional.of(cassette), store.load("MyTest/testHello", cassette.key()));
    assertEquals(Optional.of(cassette), store().load("MyTest/testHello", cassette.key()));
  }

  @Test
  void aScopeFolderThatLinksOutOfTheCassetteFolderIsNotWrittenThrough(@TempDir Path outside) throws Exception {
    Files.createDirectories(dir);
    Files.createSymbolicLink(dir.resolve("linked"), outside);
    Cassette cassette = sampleCassette();

    IOException refused = assertThrows(IOException.class, () -> store().write("linked", cassette));

    assertTrue(refused.getMessage().contains("outside the cassette folder"), refused.getMessage());
    try (Stream<Path> written = Files.list(outside)) {
      assertEquals(0, written.count(), "nothing was written through the link");
    }
  }

  @Test
  void aMissingCassetteIsEmpty() throws Exception {
    assertEquals(Optional.empty(), store().load(CassetteStore.DEFAULT_SCOPE, sampleCassette().key()));
  }

  @Test
  void atomicWritesLeaveNoTempFiles() throws Exception {
    CassetteStore store = store();
    Cassette cassette = sampleCassette();

    store.write("suite", cassette);
    store.write("suite", cassette);

    assertEquals(List.of(store.pathOf("suite", cassette.key())), filesBelow(dir));
  }

  @Test
  void concurrentWritesOfOneKeyLeaveOneValidFile() throws Exception {
    CassetteStore store = store();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> writes = new ArrayList<>();
      for (int writer = 0; writer < 32; writer++) {
        Cassette cassette = cassette(userRequest("Hi"), answer("answer " + writer));
        writes.add(pool.submit(() -> {
          store.write("default", cassette);
          return null;
        }));
      }
      for (Future<?> write : writes) {
        write.get();
      }
    } finally {
      pool.shutdown();
    }

    Path file = store.pathOf("default", sampleCassette().key());
    assertEquals(List.of(file), filesBelow(dir));
    CassetteCodec.read(Files.readAllBytes(file), file);
  }

  @Test
  void aLoadAfterWriteIsACacheHitWithoutDiskIo() throws Exception {
    CassetteStore store = store();
    Cassette cassette = sampleCassette();
    store.write("default", cassette);

    Files.delete(store.pathOf("default", cassette.key()));

    assertEquals(Optional.of(cassette), store.load("default", cassette.key()));
    assertEquals(Optional.empty(), store().load("default", cassette.key()), "a new store reads the disk");
  }

  @Test
  void aFileOfAnotherKeyWithTheSameShortKeyIsAMiss() throws Exception {
    CassetteStore store = store();
    Cassette cassette = sampleCassette();
    store.write("default", cassette);
    String sameShortKey = cassette.key().substring(0, 16) + "0".repeat(48);

    assertEquals(Optional.empty(), store.load("default", sameShortKey));
  }

  @Test
  void aCorruptFileIsReportedWithItsPath() throws Exception {
    CassetteStore store = store();
    String key = sampleCassette().key();
    Path file = store.pathOf("default", key);
    Files.createDirectories(file.getParent());
    Files.writeString(file, "{\"format_version\": 1, \"key\": ");

    CorruptCassetteException e = assertThrows(CorruptCassetteException.class, () -> store.load("default", key));

    assertEquals(file, e.path());
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"default", "ok/Test.method", "MyTest/testMethod", "a-b_c.d/e", "..a/b.."})
  void validScopes(String scope) {
    assertEquals(scope, CassetteStore.validateScope(scope));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "../x", "/abs", "a/../b", "\\abs", "C:/x", "a//b", "a/", "./a", "with space",
      "a\\b", "ü"})
  void invalidScopes(String scope) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CassetteStore.validateScope(scope));

    assertTrue(e.getMessage().contains("scope"), e.getMessage());
  }

  @Test
  void scopesHaveAtMost200Characters() {
    assertEquals(200, CassetteStore.validateScope("s".repeat(200)).length());
    assertThrows(IllegalArgumentException.class, () -> CassetteStore.validateScope("s".repeat(201)));
  }

  @Test
  void listIsSortedByScopeThenKey() throws Exception {
    CassetteStore store = store();
    Cassette hi = sampleCassette();
    Cassette bye = cassette(userRequest("Bye"), answer("Goodbye!"));
    store.write("b", hi);
    store.write("a/nested", hi);
    store.write("a", bye);
    store.write("a", hi);
    Files.writeString(dir.resolve("notes.json"), "{}");

    List<CassetteStore.CassetteSummary> all = store.list(null);

    List<String> expected = Stream.of("a/" + bye.key(), "a/" + hi.key(), "a/nested/" + hi.key(), "b/" + hi.key())
        .sorted()
        .map(scopeAndKey -> scopeAndKey.substring(0, scopeAndKey.length() - 48))
        .toList();
    assertEquals(expected, all.stream().map(summary -> summary.scope() + "/" + summary.shortKey()).toList());
    assertEquals(store.pathOf("b", hi.key()), all.get(3).path());
    assertEquals(2, store.list("a/nested").size() + store.list("b").size());
    assertEquals(List.of(), store.list("nowhere"));
  }

  @Test
  void closestNamesTheNearestCassetteAndWhatDiffers() throws Exception {
    CassetteStore store = store();
    Cassette near = sampleCassette();
    store.write("suite", near);
    store.write("suite", cassette(ChatRequest.newBuilder().setModel("anthropic/claude")
        .addMessages(message(Role.ROLE_SYSTEM, "Be terse."))
        .addMessages(message(Role.ROLE_USER, "Hello")).build(), answer("x")));
    store.write("suite/sub", cassette(ChatRequest.newBuilder().setModel("openai/gpt-4o-mini")
        .addMessages(message(Role.ROLE_USER, "Hello")).build(), answer("x")));
    Path corrupt = dir.resolve("suite").resolve("ffffffffffffffff.json");
    Files.writeString(corrupt, "not json");
    ChatRequest requested = userRequest("Hello").toBuilder()
        .setSettings(GenerationSettings.newBuilder().setTemperature(0.2)).build();

    CassetteStore.ClosestMatch closest =
        store.closest("suite", CanonicalRequest.of(requested).json()).orElseThrow();

    assertEquals(store.pathOf("suite", near.key()), closest.path());
    assertEquals(near.key(), closest.key());
    assertEquals(List.of("messages[0].parts[0].text: \"Hi\" -> \"Hello\"", "settings.temperature: (absent) -> 0.2"),
        closest.differences());
  }

  @Test
  void closestShowsAtMostTenShortLines() throws Exception {
    CassetteStore store = store();
    store.write("suite", sampleCassette());
    ChatRequest.Builder requested = userRequest("x".repeat(200)).toBuilder();
    for (int stop = 0; stop < 12; stop++) {
      requested.getSettingsBuilder().addStopSequences("stop " + stop);
    }

    List<String> lines = store.closest("suite", CanonicalRequest.of(requested.build()).json())
        .orElseThrow().differences();

    assertEquals(10, lines.size());
    assertEquals("messages[0].parts[0].text: \"Hi\" -> \"" + "x".repeat(56) + "...", lines.get(0));
    assertEquals("... and 4 more differences", lines.get(9));
  }

  @Test
  void closestInAnEmptyScopeIsEmpty() {
    assertEquals(Optional.empty(), store().closest("empty", CanonicalRequest.of(userRequest("Hi")).json()));
  }

  @Test
  void writtenBytesAreTheCodecsBytes() throws Exception {
    CassetteStore store = store();
    Cassette cassette = sampleCassette();

    store.write("default", cassette);

    assertEquals(new String(CassetteCodec.write(cassette), StandardCharsets.UTF_8),
        Files.readString(store.pathOf("default", cassette.key())));
    assertFalse(Files.readString(store.pathOf("default", cassette.key())).contains("REDACTED"));
  }

  private static List<Path> filesBelow(Path folder) throws Exception {
    try (Stream<Path> files = Files.walk(folder)) {
      return files.filter(Files::isRegularFile).toList();
    }
  }
}
