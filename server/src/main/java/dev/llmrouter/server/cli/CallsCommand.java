package dev.llmrouter.server.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallFilter;
import dev.llmrouter.api.v1.CallNode;
import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.GetUsageResponse;
import dev.llmrouter.api.v1.ListCallsResponse;
import dev.llmrouter.api.v1.UsageGrouping;
import dev.llmrouter.api.v1.UsageRow;
import dev.llmrouter.api.v1.UsageTotals;
import dev.llmrouter.server.cli.CommandGroup.Choice;
import dev.llmrouter.server.config.ConfigException;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.ObservabilityConfig;
import dev.llmrouter.server.config.PostgresUrl;
import dev.llmrouter.server.observe.CallLog;
import dev.llmrouter.server.observe.CallQueries;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * `java -jar llm-router.jar calls ...`: reads the call log with the same queries as `ObservabilityService`.
 * Exit codes: 0 done, 1 nothing found (or no call log), 2 the command line is wrong.
 */
public final class CallsCommand {

  private static final Flag DATA_DIR = Flag.withValue("--data-dir", "DIR",
      "the router's data_dir (default: " + ObservabilityConfig.DEFAULT.dataDir() + "); the call log is DIR/calls.db");
  private static final Flag POSTGRES_URL = Flag.withValue("--postgres-url", "URL", """
      read the call log a fleet writes to PostgreSQL (call_log.postgres_url), like
      postgresql://user@host:5432/db; the password from PGPASSWORD""");
  private static final Flag CONFIG = Flag.withValue("--config", "FILE", """
      read it where the router's config puts it: call_log.postgres_url when set,
      else data_dir""");
  private static final Flag JSON_OUTPUT = Flag.toggle("--json",
      "print protobuf JSON, one object per line, instead of a table");
  private static final List<Flag> LOG_FLAGS = List.of(DATA_DIR, POSTGRES_URL, CONFIG, JSON_OUTPUT);
  private static final String LOG_SYNOPSIS = "[--data-dir DIR | --postgres-url URL | --config FILE] [--json]";
  private static final Flag SINCE = Flag.withValue("--since", "TIME", """
      only calls started at TIME or later: an ISO-8601 instant (2026-11-23T10:00:00Z)
      or an age (30m, 2h, 7d)""");
  private static final Flag UNTIL = Flag.withValue("--until", "TIME", "only calls started before TIME");
  private static final Syntax LIST = new Syntax("calls list", "[FILTERS] [--limit N] " + LOG_SYNOPSIS, """
      the newest calls first: start time, id, RPC, status, model, provider, tokens in/out,
      cost, latency, trace; FILTERS by trace, session, user, model, provider, status, tag,
      caller key and time all must match""", List.of(), withLogFlags(
          Flag.withValue("--trace", "ID", "only the calls of this trace"),
          Flag.withValue("--session", "ID", "only the calls of this session"),
          Flag.withValue("--user", "ID", "only the calls of this end user"),
          Flag.withValue("--model", "NAME", "only calls to this model, as called or as answered"),
          Flag.withValue("--provider", "NAME", "only calls to this provider, by name or type"),
          Flag.withValue("--status", "STATUS", "only calls that ended with this status, such as OK"),
          Flag.withValue("--tag", "TAG", "only calls with this tag"),
          Flag.withValue("--key", "ID", "only calls made with this caller key (see `keys list`)"),
          SINCE, UNTIL,
          Flag.withValue("--limit", "N", "at most N calls (default 20, at most 1000)")));
  private static final Syntax TRACE = new Syntax("calls trace", "ID " + LOG_SYNOPSIS,
      "the calls of a trace as a tree, each under the call it follows", List.of("ID"), LOG_FLAGS);
  private static final Syntax USAGE_TOTALS = new Syntax("calls usage", "[--by GROUPS] [--since TIME] [--until TIME] "
      + LOG_SYNOPSIS, """
      calls, tokens and cost, in total and grouped --by provider,model,upstream_model,tag,key
      (default provider,model), over --since TIME and --until TIME""", List.of(), withLogFlags(
          Flag.withValue("--by", "GROUPS", """
              group by provider, model, upstream_model, tag and key (the caller key),
              comma-separated (default provider,model)"""),
          SINCE, UNTIL));
  private static final CommandGroup COMMANDS = new CommandGroup(
      new Syntax("calls", "COMMAND " + LOG_SYNOPSIS, "", List.of("COMMAND"), LOG_FLAGS),
      List.of(LIST, TRACE, USAGE_TOTALS));

  private static final int OK = 0;
  private static final int NOT_FOUND = 1;
  private static final JsonFormat.Printer JSON = JsonFormat.printer().omittingInsignificantWhitespace();

