package dev.llmrouter.server.cli;

import com.github.benmanes.caffeine.cache.Ticker;
import com.google.protobuf.FieldMask;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import dev.llmrouter.api.v1.CallerKey;
import dev.llmrouter.api.v1.KeyLimits;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.auth.CallerKeys;
import dev.llmrouter.server.auth.Quotas;
import dev.llmrouter.server.auth.WallClock;
import dev.llmrouter.server.cli.CommandGroup.Choice;
import dev.llmrouter.server.config.AuthConfig;
import dev.llmrouter.server.config.ConfigException;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.ObservabilityConfig;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.state.KeyStorage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * `java -jar llm-router.jar keys ...`: creates, lists, changes and revokes caller keys, where the router's config
 * keeps them (Redis with `shared_state.redis_url`, `data_dir/keys.db` otherwise), as `AdminService` does. A new key
 * is printed once, as the last line of standard output. Exit codes: 0 done, 1 no such key (or the store cannot be
 * read), 2 the command line is wrong.
 */
public final class KeysCommand {

  private static final Flag CONFIG = Flag.withValue("--config", "FILE",
      "the router's config: keys go where it keeps them (shared_state.redis_url, or data_dir)");
  private static final Flag DATA_DIR = Flag.withValue("--data-dir", "DIR",
      "without --config: the router's data_dir (default: " + ObservabilityConfig.DEFAULT.dataDir()
          + "); keys are in DIR/keys.db");
  private static final List<Flag> STORE_FLAGS = List.of(CONFIG, DATA_DIR);
  private static final String STORE_SYNOPSIS = "[--config FILE | --data-dir DIR]";
  private static final Flag NAME = Flag.withValue("--name", "NAME", "a name for people: a team, a service, ci");
  private static final Flag MODELS = Flag.withValue("--models", "GLOB,...", """
      the models the key may call, by the name callers send: openai/gpt-4o-mini,
      openai/*, anthropic/claude-*, an alias (`*` stands for any characters;
      default: every model)""");
  private static final Flag RPM = Flag.withValue("--rpm", "N", "calls per minute (0 or left out: no limit)");
  private static final Flag TPM = Flag.withValue("--tpm", "N",
      "tokens per minute, input and output (0 or left out: no limit)");
  private static final Flag BUDGET = Flag.withValue("--budget-usd", "X", """
      US dollars the key may spend per budget window (none or left out: no
      budget); replayed answers cost nothing""");
  private static final Flag BUDGET_WINDOW = Flag.withValue("--budget-window", "DURATION",
      "the budget window: 30d, 7d, 24h... (default 30d)");
  private static final Flag MODES = Flag.withValue("--modes", "MODE,...", """
      the cassette modes its calls may run in: replay, record, auto, off
      (all or left out: every mode; a CI key: --modes replay)""");
  private static final Flag EXPIRES = Flag.withValue("--expires", "DURATION",
      "the key stops working after this long: 90d, 12h... (default: never)");
  private static final Flag JSON_OUTPUT = Flag.toggle("--json", "print protobuf JSON, one key per line");
  private static final Syntax CREATE = new Syntax("keys create", "--name NAME [--models GLOB,...] [--rpm N] "
      + "[--tpm N] [--budget-usd X [--budget-window 30d]] [--modes MODE,...] [--expires DURATION] " + STORE_SYNOPSIS,
      """
      makes a caller key and prints it as the last line of standard output: the one time
      it is shown (the router keeps only its hash)""", List.of(),
      withStoreFlags(NAME, MODELS, RPM, TPM, BUDGET, BUDGET_WINDOW, MODES, EXPIRES));
  private static final Syntax LIST = new Syntax("keys list", "[--json] " + STORE_SYNOPSIS, """
      every key: id, name, status, limits, spend in its budget window, last use (never
      the key itself)""", List.of(), withStoreFlags(JSON_OUTPUT));
  private static final Syntax REVOKE = new Syntax("keys revoke", "ID " + STORE_SYNOPSIS, """
      revokes a key for good: every router refuses it within a second""", List.of("ID"), STORE_FLAGS);
  private static final Syntax UPDATE = new Syntax("keys update", "ID [--name NAME] [--models GLOB,...] [--rpm N] "
      + "[--tpm N] [--budget-usd X|none] [--budget-window DURATION] [--modes MODE,...|all] "
      + "[--expires DURATION|never] " + STORE_SYNOPSIS, """
      changes what the flags name, and nothing else; --budget-usd none, --modes all and
      --expires never lift those limits, --rpm 0 and --tpm 0 the rate limits""", List.of("ID"),
      withStoreFlags(NAME, MODELS, RPM, TPM, BUDGET, BUDGET_WINDOW, MODES, EXPIRES));
  private static final CommandGroup COMMANDS = new CommandGroup(
      new Syntax("keys", "COMMAND " + STORE_SYNOPSIS, "", List.of("COMMAND"), STORE_FLAGS),
      List.of(CREATE, LIST, REVOKE, UPDATE));

