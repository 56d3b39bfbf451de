package dev.llmrouter.cassettes;

import com.github.difflib.DiffUtils;
import com.github.difflib.patch.AbstractDelta;
import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.cassettes.CassetteStore.CassetteSummary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What changed between two cassette folders, as a pull request that re-records cassettes is reviewed: the cassettes
 * added, removed and changed, and for a changed one what changed in its answer (the text, line by line; the
 * reasoning; the tool calls; the finish reason; the usage) or, when the answer is the same, what else did.
 */
public final class CassetteDiff {

  private CassetteDiff() {
  }

  /** How a cassette differs between the two folders. */
  public enum Change {
    ADDED, REMOVED, CHANGED
  }

  /**
   * One cassette that differs.
   *
   * @param file its path below the folders, {@code <scope>/<short key>.json}
   * @param summary {@code provider/model  first user text}, of the new file unless it was removed
   * @param details for a changed cassette, what changed, one line each (text lines start with {@code - } or
   *     {@code + }); empty otherwise
   */
  public record Difference(Change change, String file, String summary, List<String> details) {
    public Difference {
      details = List.copyOf(details);
    }
  }

  /** The differences, in file order, and how many cassettes are the same in both folders. */
  public record Report(List<Difference> differences, int unchanged) {
    public Report {
      differences = List.copyOf(differences);
    }

    public long count(Change change) {
      return differences.stream().filter(difference -> difference.change() == change).count();
    }
  }

  /** Compares every cassette file of two folders (blocking). */
  public static Report between(CassetteStore old, CassetteStore updated) {
    Map<String, CassetteSummary> before = byFile(old);
    Map<String, CassetteSummary> after = byFile(updated);
    TreeSet<String> files = new TreeSet<>(before.keySet());
    files.addAll(after.keySet());
    List<Difference> differences = new ArrayList<>();
    int unchanged = 0;
    for (String file : files) {
      CassetteSummary was = before.get(file);
      CassetteSummary is = after.get(file);
      if (was == null) {
        differences.add(new Difference(Change.ADDED, file, is.describe(), List.of()));
      } else if (is == null) {
        differences.add(new Difference(Change.REMOVED, file, was.describe(), List.of()));
      } else if (Arrays.equals(bytes(was), bytes(is))) {
        unchanged++;
      } else {
        differences.add(new Difference(Change.CHANGED, file, is.describe(), changes(was, is)));
      }
    }
    return new Report(differences, unchanged);
  }

  private static Map<String, CassetteSummary> byFile(CassetteStore store) {
    return store.list(null).stream().collect(Collectors.toMap(
        summary -> summary.scope() + "/" + summary.shortKey() + ".json", Function.identity()));
  }

