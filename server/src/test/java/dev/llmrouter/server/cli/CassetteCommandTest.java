package dev.llmrouter.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatDone;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatStart;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.Embedding;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.TextDelta;
import dev.llmrouter.cassettes.CanonicalEmbedRequest;
import dev.llmrouter.cassettes.CanonicalRequest;
import dev.llmrouter.cassettes.Cassette;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.cassettes.Redactor;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.RunningRouter;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The `cassettes` command line over cassettes written by the real store, and `--track-usage` in the server. */
class CassetteCommandTest {

  private static final String PARIS = "What is the capital of France?";
  private static final String LONG_QUESTION = "Explain, in three short paragraphs and\nwith one example each, why "
      + "the sky is blue at noon";

  @TempDir
  Path dir;

  private CassetteStore store() {
    return new CassetteStore(dir, 1 << 20, Redactor.defaults());
  }

  private static ChatRequest ask(String text) {
    return ChatRequest.newBuilder().setModel("openai/gpt-4o-mini")
        .addMessages(message(Role.ROLE_SYSTEM, "Be brief."))
        .addMessages(message(Role.ROLE_USER, text))
        .build();
  }

  private static Message message(Role role, String text) {
    return Message.newBuilder().setRole(role).addParts(Part.newBuilder().setText(text)).build();
  }

  /** Writes a cassette as the server records it (redacted by the store) and returns its key. */
  private String record(String scope, ChatRequest request, String answer) throws Exception {
    ChatResponse response = ChatResponse.newBuilder().setId("chatcmpl-1").setModel("gpt-4o-mini-2024-07-18")
        .setProvider("openai").setMessage(message(Role.ROLE_ASSISTANT, answer))
        .setFinishReason(FinishReason.FINISH_REASON_STOP).build();
    List<ChatEvent> events = List.of(
        ChatEvent.newBuilder().setStart(ChatStart.newBuilder().setId("chatcmpl-1")
            .setModel("gpt-4o-mini-2024-07-18").setProvider("openai")).build(),
        ChatEvent.newBuilder().setTextDelta(TextDelta.newBuilder().setText(answer)).build(),
        ChatEvent.newBuilder().setDone(ChatDone.newBuilder().setResponse(response)).build());
    Cassette cassette = Cassette.of(CanonicalRequest.of(request),
        new Cassette.ServedBy("openai", "gpt-4o-mini-2024-07-18"), List.of(new Cassette.Take(events, List.of())));
    store().write(scope, cassette);
    return cassette.key();
  }

  private Path fileOf(String scope, String key) {
    return store().pathOf(scope, key);
  }

  private static String shortKey(String key) {
    return key.substring(0, 16);
  }

  private record Run(int exitCode, String out, String err) {
    List<String> lines() {
      return out.lines().toList();
    }
  }

