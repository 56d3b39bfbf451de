package dev.llmrouter.server.config;

import java.util.Optional;

/**
 * The flags of `java -jar llm-router.jar`. Flags override the config file.
 *
 * @param configFile the YAML config, or empty for the embedded default
 * @param port overrides the port of `listen`
 * @param mode overrides `cassettes.mode`
 * @param cassetteDir overrides `cassettes.dir`
 * @param trackUsage the file listing the cassettes that answered, for `cassettes prune --unused`
 * @param dataDir overrides `data_dir` (where the call log is kept)
 * @param callLog overrides `call_log.enabled`
 * @param help whether to print usage and exit
 */
public record CommandLine(Optional<String> configFile, Optional<Integer> port, Optional<String> mode,
    Optional<String> cassetteDir, Optional<String> trackUsage, Optional<String> dataDir,
    Optional<Boolean> callLog, boolean help) {

  public static final String USAGE = """
      usage: java -jar server/target/llm-router.jar [--config FILE] [--port N] [--mode MODE] [--cassettes DIR]
                                                    [--track-usage FILE] [--data-dir DIR] [--call-log on|off]
             java -jar server/target/llm-router.jar cassettes list|show|verify|prune ...  (see `cassettes --help`)
             java -jar server/target/llm-router.jar calls list|trace|usage ...  (see `calls --help`)

        --config FILE     YAML config (see README.md, "Configuration"); without it the router runs its
                          embedded default: replay mode over cassettes/recorded, on 127.0.0.1:50051
        --port N          listen on port N (0 picks a free port); overrides `listen`
        --mode MODE       cassette mode: replay, record, auto or off; overrides `cassettes.mode`
        --cassettes DIR   cassette folder; overrides `cassettes.dir`
        --track-usage FILE
                          append the path of each cassette that answers a call to FILE, once per cassette,
                          for `cassettes prune --unused --usage FILE`
        --data-dir DIR    where the call log (DIR/calls.db) is kept; overrides `data_dir`
        --call-log on|off log every model call, or not; overrides `call_log.enabled`
        --help            print this text
      """;

  /** @throws ConfigException naming the bad flag */
  public static CommandLine parse(String... args) {
    Optional<String> config = Optional.empty();
    Optional<Integer> port = Optional.empty();
    Optional<String> mode = Optional.empty();
    Optional<String> cassettes = Optional.empty();
    Optional<String> trackUsage = Optional.empty();
    Optional<String> dataDir = Optional.empty();
    Optional<Boolean> callLog = Optional.empty();
    boolean help = false;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      switch (flag) {
        case "--help", "-h" -> help = true;
        case "--config" -> config = Optional.of(value(args, ++i, flag));
        case "--mode" -> {
          String value = value(args, ++i, flag);
          if (!value.matches("replay|record|auto|off")) {
            throw new ConfigException("--mode must be replay, record, auto or off, not '" + value + "'");
          }
          mode = Optional.of(value);
        }
        case "--cassettes" -> cassettes = Optional.of(value(args, ++i, flag));
        case "--track-usage" -> trackUsage = Optional.of(value(args, ++i, flag));
        case "--data-dir" -> dataDir = Optional.of(value(args, ++i, flag));
        case "--call-log" -> {
          String value = value(args, ++i, flag);
          if (!value.matches("on|off")) {
            throw new ConfigException("--call-log must be on or off, not '" + value + "'");
          }
          callLog = Optional.of(value.equals("on"));
        }
        case "--port" -> {
          String value = value(args, ++i, flag);
          try {
            int number = Integer.parseInt(value);
            if (number < 0 || number > 65535) {
              throw new NumberFormatException();
            }
            port = Optional.of(number);
          } catch (NumberFormatException e) {
            throw new ConfigException("--port must be a number from 0 to 65535, not '" + value + "'");
          }
        }
        default -> throw new ConfigException("unknown argument '" + flag + "'\n" + USAGE);
      }
    }
    return new CommandLine(config, port, mode, cassettes, trackUsage, dataDir, callLog, help);
  }

  /** Applies the flags over a loaded config. */
  public RouterConfig applyTo(RouterConfig config) {
    RouterConfig result = config;
    if (port.isPresent()) {
      result = result.withPort(port.get());
    }
    if (mode.isPresent()) {
      result = result.withCassettes(result.cassettes().withMode(mode.get()));
    }
    if (cassetteDir.isPresent()) {
      result = result.withCassettes(result.cassettes().withDir(cassetteDir.get()));
    }
    if (trackUsage.isPresent()) {
      result = result.withCassettes(result.cassettes().withUsageFile(trackUsage.get()));
    }
    if (dataDir.isPresent()) {
      result = result.withObservability(result.observability().withDataDir(dataDir.get()));
    }
    if (callLog.isPresent()) {
      result = result.withObservability(result.observability().withCallLog(callLog.get()));
    }
    return result;
  }

  private static String value(String[] args, int index, String flag) {
    if (index >= args.length || args[index].startsWith("--")) {
      throw new ConfigException(flag + " needs a value\n" + USAGE);
    }
    return args[index];
  }
}