  private static final int OK = 0;
  private static final int FAILED = 1;
  private static final JsonFormat.Printer JSON = JsonFormat.printer().omittingInsignificantWhitespace();

  private final PrintStream out;
  private final Syntax syntax;
  private final Arguments arguments;
  private final WallClock clock = new WallClock(Ticker.systemTicker());

  private KeysCommand(PrintStream out, Choice choice) {
    this.out = out;
    this.syntax = choice.syntax();
    this.arguments = choice.arguments();
  }

  private static List<Flag> withStoreFlags(Flag... flags) {
    return Stream.concat(Stream.of(flags), STORE_FLAGS.stream()).toList();
  }

  /** Runs one command (the arguments after `keys`) and returns its exit code. */
  public static int run(List<String> args, PrintStream out, PrintStream err) {
    try {
      Choice choice = COMMANDS.choose(args);
      if (choice.arguments().help()) {
        out.print(COMMANDS.usageOf(choice));
        return OK;
      }
      return new KeysCommand(out, choice).run();
    } catch (UsageException e) {
      return e.report(err);
    } catch (ConfigException e) {
      err.println("llm-router keys: " + e.getMessage());
      return UsageException.EXIT_CODE;
    } catch (IOException e) {
      err.println("llm-router keys: cannot read the config: " + e.getMessage());
      return UsageException.EXIT_CODE;
    } catch (CallError e) {
      err.println("llm-router keys: " + e.getMessage());
      return e.status() == GrpcStatus.INVALID_ARGUMENT ? UsageException.EXIT_CODE : FAILED;
    }
  }

  private int run() throws IOException {
    AuthConfig auth = AuthConfig.NONE;
    Path dataDir = Path.of(arguments.value(DATA_DIR.name()).orElse(ObservabilityConfig.DEFAULT.dataDir()));
    if (arguments.has(CONFIG.name())) {
      Path file = Path.of(arguments.value(CONFIG.name()).orElseThrow());
      RouterConfig config = ConfigLoader.parse(Files.readString(file), System::getenv);
      auth = config.auth();
      dataDir = Path.of(config.observability().dataDir());
    }
    // The whole command line is read before the store is opened: a wrong one opens (or creates) nothing.
    Function<CallerKeys, Integer> command = switch (syntax.name()) {
      case "create" -> create();
      case "list" -> this::list;
      case "revoke" -> this::revoke;
      case "update" -> update();
      default -> throw new IllegalStateException("no such keys command: " + syntax.name());
    };
    Vertx vertx = Vertx.vertx();
    try {
      KeyStorage storage = await(KeyStorage.open(vertx, auth, dataDir));
      try {
        return command.apply(new CallerKeys(storage.store(), storage.quotas(), clock));
      } finally {
        await(storage.close());
      }
    } finally {
      vertx.close();
    }
  }