  private Run cassettes(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> withDir = Stream.concat(Arrays.stream(args), Stream.of("--cassettes", dir.toString())).toList();
    int exitCode = CassetteCommand.run(withDir, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void listPrintsOneSortedLinePerCassette() throws Exception {
    String paris = record("suite-b", ask(PARIS), "Paris.");
    String sky = record("suite-a/test1", ask(LONG_QUESTION), "Rayleigh scattering.");
    String hello = record("default", ask("Hi"), "Hello!");

    Run run = cassettes("list");

    assertEquals(0, run.exitCode(), run.err());
    assertEquals(List.of(
        "default  " + shortKey(hello) + "  openai/gpt-4o-mini-2024-07-18  Hi",
        "suite-a/test1  " + shortKey(sky) + "  openai/gpt-4o-mini-2024-07-18  "
            + "Explain, in three short paragraphs and with one example each",
        "suite-b  " + shortKey(paris) + "  openai/gpt-4o-mini-2024-07-18  " + PARIS), run.lines());
    assertEquals(List.of("suite-b  " + shortKey(paris) + "  openai/gpt-4o-mini-2024-07-18  " + PARIS),
        cassettes("list", "suite-b").lines());
  }

  @Test
  void showFindsACassetteByFullKeyShortKeyOrPrefix() throws Exception {
    String key = record("suite", ask(PARIS), "Paris.");
    record("suite", ask("Hi"), "Hello!");
    Path file = fileOf("suite", key);
    String expected = file + "\n" + Files.readString(file);

    for (String given : List.of(key, shortKey(key), key.substring(0, 8), key.toUpperCase())) {
      Run run = cassettes("show", given);
      assertEquals(0, run.exitCode(), given + ": " + run.err());
      assertEquals(expected, run.out(), given);
    }
  }

  @Test
  void showFailsOnAnUnknownOrAmbiguousKey() throws Exception {
    String key = record("suite-a", ask(PARIS), "Paris.");
    record("suite-b", ask(PARIS), "Paris.");
    String unknown = key.startsWith("0") ? "1111111111" : "0000000000";

    Run missing = cassettes("show", unknown);
    assertEquals(1, missing.exitCode());
    assertEquals("", missing.out());
    assertTrue(missing.err().contains("no cassette in " + dir + " has a key starting with " + unknown), missing.err());

    Run ambiguous = cassettes("show", shortKey(key));
    assertEquals(1, ambiguous.exitCode());
    assertEquals("", ambiguous.out());
    assertTrue(ambiguous.err().contains(shortKey(key) + " matches 2 cassettes"), ambiguous.err());
    assertTrue(ambiguous.err().contains(fileOf("suite-a", key).toString()), ambiguous.err());
    assertTrue(ambiguous.err().contains(fileOf("suite-b", key).toString()), ambiguous.err());

    assertEquals(2, cassettes("show", "abc").exitCode(), "too short to be a key");
  }

  @Test
  void verifyPassesWhenEveryKeyMatchesItsRequestAndFileName() throws Exception {
    record("default", ask(PARIS), "Paris.");
    record("suite/test", ask(LONG_QUESTION), "Rayleigh scattering.");
    record("suite/test", ask("Hi").toBuilder().addMessages(message(Role.ROLE_ASSISTANT, "Hello!"))
        .addMessages(message(Role.ROLE_USER, "Again")).build(), "Hello again!");

    Run run = cassettes("verify");

    assertEquals(0, run.exitCode(), run.out());
    assertEquals(List.of("verified 3 cassettes, 0 problems, 0 warnings"), run.lines());
  }

  @Test
  void anEmbeddingCassetteIsListedByItsFirstInputAndVerifies() throws Exception {
    EmbedRequest request = EmbedRequest.newBuilder().setModel("openai/text-embedding-3-small")
        .addInputs(EmbedInput.newBuilder().setText("The food was delicious")).build();
    EmbedResponse response = EmbedResponse.newBuilder().setModel("text-embedding-3-small").setProvider("openai")
        .addEmbeddings(Embedding.newBuilder().addValues(0.5f).addValues(-1f)).build();
    Cassette cassette = Cassette.of(CanonicalEmbedRequest.of(request),
        new Cassette.ServedBy("openai", "text-embedding-3-small"), List.of(Cassette.Take.of(response)));
    store().write("default", cassette);

    assertEquals(List.of("default  " + shortKey(cassette.key()) + "  openai/text-embedding-3-small  The food was "
        + "delicious"), cassettes("list").lines());
    assertEquals(List.of("verified 1 cassettes, 0 problems, 0 warnings"), cassettes("verify").lines());
  }

  @Test
  void verifyReportsTamperedTruncatedAndMisplacedFiles() throws Exception {
    String tampered = record("suite", ask(PARIS), "Paris.");
    String truncated = record("suite", ask("Hi"), "Hello!");
    String moved = record("suite", ask(LONG_QUESTION), "Rayleigh scattering.");
    Path tamperedFile = fileOf("suite", tampered);
    Files.writeString(tamperedFile, Files.readString(tamperedFile).replace(PARIS, "What is the capital of Italy?"));
    Path truncatedFile = fileOf("suite", truncated);
    byte[] bytes = Files.readAllBytes(truncatedFile);
    Files.write(truncatedFile, Arrays.copyOf(bytes, bytes.length / 2));
    Path misplacedFile = dir.resolve("suite").resolve("0123456789abcdef.json");
    Files.move(fileOf("suite", moved), misplacedFile);
    record("suite", ask("Good"), "Fine.");

    Run run = cassettes("verify");

    assertEquals(1, run.exitCode());
    String computed = CanonicalRequest.of(ask("What is the capital of Italy?")).key();
    assertTrue(run.out().contains("KEY MISMATCH " + tamperedFile + ": stored " + tampered + " computed " + computed
        + "\n"), run.out());
    assertTrue(run.out().contains("CORRUPT " + truncatedFile + ": invalid JSON at line "), run.out());
    assertTrue(run.out().contains("MISPLACED " + misplacedFile + ": file name does not match key\n"), run.out());
    assertEquals(4, run.lines().size(), run.out());
    assertEquals("verified 4 cassettes, 3 problems, 0 warnings", run.lines().get(3));
  }

  @Test
  void verifyOnlyWarnsAboutARedactedRequest() throws Exception {
    String key = record("suite", ask("My key is sk-proj-abcdefghijklmnopqrstuvwxyz012345, is it valid?"), "No.");
    assertTrue(Files.readString(fileOf("suite", key)).contains(Redactor.REPLACEMENT));

    Run run = cassettes("verify");

    assertEquals(0, run.exitCode(), run.out());
    assertEquals(List.of(
        "REDACTED " + fileOf("suite", key) + ": key cannot be recomputed because the request was redacted",
        "verified 1 cassettes, 0 problems, 1 warnings"), run.lines());
  }

  @Test
  void pruneDeletesExactlyTheCassettesTheUsageFileDoesNotList() throws Exception {
    String used = record("suite/a", ask(PARIS), "Paris.");
    String unusedInUsedScope = record("suite/a", ask("Hi"), "Hello!");
    String unused = record("suite/b", ask(PARIS), "Paris.");
    String alsoUsed = record("default", ask("Hi"), "Hello!");
    Path usage = dir.resolve("usage.txt");
    Files.writeString(usage, "suite/a/" + shortKey(used) + ".json\n\ndefault/" + shortKey(alsoUsed) + ".json\n");

    Run dryRun = cassettes("prune", "--unused", "--usage", usage.toString(), "--dry-run");
    assertEquals(0, dryRun.exitCode(), dryRun.err());
    assertTrue(Files.exists(fileOf("suite/a", unusedInUsedScope)) && Files.exists(fileOf("suite/b", unused)));
    assertEquals(List.of("would delete " + fileOf("suite/a", unusedInUsedScope),
        "would delete " + fileOf("suite/b", unused), "would delete 2 of 4 cassettes, kept 2"), dryRun.lines());

    Run run = cassettes("prune", "--unused", "--usage", usage.toString());

    assertEquals(0, run.exitCode(), run.err());
    assertEquals(List.of("deleted " + fileOf("suite/a", unusedInUsedScope), "deleted " + fileOf("suite/b", unused),
        "deleted 2 of 4 cassettes, kept 2"), run.lines());
    assertEquals(List.of(fileOf("default", alsoUsed), fileOf("suite/a", used)),
        store().list(null).stream().map(CassetteStore.CassetteSummary::path).toList());
  }

  @Test
  void pruneRefusesWithoutUnusedOrAUsageFile() throws Exception {
    String key = record("suite", ask(PARIS), "Paris.");
    Path usage = dir.resolve("usage.txt");
    Files.writeString(usage, "");

    Run withoutUnused = cassettes("prune", "--usage", usage.toString());
    Run withoutUsage = cassettes("prune", "--unused");
    Run missingUsageFile = cassettes("prune", "--unused", "--usage", usage + ".missing");

    assertEquals(2, withoutUnused.exitCode());
    assertTrue(withoutUnused.err().contains("give --unused --usage FILE"), withoutUnused.err());
    assertEquals(2, withoutUsage.exitCode());
    assertTrue(withoutUsage.err().contains("needs --usage FILE"), withoutUsage.err());
    assertEquals(2, missingUsageFile.exitCode());
    assertTrue(missingUsageFile.err().contains("usage file " + usage + ".missing does not exist"),
        missingUsageFile.err());
    assertTrue(Files.exists(fileOf("suite", key)), "nothing deleted");
  }

  @Test
  void badCommandLinesExitWithTwoAndHelpPrintsTheUsage() {
    assertEquals(2, cassettes().exitCode());
    assertEquals(2, cassettes("rewind").exitCode());
    assertEquals(2, cassettes("list", "--dry-run").exitCode());
    assertEquals(2, cassettes("verify", "extra").exitCode());
    assertEquals(2, cassettes("list", "../outside").exitCode());
    assertEquals(2, CassetteCommand.run(List.of("list", "--cassettes", dir.resolve("missing").toString()),
        new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream())));
    Run help = cassettes("--help");
    assertEquals(0, help.exitCode());
    assertEquals(CassetteCommand.USAGE, help.out());
  }

  @Test
  void theServerTracksEachCassetteThatAnswersOnce() throws Exception {
    String key = record("default", ask(PARIS), "Paris.");
    record("default", ask("Hi"), "Hello!");
    Path usage = dir.resolve("usage.txt");
    RouterConfig config = ConfigLoader.parse("""
        cassettes: { dir: "%s", mode: replay }
        providers:
          - { name: openai, type: openai, base_url: "http://127.0.0.1:9/v1" }
        """.formatted(dir), variable -> null);
    config = config.withCassettes(config.cassettes().withUsageFile(usage.toString()));
    Vertx vertx = Vertx.vertx();
    try (RunningRouter router = RunningRouter.start(vertx, config)) {
      ChatResponse first = router.chat().chat(ask(PARIS));
      router.chat().chat(ask(PARIS));
      router.chat().streamChat(ask(PARIS)).forEachRemaining(event -> { });

      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, first.getOrigin().getCassette());
      String expected = "default/" + shortKey(key) + ".json\n";
      String listed = Await.poll(Duration.ofSeconds(5), () -> Files.exists(usage) ? Files.readString(usage) : "",
          expected::equals);
      assertEquals(expected, listed);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
    Run prune = cassettes("prune", "--unused", "--usage", usage.toString());
    assertEquals(0, prune.exitCode(), prune.err());
    assertEquals(List.of(fileOf("default", key)),
        store().list(null).stream().map(CassetteStore.CassetteSummary::path).toList());
    assertFalse(prune.out().contains(fileOf("default", key).toString()), prune.out());
  }
}