  private final PrintStream out;
  private final Syntax syntax;
  private final Arguments arguments;
  private final boolean json;

  private CallsCommand(PrintStream out, Choice choice) {
    this.out = out;
    this.syntax = choice.syntax();
    this.arguments = choice.arguments();
    this.json = arguments.has(JSON_OUTPUT.name());
  }

  /** A subcommand's own flags, then the flags that say where the call log is and how to print it. */
  private static List<Flag> withLogFlags(Flag... flags) {
    return Stream.concat(Stream.of(flags), LOG_FLAGS.stream()).toList();
  }

  /** Runs one command (the arguments after `calls`) and returns its exit code. */
  public static int run(List<String> args, PrintStream out, PrintStream err) {
    try {
      Choice choice = COMMANDS.choose(args);
      if (choice.arguments().help()) {
        out.print(COMMANDS.usageOf(choice));
        return OK;
      }
      CallsCommand command = new CallsCommand(out, choice);
      CallQueries log = command.callLog();
      try {
        return switch (choice.name()) {
          case "list" -> command.list(log);
          case "trace" -> command.trace(log);
          case "usage" -> command.usage(log);
          default -> throw new IllegalStateException("no such calls command: " + choice.name());
        };
      } catch (SQLException e) {
        err.println("llm-router calls: cannot read the call log " + log + ": " + e.getMessage());
        return NOT_FOUND;
      }
    } catch (UsageException e) {
      return e.report(err);
    } catch (ConfigException | IllegalArgumentException e) {
      // A bad config file, or a value the call log refuses such as --limit 5000: the command line needs fixing.
      err.println("llm-router calls: " + e.getMessage());
      return UsageException.EXIT_CODE;
    } catch (NoSuchElementException e) {
      err.println("llm-router calls: " + e.getMessage());
      return NOT_FOUND;
    } catch (IOException e) {
      err.println("llm-router calls: cannot read the config: " + e.getMessage());
      return NOT_FOUND;
    }
  }

  /** The call log the flags name: in PostgreSQL, or the SQLite file of a data folder. */
  private CallQueries callLog() throws IOException {
    if (Stream.of(DATA_DIR, POSTGRES_URL, CONFIG).filter(flag -> arguments.has(flag.name())).count() > 1) {
      throw syntax.error("give one of --data-dir, --postgres-url and --config");
    }
    if (arguments.has(POSTGRES_URL.name())) {
      try {
        return CallQueries.postgres(PostgresUrl.parse(option(POSTGRES_URL.name()), System::getenv));
      } catch (IllegalArgumentException e) {
        throw syntax.error("--postgres-url " + e.getMessage());
      }
    }
    ObservabilityConfig config = ObservabilityConfig.DEFAULT;
    if (arguments.has(DATA_DIR.name())) {
      config = config.withDataDir(option(DATA_DIR.name()));
    } else if (arguments.has(CONFIG.name())) {
      Path file = Path.of(option(CONFIG.name()));
      config = ConfigLoader.parse(Files.readString(file), System::getenv).observability();
    }
    return config.callLogPostgres().map(CallQueries::postgres)
        .orElse(new CallQueries(Path.of(config.dataDir()).resolve(CallLog.FILE_NAME)));
  }

  private int list(CallQueries log) throws SQLException {
    CallFilter.Builder filter = CallFilter.newBuilder()
        .setTraceId(option("--trace")).setSessionId(option("--session")).setUserId(option("--user"))
        .setModel(option("--model")).setProvider(option("--provider")).setStatus(option("--status"))
        .setTag(option("--tag")).setKeyId(option("--key"));
    timeRange(filter);
    int limit = integer("--limit", 20);
    ListCallsResponse page = log.list(filter.build(), limit, "");
    if (json) {
      page.getCallsList().forEach(call -> out.println(json(call)));
      return OK;
    }
    if (page.getCallsCount() == 0) {
      out.println("no calls match");
      return NOT_FOUND;
    }
    out.printf("%-24s %-16s %-10s %-19s %-34s %-10s %13s %10s %9s  %s%n", "START (UTC)", "ID", "RPC", "STATUS",
        "MODEL", "PROVIDER", "TOKENS IN/OUT", "COST USD", "LATENCY", "TRACE");
    for (CallRecord call : page.getCallsList()) {
      out.println(line(call, ""));
    }
    if (!page.getNextPageToken().isEmpty()) {
      out.println("(more: raise --limit, or narrow with --since/--until)");
    }
    return OK;
  }

  private int trace(CallQueries log) throws SQLException {
    String traceId = arguments.operands().get(0);
    List<CallNode> roots = log.trace(traceId).getRootsList();
    if (json) {
      roots.forEach(root -> out.println(json(root)));
      return OK;
    }
    out.println("trace " + traceId);
    roots.forEach(root -> printTree(root, "  "));
    return OK;
  }