  private Function<CallerKeys, Integer> create() {
    String name = arguments.value(NAME.name()).orElseThrow(() -> syntax.error("--name NAME is required"));
    KeyLimits.Builder limits = KeyLimits.newBuilder();
    limitsFromFlags(limits, new ArrayList<>());
    Optional<Duration> expiresIn = arguments.value(EXPIRES.name()).map(value -> duration(EXPIRES, value));
    return keys -> {
      CallerKeys.Created created = await(keys.create(name, limits.build(), expiresIn));
      out.println("created key " + created.key().getId() + " (" + created.key().getName() + "): "
          + describe(created.key()));
      out.println("the key follows, shown this once (the router keeps only its hash):");
      out.println(created.secret());
      return OK;
    };
  }

  private int list(CallerKeys keys) {
    List<CallerKey> all = await(keys.list());
    if (arguments.has(JSON_OUTPUT.name())) {
      all.forEach(key -> out.println(json(key)));
      return OK;
    }
    if (all.isEmpty()) {
      out.println("no keys yet: keys create --name NAME makes one");
      return OK;
    }
    out.printf("%-16s %-20s %-8s %-22s %s%n", "ID", "NAME", "STATUS", "LAST USED", "LIMITS AND SPEND");
    for (CallerKey key : all) {
      out.printf("%-16s %-20s %-8s %-22s %s%n", key.getId(), key.getName(), status(key),
          key.hasLastUseTime() ? minute(key.getLastUseTime()) : "never", describe(key));
    }
    return OK;
  }

  private int revoke(CallerKeys keys) {
    CallerKey key = await(keys.revoke(arguments.operands().get(0)));
    out.println("revoked key " + key.getId() + " (" + key.getName() + ") at " + minute(key.getRevokeTime()));
    return OK;
  }

  private Function<CallerKeys, Integer> update() {
    CallerKey.Builder values = CallerKey.newBuilder();
    List<String> paths = new ArrayList<>();
    arguments.value(NAME.name()).ifPresent(name -> {
      values.setName(name);
      paths.add("name");
    });
    limitsFromFlags(values.getLimitsBuilder(), paths);
    arguments.value(EXPIRES.name()).ifPresent(value -> {
      if (!value.equals("never")) {
        values.setExpireTime(Timestamps.fromMillis(clock.millis() + duration(EXPIRES, value).toMillis()));
      }
      paths.add("expire_time");
    });
    if (paths.isEmpty()) {
      throw syntax.error("name at least one thing to change, such as --rpm N");
    }
    return keys -> {
      CallerKey key = await(keys.update(arguments.operands().get(0), values.build(),
          FieldMask.newBuilder().addAllPaths(paths).build()));
      out.println("updated key " + key.getId() + " (" + key.getName() + "): " + describe(key));
      return OK;
    };
  }

  /** Sets the limits the flags give, adding the field mask path of each. */
  private void limitsFromFlags(KeyLimits.Builder limits, List<String> paths) {
    arguments.value(MODELS.name()).ifPresent(value -> {
      limits.addAllModels(list(value));
      paths.add("limits.models");
    });
    arguments.value(RPM.name()).ifPresent(value -> {
      limits.setRequestsPerMinute(count(RPM, value));
      paths.add("limits.requests_per_minute");
    });
    arguments.value(TPM.name()).ifPresent(value -> {
      limits.setTokensPerMinute(count(TPM, value));
      paths.add("limits.tokens_per_minute");
    });
    arguments.value(BUDGET.name()).ifPresent(value -> {
      if (!value.equals("none")) {
        limits.setBudgetUsd(dollars(value));
      }
      paths.add("limits.budget_usd");
    });
    arguments.value(BUDGET_WINDOW.name()).ifPresent(value -> {
      limits.setBudgetWindow(Durations.fromMillis(duration(BUDGET_WINDOW, value).toMillis()));
      paths.add("limits.budget_window");
    });
    arguments.value(MODES.name()).ifPresent(value -> {
      if (!value.equals("all")) {
        limits.addAllCassetteModes(list(value));
      }
      paths.add("limits.cassette_modes");
    });
  }