  private static byte[] bytes(CassetteSummary summary) {
    try {
      return Files.readAllBytes(summary.path());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + summary.path(), e);
    }
  }

  /** What changed in a cassette whose bytes differ. */
  private static List<String> changes(CassetteSummary was, CassetteSummary is) {
    Cassette before;
    Cassette after;
    try {
      before = CassetteCodec.readFile(was.path());
      after = CassetteCodec.readFile(is.path());
    } catch (CorruptCassetteException e) {
      return List.of("cannot be compared: " + e.getMessage());
    }
    List<String> lines = new ArrayList<>();
    String servedBefore = before.servedBy().provider() + "/" + before.servedBy().model();
    String servedAfter = after.servedBy().provider() + "/" + after.servedBy().model();
    if (!servedBefore.equals(servedAfter)) {
      lines.add("served by: " + servedBefore + " -> " + servedAfter);
    }
    if (before.takes().size() != after.takes().size()) {
      lines.add("takes: " + before.takes().size() + " -> " + after.takes().size());
    }
    int takes = Math.min(before.takes().size(), after.takes().size());
    for (int take = 0; take < takes; take++) {
      String prefix = takes > 1 ? "take " + (take + 1) + ": " : "";
      answerChanges(answerOf(before.takes().get(take)), answerOf(after.takes().get(take)))
          .forEach(line -> lines.add(line.startsWith(" ") ? line : prefix + line));
    }
    if (lines.isEmpty()) {
      lines.add("the answer is the same; what differs: " + String.join(", ", otherChanges(before, after)));
    }
    return lines;
  }

  /** The complete answer a take ends with (its `done` response); empty when it has none. */
  private static ChatResponse answerOf(Cassette.Take take) {
    return take.events().stream().filter(ChatEvent::hasDone).map(event -> event.getDone().getResponse())
        .reduce((first, second) -> second).orElse(ChatResponse.getDefaultInstance());
  }

  private static List<String> answerChanges(ChatResponse before, ChatResponse after) {
    List<String> lines = new ArrayList<>();
    textChanges("text", partsText(before, Part::getText), partsText(after, Part::getText), lines);
    textChanges("reasoning", partsText(before, part -> part.getReasoning().getText()),
        partsText(after, part -> part.getReasoning().getText()), lines);
    List<ToolCall> callsBefore = before.getMessage().getToolCallsList();
    List<ToolCall> callsAfter = after.getMessage().getToolCallsList();
    for (int i = 0; i < Math.max(callsBefore.size(), callsAfter.size()); i++) {
      String was = i < callsBefore.size() ? describe(callsBefore.get(i)) : "(none)";
      String is = i < callsAfter.size() ? describe(callsAfter.get(i)) : "(none)";
      if (!was.equals(is)) {
        lines.add("tool call " + (i + 1) + ": " + was + " -> " + is);
      }
    }
    if (before.getFinishReason() != after.getFinishReason()) {
      lines.add("finish: " + before.getFinishReason() + " -> " + after.getFinishReason());
    }
    List<String> usage = new ArrayList<>();
    for (FieldDescriptor field : Usage.getDescriptor().getFields()) {
      String was = valueOf(before.getUsage(), field);
      String is = valueOf(after.getUsage(), field);
      if (!was.equals(is)) {
        usage.add(field.getName() + " " + was + " -> " + is);
      }
    }
    if (!usage.isEmpty()) {
      lines.add("usage: " + String.join(", ", usage));
    }
    return lines;
  }

  /** A text's changed lines, under a heading: {@code - } the lines removed, {@code + } those added. */
  private static void textChanges(String heading, String before, String after, List<String> lines) {
    if (before.equals(after)) {
      return;
    }
    lines.add(heading + ":");
    for (AbstractDelta<String> delta : DiffUtils.diff(before.lines().toList(), after.lines().toList()).getDeltas()) {
      delta.getSource().getLines().forEach(line -> lines.add("  - " + line));
      delta.getTarget().getLines().forEach(line -> lines.add("  + " + line));
    }
  }

  private static String partsText(ChatResponse response, Function<Part, String> text) {
    return response.getMessage().getPartsList().stream().map(text).collect(Collectors.joining());
  }

  private static String describe(ToolCall call) {
    return call.getName() + " " + call.getArgumentsJson();
  }

  private static String valueOf(Usage usage, FieldDescriptor field) {
    return usage.hasField(field) ? String.valueOf(usage.getField(field)) : "(unset)";
  }

  /** What differs in two cassettes with the same answers: the parts of the file other than the answer. */
  private static List<String> otherChanges(Cassette before, Cassette after) {
    List<String> other = new ArrayList<>();
    if (!before.request().equals(after.request())) {
      other.add("the request as first recorded");
    }
    if (!before.normalizedRequest().equals(after.normalizedRequest())) {
      other.add("the normalized request");
    }
    if (before.formatVersion() != after.formatVersion()) {
      other.add("format version " + before.formatVersion() + " -> " + after.formatVersion());
    }
    for (int take = 0; take < before.takes().size(); take++) {
      Cassette.Take was = before.takes().get(take);
      Cassette.Take is = after.takes().get(take);
      if (!was.tokenCount().equals(is.tokenCount())) {
        other.add("the token count: " + was.tokenCount().map(c -> c.getInputTokens()).orElse(0) + " -> "
            + is.tokenCount().map(c -> c.getInputTokens()).orElse(0));
      } else if (!was.events().equals(is.events())) {
        other.add("the streamed events (the same answer in other chunks)");
      } else if (!was.offsetsMillis().equals(is.offsetsMillis())) {
        other.add("the recorded timing");
      } else if (was.redacted() != is.redacted()) {
        other.add("redaction");
      }
    }
    if (other.isEmpty()) {
      other.add("the file's layout (the same cassette, written differently)");
    }
    return other.stream().distinct().toList();
  }
}