  private void printTree(CallNode node, String indent) {
    out.println(line(node.getCall(), indent));
    node.getChildrenList().forEach(child -> printTree(child, indent + "  "));
  }

  private int usage(CallQueries log) throws SQLException {
    List<UsageGrouping> groups = new ArrayList<>();
    for (String by : option("--by").isEmpty() ? List.of("provider", "model") : List.of(option("--by").split(","))) {
      try {
        groups.add(UsageGrouping.valueOf("USAGE_GROUPING_" + by.trim().toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw syntax.error("--by takes provider, model, upstream_model, tag and key, not '" + by + "'");
      }
    }
    GetUsageResponse usage = log.usage(timeRange(CallFilter.newBuilder()).build(), groups);
    if (json) {
      out.println(json(usage));
      return OK;
    }
    out.printf("%-44s %7s %7s %12s %12s %12s %12s%n", "GROUP", "CALLS", "FAILED", "INPUT TOK", "OUTPUT TOK",
        "COST USD", "REPLAYED USD");
    for (UsageRow row : usage.getRowsList()) {
      List<String> names = new ArrayList<>();
      String key = row.getKeyId().isEmpty() ? "" : row.getKeyId() + " (" + row.getKeyName() + ")";
      for (String name : List.of(row.getProvider(), row.getModel(), row.getUpstreamModel(), row.getTag(), key)) {
        if (!name.isEmpty()) {
          names.add(name);
        }
      }
      out.println(totalsLine(names.isEmpty() ? "(none)" : String.join(" ", names), row.getTotals()));
    }
    out.println(totalsLine("TOTAL", usage.getTotal()));
    if (usage.getTotal().getUnpricedCalls() > 0) {
      out.println(usage.getTotal().getUnpricedCalls() + " calls have no price: add their models under `prices:`");
    }
    return OK;
  }

  private static String totalsLine(String group, UsageTotals t) {
    return String.format(Locale.ROOT, "%-44s %7d %7d %12d %12d %12.6f %12.6f", group, t.getCalls(),
        t.getFailedCalls(), t.getInputTokens(), t.getOutputTokens(), t.getCostUsd(), t.getReplayedCostUsd());
  }

  private static String line(CallRecord call, String indent) {
    String tokens = call.getUsage().hasInputTokens() || call.getUsage().hasOutputTokens()
        ? call.getUsage().getInputTokens() + "/" + call.getUsage().getOutputTokens() : "-";
    String cost = call.getUsage().hasCostUsd() ? String.format(Locale.ROOT, "%.6f", call.getUsage().getCostUsd())
        : "-";
    String rpc = switch (call.getCallType()) {
      case CALL_TYPE_STREAM -> "stream";
      case CALL_TYPE_CONVERSE_TURN -> "converse";
      case CALL_TYPE_EMBED -> "embed";
      default -> "chat";
    };
    String start = Instant.ofEpochMilli(Timestamps.toMillis(call.getStartTime())).toString();
    return String.format(Locale.ROOT, "%-24s %-16s %-10s %-19s %-34s %-10s %13s %10s %7.1fms  %s",
        indent + start, call.getId(), rpc, call.getStatus(), call.getModel(), call.getProvider(), tokens, cost,
        Durations.toNanos(call.getLatency()) / 1e6, call.getTraceId());
  }

  /** Sets the start and end times of --since and --until on the filter. */
  private CallFilter.Builder timeRange(CallFilter.Builder filter) {
    if (arguments.has("--since")) {
      filter.setStartTime(time("--since"));
    }
    if (arguments.has("--until")) {
      filter.setEndTime(time("--until"));
    }
    return filter;
  }

  private String option(String name) {
    return arguments.value(name).orElse("");
  }

  private int integer(String name, int fallback) {
    String value = option(name);
    try {
      return value.isEmpty() ? fallback : Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw syntax.error(name + " must be a whole number, not '" + value + "'");
    }
  }

  /** An ISO-8601 instant, or an age before now (30m, 2h, 7d). */
  private Timestamp time(String name) {
    String value = option(name);
    Optional<Duration> age = Arguments.duration(value);
    if (age.isPresent()) {
      return Timestamps.fromMillis(Instant.now().minus(age.get()).toEpochMilli());
    }
    try {
      Instant instant = Instant.parse(value);
      return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    } catch (DateTimeParseException e) {
      throw syntax.error(name + " must be an ISO-8601 instant like 2026-11-23T10:00:00Z or an age like 30m, "
          + "2h, 7d; not '" + value + "'");
    }
  }

  private static String json(MessageOrBuilder message) {
    try {
      return JSON.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }
}
