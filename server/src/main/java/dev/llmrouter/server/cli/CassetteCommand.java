package dev.llmrouter.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.cassettes.Cassette;
import dev.llmrouter.cassettes.CassetteCodec;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.cassettes.CassetteStore.CassetteSummary;
import dev.llmrouter.cassettes.CassetteUsageFile;
import dev.llmrouter.cassettes.CassetteVerifier;
import dev.llmrouter.cassettes.CorruptCassetteException;
import dev.llmrouter.cassettes.Redactor;
import dev.llmrouter.server.cli.CommandGroup.Choice;
import dev.llmrouter.server.config.CassetteConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * `java -jar llm-router.jar cassettes ...`: lists, shows, verifies and prunes the cassette files of a folder.
 * Exit codes: 0 done, 1 a problem was found (or a key is unknown), 2 the command line is wrong.
 */
public final class CassetteCommand {

  private static final Flag DIR = Flag.withValue("--cassettes", "DIR",
      "cassette folder (default: " + CassetteConfig.DEFAULT_DIR + ")");
  private static final Syntax LIST = new Syntax("cassettes list", "[SCOPE] [--cassettes DIR]", """
      one line per cassette: scope, short key, provider/model, first user text;
      with SCOPE, only the cassettes of that scope folder""", List.of("[SCOPE]"), List.of(DIR));
  private static final Syntax SHOW = new Syntax("cassettes show", "KEY [--cassettes DIR]", """
      the path and content of a cassette; KEY is its full key, its 16-hex short key or a
      unique prefix of at least 8 hex""", List.of("KEY"), List.of(DIR));
  private static final Syntax VERIFY = new Syntax("cassettes verify", "[--cassettes DIR]", """
      parses every cassette and checks its key against its request and its file name;
      exits 1 on any problem (a redacted request is only a warning)""", List.of(), List.of(DIR));
  private static final Syntax PRUNE = new Syntax("cassettes prune",
      "--unused --usage FILE [--dry-run] [--cassettes DIR]", """
      with --unused --usage FILE, deletes every cassette not listed in FILE, as written by the
      server's `--track-usage FILE`; --dry-run only prints what it would delete""", List.of(), List.of(
          Flag.toggle("--unused", "delete the cassettes that answered no call (prune deletes nothing else)"),
          Flag.withValue("--usage", "FILE", "the cassettes that answered calls: the server's `--track-usage FILE`"),
          Flag.toggle("--dry-run", "only print what would be deleted"),
          DIR));
  private static final CommandGroup COMMANDS = new CommandGroup(
      new Syntax("cassettes", "COMMAND [--cassettes DIR]", "", List.of("COMMAND"), List.of(DIR)),
      List.of(LIST, SHOW, VERIFY, PRUNE));

  /** What `cassettes --help` prints. */
  public static final String USAGE = COMMANDS.usage();

  private static final int OK = 0;
  private static final int FAILED = 1;
  private static final int SHORT_KEY_LENGTH = 16;
  private static final int MIN_KEY_PREFIX_LENGTH = 8;
  private static final int MAX_TEXT_LENGTH = 60;

  private final PrintStream out;
  private final PrintStream err;

  private CassetteCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /** Runs one command (the arguments after `cassettes`) and returns its exit code. */
  public static int run(List<String> args, PrintStream out, PrintStream err) {
    return new CassetteCommand(out, err).run(args);
  }

  private int run(List<String> args) {
    try {
      Choice choice = COMMANDS.choose(args);
      Arguments arguments = choice.arguments();
      if (arguments.help()) {
        out.print(COMMANDS.usageOf(choice));
        return OK;
      }
      Path dir = Path.of(arguments.value(DIR.name()).orElse(CassetteConfig.DEFAULT_DIR));
      if (!Files.isDirectory(dir)) {
        throw choice.syntax().error("cassette folder " + dir + " does not exist");
      }
      // Nothing is loaded twice, so the store needs no cache.
      CassetteStore store = new CassetteStore(dir, 0, Redactor.defaults());
      return switch (choice.name()) {
        case "list" -> list(store, arguments);
        case "show" -> show(store, dir, arguments);
        case "verify" -> verify(store);
        case "prune" -> prune(store, arguments);
        default -> throw new IllegalStateException("no such cassettes command: " + choice.name());
      };
    } catch (UsageException e) {
      return e.report(err);
    } catch (IOException | UncheckedIOException e) {
      err.println("llm-router cassettes: " + e.getMessage());
      return FAILED;
    }
  }

