package dev.llmrouter.server;

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
import dev.llmrouter.server.config.ConfigException;
import dev.llmrouter.server.config.CassetteConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * `java -jar llm-router.jar cassettes ...`: lists, shows, verifies and prunes the cassette files of a folder.
 * Exit codes: 0 done, 1 a problem was found (or a key is unknown), 2 the command line is wrong.
 */
public final class CassetteCommand {

  public static final String USAGE = """
      usage: java -jar server/target/llm-router.jar cassettes COMMAND [--cassettes DIR]

        list [SCOPE]      one line per cassette: scope, short key, provider/model, first user text
        show KEY          the path and content of a cassette; KEY is its full key, its 16-hex short key or a
                          unique prefix of at least 8 hex
        verify            parses every cassette and checks its key against its request and its file name;
                          exits 1 on any problem (a redacted request is only a warning)
        prune --unused --usage FILE [--dry-run]
                          deletes every cassette not listed in FILE, as written by the server's
                          `--track-usage FILE`; --dry-run only prints what it would delete
        --cassettes DIR   cassette folder (default: %s)
        --help            print this text
      """.formatted(CassetteConfig.DEFAULT_DIR);

  private static final int OK = 0;
  private static final int FAILED = 1;
  private static final int BAD_USAGE = 2;
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

  /** One sub-command: returns the exit code. */
  private interface Command {
    int run(CassetteStore store, Arguments arguments) throws IOException;
  }

  /** The parsed command line: the command name, its operands and the flags given. */
  private record Arguments(String command, List<String> operands, Path dir, Set<String> flags,
      Optional<Path> usageFile) {

    static Arguments parse(List<String> args) {
      List<String> positional = new ArrayList<>();
      Path dir = Path.of(CassetteConfig.DEFAULT_DIR);
      Set<String> flags = new HashSet<>();
      Optional<Path> usageFile = Optional.empty();
      for (int i = 0; i < args.size(); i++) {
        String arg = args.get(i);
        if (!arg.startsWith("-")) {
          positional.add(arg);
          continue;
        }
        flags.add(arg);
        switch (arg) {
          case "--cassettes" -> dir = Path.of(value(args, ++i, arg));
          case "--usage" -> usageFile = Optional.of(Path.of(value(args, ++i, arg)));
          // A switch: being in the flags is its whole value.
          case "--help", "-h", "--unused", "--dry-run" -> { }
          default -> throw new ConfigException("unknown flag '" + arg + "'");
        }
      }
      String command = positional.isEmpty() ? "" : positional.get(0);
      List<String> operands = positional.isEmpty() ? List.of() : positional.subList(1, positional.size());
      return new Arguments(command, operands, dir, flags, usageFile);
    }

    private static String value(List<String> args, int index, String flag) {
      if (index >= args.size() || args.get(index).startsWith("--")) {
        throw new ConfigException(flag + " needs a value");
      }
      return args.get(index);
    }

    boolean has(String flag) {
      return flags.contains(flag);
    }

    /** Checks that the command got only the operands and flags it takes; every command takes --cassettes. */
    void expect(int maxOperands, Set<String> commandFlags) {
      if (operands.size() > maxOperands) {
        throw new ConfigException("too many arguments for " + command + ": " + String.join(" ", operands));
      }
      for (String flag : flags) {
        if (!flag.equals("--cassettes") && !commandFlags.contains(flag)) {
          throw new ConfigException(flag + " does not apply to " + command);
        }
      }
    }
  }