  private static List<String> list(String commaSeparated) {
    return Arrays.stream(commaSeparated.split(",")).map(String::strip).filter(item -> !item.isEmpty()).toList();
  }

  private long count(Flag flag, String value) {
    try {
      long count = Long.parseLong(value);
      if (count >= 0) {
        return count;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw syntax.error(flag.name() + " must be a whole number, 0 or more, not '" + value + "'");
  }

  private double dollars(String value) {
    try {
      return Double.parseDouble(value);
    } catch (NumberFormatException e) {
      throw syntax.error(BUDGET.name() + " must be a number of US dollars, like 25 or 0.50, or none; not '" + value
          + "'");
    }
  }

  private Duration duration(Flag flag, String value) {
    return Arguments.duration(value).filter(duration -> !duration.isZero()).orElseThrow(() -> syntax.error(
        flag.name() + " must be a duration like 90d, 12h or 30m" + (syntax == UPDATE && flag == EXPIRES
            ? ", or never" : "") + "; not '" + value + "'"));
  }

  /** The key's limits, spend and expiry on one line. */
  private String describe(CallerKey key) {
    KeyLimits limits = key.getLimits();
    List<String> parts = new ArrayList<>();
    parts.add("models " + (limits.getModelsCount() == 0 ? "all" : String.join(",", limits.getModelsList())));
    if (limits.getRequestsPerMinute() > 0) {
      parts.add(limits.getRequestsPerMinute() + " calls/min");
    }
    if (limits.getTokensPerMinute() > 0) {
      parts.add(limits.getTokensPerMinute() + " tokens/min");
    }
    if (limits.hasBudgetUsd()) {
      Duration window = limits.hasBudgetWindow() ? Duration.ofMillis(Durations.toMillis(limits.getBudgetWindow()))
          : Quotas.DEFAULT_BUDGET_WINDOW;
      parts.add(String.format(Locale.ROOT, "spent %.6f of %s USD per %s", key.getSpend().getSpentUsd(),
          limits.getBudgetUsd(), days(window)) + (key.getSpend().hasResetTime()
          ? " (until " + minute(key.getSpend().getResetTime()) + ")" : ""));
    } else if (key.getSpend().getSpentUsd() > 0) {
      parts.add(String.format(Locale.ROOT, "spent %.6f USD", key.getSpend().getSpentUsd()));
    }
    parts.add("modes " + (limits.getCassetteModesCount() == 0 ? "all"
        : String.join(",", limits.getCassetteModesList())));
    if (key.hasExpireTime()) {
      parts.add("expires " + minute(key.getExpireTime()));
    }
    return String.join("; ", parts);
  }

  private String status(CallerKey key) {
    if (key.hasRevokeTime()) {
      return "revoked";
    }
    return key.hasExpireTime() && Timestamps.toMillis(key.getExpireTime()) <= clock.millis() ? "expired" : "active";
  }

  /** A window as people say it: 30d, 12h, 90m. */
  private static String days(Duration window) {
    if (window.toHours() % 24 == 0 && window.toDays() > 0) {
      return window.toDays() + "d";
    }
    return window.toMinutes() % 60 == 0 ? window.toHours() + "h" : window.toMinutes() + "m";
  }

  private static String minute(Timestamp time) {
    return Timestamps.toString(time).replaceFirst(":\\d\\d(\\.\\d+)?Z$", "Z");
  }

  private static String json(CallerKey key) {
    try {
      return JSON.print(key);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Waits for the store; its refusal (a CallError) or failure comes out as a CallError. */
  private static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof CallError error ? error
          : new CallError(GrpcStatus.UNAVAILABLE, String.valueOf(e.getCause().getMessage()));
    }
  }
}