  private int list(CassetteStore store, Arguments arguments) {
    String scope = arguments.operand(0).map(CassetteCommand::validScope).orElse(null);
    for (CassetteSummary summary : store.list(scope)) {
      out.println(summary.scope() + "  " + summary.shortKey() + "  " + describe(summary.path()));
    }
    return OK;
  }

  private static String validScope(String scope) {
    try {
      return CassetteStore.validateScope(scope);
    } catch (IllegalArgumentException e) {
      throw LIST.error(e.getMessage());
    }
  }

  /** `provider/model  first user text`, or why the file cannot be read. */
  private static String describe(Path file) {
    try {
      Cassette cassette = CassetteCodec.readFile(file);
      return cassette.servedBy().provider() + "/" + cassette.servedBy().model() + "  "
          + firstUserText(cassette.request());
    } catch (CorruptCassetteException e) {
      return "CORRUPT: " + e.problem();
    }
  }

  /** The first text the user wrote (an embedding call's first text input), on one line and cut to 60 characters. */
  private static String firstUserText(ObjectNode request) {
    for (JsonNode message : request.path("messages")) {
      if (!message.path("role").asText().equals(Role.ROLE_USER.name())) {
        continue;
      }
      for (JsonNode part : message.path("parts")) {
        if (part.has("text")) {
          return oneLine(part.get("text").asText());
        }
      }
    }
    for (JsonNode input : request.path("inputs")) {
      if (input.has("text")) {
        return oneLine(input.get("text").asText());
      }
    }
    return "";
  }

  private static String oneLine(String text) {
    String line = text.replaceAll("\\s+", " ").strip();
    return line.length() <= MAX_TEXT_LENGTH ? line : line.substring(0, MAX_TEXT_LENGTH);
  }

  /** Keys are told apart by their first 16 hex, the file name, as the store does. */
  private int show(CassetteStore store, Path dir, Arguments arguments) throws IOException {
    String key = arguments.operands().get(0).toLowerCase(Locale.ROOT);
    if (!key.matches("[0-9a-f]{" + MIN_KEY_PREFIX_LENGTH + ",64}")) {
      throw SHOW.error("KEY must be " + MIN_KEY_PREFIX_LENGTH + " to 64 hex characters, not '" + key + "'");
    }
    String fileNamePrefix = key.substring(0, Math.min(key.length(), SHORT_KEY_LENGTH));
    List<CassetteSummary> matches = store.list(null).stream()
        .filter(summary -> summary.shortKey().startsWith(fileNamePrefix))
        .toList();
    if (matches.isEmpty()) {
      err.println("llm-router cassettes: no cassette in " + dir + " has a key starting with " + key);
      return FAILED;
    }
    if (matches.size() > 1) {
      err.println("llm-router cassettes: " + key + " matches " + matches.size() + " cassettes:");
      matches.forEach(match -> err.println("  " + match.path()));
      return FAILED;
    }
    Path file = matches.get(0).path();
    out.println(file);
    out.write(Files.readAllBytes(file));
    out.flush();
    return OK;
  }

  private int verify(CassetteStore store) {
    CassetteVerifier.Report report = CassetteVerifier.verify(store);
    report.findings().forEach(finding -> out.println(finding.line()));
    out.println("verified " + report.cassettes() + " cassettes, " + report.problems() + " problems, "
        + report.warnings() + " warnings");
    return report.problems() == 0 ? OK : FAILED;
  }

  private int prune(CassetteStore store, Arguments arguments) throws IOException {
    if (!arguments.has("--unused")) {
      throw PRUNE.error("prune deletes only unused cassettes: give --unused --usage FILE");
    }
    Path usageFile = Path.of(arguments.value("--usage").orElseThrow(() -> PRUNE.error(
        "prune --unused needs --usage FILE, the file the server wrote with --track-usage FILE")));
    if (!Files.isRegularFile(usageFile)) {
      throw PRUNE.error("usage file " + usageFile + " does not exist");
    }
    Set<String> used = CassetteUsageFile.entriesIn(usageFile);
    boolean dryRun = arguments.has("--dry-run");
    List<CassetteSummary> cassettes = store.list(null);
    int deleted = 0;
    for (CassetteSummary summary : cassettes) {
      if (used.contains(CassetteUsageFile.entryOf(summary.scope(), summary.path()))) {
        continue;
      }
      if (!dryRun) {
        Files.delete(summary.path());
      }
      out.println((dryRun ? "would delete " : "deleted ") + summary.path());
      deleted++;
    }
    out.println((dryRun ? "would delete " : "deleted ") + deleted + " of " + cassettes.size() + " cassettes, kept "
        + (cassettes.size() - deleted));
    return OK;
  }
}