  private int run(List<String> args) {
    try {
      Arguments arguments = Arguments.parse(args);
      if (arguments.has("--help") || arguments.has("-h")) {
        out.print(USAGE);
        return OK;
      }
      Map<String, Command> commands = Map.of("list", this::list, "show", this::show, "verify", this::verify,
          "prune", this::prune);
      Command command = commands.get(arguments.command());
      if (command == null) {
        throw new ConfigException(arguments.command().isEmpty() ? "no command given"
            : "unknown command '" + arguments.command() + "'");
      }
      if (!Files.isDirectory(arguments.dir())) {
        throw new ConfigException("cassette folder " + arguments.dir() + " does not exist");
      }
      // Nothing is loaded twice, so the store needs no cache.
      return command.run(new CassetteStore(arguments.dir(), 0, Redactor.defaults()), arguments);
    } catch (ConfigException e) {
      err.println("llm-router cassettes: " + e.getMessage() + "\n(see `cassettes --help`)");
      return BAD_USAGE;
    } catch (IOException | UncheckedIOException e) {
      err.println("llm-router cassettes: " + e.getMessage());
      return FAILED;
    }
  }

  private int list(CassetteStore store, Arguments arguments) {
    arguments.expect(1, Set.of());
    String scope = arguments.operands().isEmpty() ? null : validScope(arguments.operands().get(0));
    for (CassetteSummary summary : store.list(scope)) {
      out.println(summary.scope() + "  " + summary.shortKey() + "  " + describe(summary.path()));
    }
    return OK;
  }

  private static String validScope(String scope) {
    try {
      return CassetteStore.validateScope(scope);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
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

  /** The first text the user wrote, on one line and cut to 60 characters. */
  private static String firstUserText(ObjectNode request) {
    for (JsonNode message : request.path("messages")) {
      if (!message.path("role").asText().equals(Role.ROLE_USER.name())) {
        continue;
      }
      for (JsonNode part : message.path("parts")) {
        if (part.has("text")) {
          String text = part.get("text").asText().replaceAll("\\s+", " ").strip();
          return text.length() <= MAX_TEXT_LENGTH ? text : text.substring(0, MAX_TEXT_LENGTH);
        }
      }
    }
    return "";
  }

  /** Keys are told apart by their first 16 hex, the file name, as the store does. */
  private int show(CassetteStore store, Arguments arguments) throws IOException {
    arguments.expect(1, Set.of());
    if (arguments.operands().isEmpty()) {
      throw new ConfigException("show needs a KEY");
    }
    String key = arguments.operands().get(0).toLowerCase(Locale.ROOT);
    if (!key.matches("[0-9a-f]{" + MIN_KEY_PREFIX_LENGTH + ",64}")) {
      throw new ConfigException("KEY must be " + MIN_KEY_PREFIX_LENGTH + " to 64 hex characters, not '" + key + "'");
    }
    String fileNamePrefix = key.substring(0, Math.min(key.length(), SHORT_KEY_LENGTH));
    List<CassetteSummary> matches = store.list(null).stream()
        .filter(summary -> summary.shortKey().startsWith(fileNamePrefix))
        .toList();
    if (matches.isEmpty()) {
      err.println("llm-router cassettes: no cassette in " + arguments.dir() + " has a key starting with " + key);
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

  private int verify(CassetteStore store, Arguments arguments) {
    arguments.expect(0, Set.of());
    CassetteVerifier.Report report = CassetteVerifier.verify(store);
    report.findings().forEach(finding -> out.println(finding.line()));
    out.println("verified " + report.cassettes() + " cassettes, " + report.problems() + " problems, "
        + report.warnings() + " warnings");
    return report.problems() == 0 ? OK : FAILED;
  }

  private int prune(CassetteStore store, Arguments arguments) throws IOException {
    arguments.expect(0, Set.of("--unused", "--usage", "--dry-run"));
    if (!arguments.has("--unused")) {
      throw new ConfigException("prune deletes only unused cassettes: give --unused --usage FILE");
    }
    Path usageFile = arguments.usageFile().orElseThrow(() -> new ConfigException(
        "prune --unused needs --usage FILE, the file the server wrote with --track-usage FILE"));
    if (!Files.isRegularFile(usageFile)) {
      throw new ConfigException("usage file " + usageFile + " does not exist");
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
