package dev.llmrouter.server.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ChatDone;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.TextDelta;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.cassettes.CanonicalRequest;
import dev.llmrouter.cassettes.Cassette;
import dev.llmrouter.cassettes.CassetteCodec;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.cassettes.Redactor;
import dev.llmrouter.server.testing.CassetteRouters;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reviewing a re-recording with `cassettes diff OLD NEW` (added, removed and changed cassettes, and what changed in an
 * answer), and upgrading older files with `cassettes migrate` (in place, byte for byte what a recording writes, a second
 * run changing nothing); a version the router cannot read is named with its file, through both doors.
 */
class CassetteDiffMigrateTest {

  private static final String MODEL = "gpt-4o-mini-2024-07-18";

  @TempDir
  Path dir;

  private record Run(int exitCode, String out, String err) {
  }

  private static Run cassettes(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exitCode = CassetteCommand.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static ChatRequest ask(String text) {
    return CassetteRouters.ask(text);
  }

  /** An answer as the router records it: the text in chunks, then `done` with the whole message. */
  private static List<ChatEvent> answer(List<String> chunks, FinishReason finish, long outputTokens,
      ToolCall... calls) {
    List<ChatEvent> events = new ArrayList<>();
    chunks.forEach(chunk -> events.add(ChatEvent.newBuilder().setTextDelta(TextDelta.newBuilder().setText(chunk))
        .build()));
    Message.Builder message = Message.newBuilder().setRole(Role.ROLE_ASSISTANT).addAllToolCalls(List.of(calls));
    if (!chunks.isEmpty()) {
      message.addParts(Part.newBuilder().setText(String.join("", chunks)));
    }
    events.add(ChatEvent.newBuilder().setDone(ChatDone.newBuilder().setResponse(ChatResponse.newBuilder()
        .setModel(MODEL).setProvider("openai").setMessage(message).setFinishReason(finish)
        .setUsage(Usage.newBuilder().setInputTokens(12).setOutputTokens(outputTokens)))).build());
    return events;
  }

  private static ToolCall weather(String city) {
    return ToolCall.newBuilder().setId("call_1").setName("get_weather").setArgumentsJson("{\"city\":\"" + city + "\"}")
        .build();
  }

  private static String write(Path folder, String scope, String question, List<ChatEvent> events) throws Exception {
    Cassette cassette = Cassette.of(CanonicalRequest.of(ask(question)), new Cassette.ServedBy("openai", MODEL),
        List.of(new Cassette.Take(events, List.of())));
    new CassetteStore(folder, 0, Redactor.defaults()).write(scope, cassette);
    return scope + "/" + cassette.key().substring(0, 16) + ".json";
  }

  @Test
  void diffListsAddedRemovedAndChangedCassettesWithWhatChangedInTheirAnswers() throws Exception {
    Path old = dir.resolve("old");
    Path updated = dir.resolve("new");
    for (Path folder : List.of(old, updated)) {
      write(folder, "chat", "Same as before?", answer(List.of("Yes."), FinishReason.FINISH_REASON_STOP, 2));
    }
    String capital = write(old, "chat", "Capital of France?", answer(List.of("Paris."),
        FinishReason.FINISH_REASON_STOP, 2));
    write(updated, "chat", "Capital of France?", answer(List.of("Paris is the capital.\nIt is in France."),
        FinishReason.FINISH_REASON_LENGTH, 9));
    String tool = write(old, "tools", "Weather?", answer(List.of(), FinishReason.FINISH_REASON_TOOL_CALLS, 5,
        weather("Paris")));
    write(updated, "tools", "Weather?", answer(List.of(), FinishReason.FINISH_REASON_TOOL_CALLS, 5,
        weather("Paris, FR")));
    String chunked = write(old, "chat", "Chunked?", answer(List.of("In ", "two."), FinishReason.FINISH_REASON_STOP, 2));
    write(updated, "chat", "Chunked?", answer(List.of("In two."), FinishReason.FINISH_REASON_STOP, 2));
    String removed = write(old, "chat", "Gone?", answer(List.of("Yes."), FinishReason.FINISH_REASON_STOP, 2));
    String added = write(updated, "chat", "New?", answer(List.of("Yes."), FinishReason.FINISH_REASON_STOP, 2));

    Run diff = cassettes("diff", old.toString(), updated.toString());

    assertEquals(1, diff.exitCode(), diff.err());
    TreeMap<String, List<String>> byFile = new TreeMap<>(Map.of(
        capital, List.of("changed  " + capital + "  openai/" + MODEL + "  Capital of France?",
            "  text:",
            "    - Paris.",
            "    + Paris is the capital.",
            "    + It is in France.",
            "  finish: FINISH_REASON_STOP -> FINISH_REASON_LENGTH",
            "  usage: output_tokens 2 -> 9"),
        chunked, List.of("changed  " + chunked + "  openai/" + MODEL + "  Chunked?",
            "  the answer is the same; what differs: the streamed events (the same answer in other chunks)"),
        removed, List.of("removed  " + removed + "  openai/" + MODEL + "  Gone?"),
        added, List.of("added    " + added + "  openai/" + MODEL + "  New?"),
        tool, List.of("changed  " + tool + "  openai/" + MODEL + "  Weather?",
            "  tool call 1: get_weather {\"city\":\"Paris\"} -> get_weather {\"city\":\"Paris, FR\"}")));
    List<String> expected = new ArrayList<>();
    byFile.values().forEach(expected::addAll);
    expected.add("1 added, 1 removed, 3 changed, 1 unchanged");
    assertEquals(expected, diff.out().lines().toList());

    Run same = cassettes("diff", old.toString(), old.toString());
    assertEquals(0, same.exitCode());
    assertEquals("0 added, 0 removed, 0 changed, 5 unchanged\n", same.out());
  }

  @Test
  void migrateUpgradesOlderFilesInPlaceByteForByteAndASecondRunChangesNothing() throws Exception {
    Path folder = dir.resolve("cassettes");
    String current = write(folder, "suite", "Already current?", answer(List.of("Yes."),
        FinishReason.FINISH_REASON_STOP, 2));
    String older = write(folder, "suite", "From version 1?", answer(List.of("Yes."), FinishReason.FINISH_REASON_STOP,
        2));
    Path olderFile = folder.resolve(older);
    byte[] asRecordedToday = Files.readAllBytes(olderFile);
    Files.writeString(olderFile, Files.readString(olderFile).replace("\"format_version\": 2", "\"format_version\": 1"));
    byte[] currentBytes = Files.readAllBytes(folder.resolve(current));

    Run dryRun = cassettes("migrate", "--dry-run", "--cassettes", folder.toString());
    assertEquals("would migrate " + olderFile + ": format version 1 -> 2\n"
        + "would migrate 1 of 2 cassettes to format version 2, 1 already at it, 0 problems\n", dryRun.out());
    assertEquals(1, CassetteCodec.readFile(olderFile).formatVersion(), "a dry run changes nothing");

    Run migrated = cassettes("migrate", "--cassettes", folder.toString());
    assertEquals(0, migrated.exitCode(), migrated.err());
    assertEquals("migrated " + olderFile + ": format version 1 -> 2\n"
        + "migrated 1 of 2 cassettes to format version 2, 1 already at it, 0 problems\n", migrated.out());
    assertArrayEquals(asRecordedToday, Files.readAllBytes(olderFile), "what a recording writes today");
    assertArrayEquals(currentBytes, Files.readAllBytes(folder.resolve(current)), "a current file is left as it is");

    Run again = cassettes("migrate", "--cassettes", folder.toString());
    assertEquals("migrated 0 of 2 cassettes to format version 2, 2 already at it, 0 problems\n", again.out());
    assertArrayEquals(asRecordedToday, Files.readAllBytes(olderFile));
  }

  @Test
  void aVersionTheRouterCannotReadIsNamedWithItsFileByMigrateAndThroughBothDoors() throws Exception {
    Path folder = dir.resolve("cassettes");
    String file = write(folder, "default", "From the future?", answer(List.of("Yes."),
        FinishReason.FINISH_REASON_STOP, 2));
    Path future = folder.resolve(file);
    Files.writeString(future, Files.readString(future).replace("\"format_version\": 2", "\"format_version\": 3"));
    String unsupported = "unsupported format version 3: this version of llm-router reads versions 1 to 2; the file "
        + "was written by a newer llm-router: upgrade this one";

    Run migrate = cassettes("migrate", "--cassettes", folder.toString());
    assertEquals(1, migrate.exitCode());
    assertEquals("CORRUPT " + future + ": " + unsupported + "\n"
        + "migrated 0 of 1 cassettes to format version 2, 0 already at it, 1 problem\n", migrate.out());

    try (CassetteRouters routers = new CassetteRouters(folder)) {
      RunningRouter router = routers.router("mode: replay");
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
          () -> router.chat().chat(ask("From the future?")));
      assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
      assertTrue(refused.getStatus().getDescription().startsWith("corrupt cassette " + future + ": " + unsupported),
          refused.getStatus().getDescription());
      IngressClient.Reply sdk = new IngressClient(router.port()).post("/v1/chat/completions",
          CassetteRouters.askOpenAi("From the future?", new JsonObject()));
      assertEquals(400, sdk.status(), sdk.body());
      assertTrue(sdk.json().at("/error/message").asText().contains(future + ": " + unsupported), sdk.body());
    }
  }
}
