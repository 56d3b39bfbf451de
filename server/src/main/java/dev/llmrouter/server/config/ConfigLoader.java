package dev.llmrouter.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.cassettes.MatchRule;
import dev.llmrouter.cassettes.MatchRules;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.bedrock.BedrockAdapter;
import dev.llmrouter.server.provider.ProviderTypes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads the YAML config: `${ENV}` substitution, then validation whose errors name the field and its line.
 *
 * <pre>
 * listen: 127.0.0.1:50051
 * event_loops: 2
 * admin_listen: 127.0.0.1:9464
 * max_message_bytes: 16777216
 * data_dir: data
 * call_log: { enabled: true, bodies: true, queue_size: 10000, retention: 30d, max_body_bytes: 1048576,
 *             postgres_url: "postgresql://router@db.internal:5432/llm_router" }
 * prices:
 *   gpt-4o-mini: { input: 0.15, output: 0.60, cached_input: 0.075, context_window: 128000, max_output_tokens: 16384 }
 * cassettes: { dir: cassettes/recorded, mode: replay }
 * tls: { cert_file: server.pem, key_file: server-key.pem, client_ca_file: clients-ca.pem }
 * auth: { required: true, admin_key: "${ROUTER_ADMIN_KEY}", max_failed_attempts: 20 }
 * shared_state: { redis_url: "redis://127.0.0.1:6379" }
 * admin: { metrics_public: false }
 * drain_timeout: 30s
 * prompts: { dir: prompts, reload_interval: 2s }
 * conversations: { compaction: { model: openai/gpt-4o-mini, prompt: "Summarise...", keep_turns: 1 } }
 * providers:
 *   - { name: openai, type: openai, base_url: https://api.openai.com/v1, api_key: "${OPENAI_API_KEY}" }
 * </pre>
 */
public final class ConfigLoader {

  /** Each event loop is a thread: a bound far above any core count, against a typo starting thousands. */
  public static final int MAX_EVENT_LOOPS = 1024;

  private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
  private static final Pattern WHOLE_ENV_REFERENCE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");
  private static final int MIN_ADMIN_KEY_LENGTH = 32;
  private static final String AZURE_OPENAI = "azure-openai";
  private static final String VERTEX = "vertex";
  private static final String BEDROCK = "bedrock";
  /** An AWS region name: us-east-1, eu-central-2, us-gov-west-1... */
  private static final Pattern AWS_REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-\\d+");

  private final Function<String, String> environment;
  private final Map<String, Integer> lineOfField = new HashMap<>();
  private final List<String> errors = new ArrayList<>();

  private ConfigLoader(Function<String, String> environment) {
    this.environment = environment;
  }

  /** The configuration the router runs with when no file is given: replay over the bundled cassettes. */
  public static RouterConfig embeddedDefault(Function<String, String> environment) {
    String yaml = """
        listen: 127.0.0.1:50051
        cassettes: { dir: cassettes/recorded, mode: replay }
        conversations: { compaction: { model: openai/gpt-4o-mini } }
        providers:
          - { name: openai, type: openai, base_url: https://api.openai.com/v1, api_key: "${OPENAI_API_KEY}" }
          - { name: anthropic, type: anthropic, base_url: https://api.anthropic.com, api_key: "${ANTHROPIC_API_KEY}" }
          - { name: gemini, type: gemini, base_url: https://generativelanguage.googleapis.com, api_key: "${GEMINI_API_KEY}" }
        """;
    return parse(yaml, environment);
  }

  /** Parses and validates a YAML document; throws {@link ConfigException} listing every problem found. */
  public static RouterConfig parse(String yaml, Function<String, String> environment) {
    return new ConfigLoader(environment).load(yaml);
  }

  /** Reads, parses and validates a config file (blocking); {@link ConfigException} when it is missing or wrong. */
  public static RouterConfig read(Path file, Function<String, String> environment) {
    try {
      return parse(Files.readString(file), environment);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + file + " does not exist");
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
    }
  }

  /** A duration as the config writes it (30s, 500ms, 2m, 12h, 30d, or ISO-8601 like PT30S); empty when it is not. */
  public static Optional<Duration> duration(String value) {
    Matcher m = DURATION.matcher(value);
    try {
      if (m.matches()) {
        long amount = Long.parseLong(m.group(1));
        return Optional.of(switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(amount);
          case "s" -> Duration.ofSeconds(amount);
          case "m" -> Duration.ofMinutes(amount);
          case "h" -> Duration.ofHours(amount);
          default -> Duration.ofDays(amount);
        });
      }
      return Optional.of(Duration.parse(value));
    } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
      // An amount too large for a long or a Duration is a config error too (inputs kept in ConfigLoaderFuzzTest).
      return Optional.empty();
    }
  }

  private RouterConfig load(String yaml) {
    ObjectNode root = readTree(yaml);
    checkKnownFields(root, "",
        Set.of("listen", "event_loops", "admin_listen", "max_message_bytes", "cassettes", "providers", "models",
            "retry", "circuit_breaker", "converse", "data_dir", "call_log", "prices", "stream_keep_alive", "tls",
            "auth", "shared_state", "admin", "drain_timeout", "prompts", "conversations"));

    RouterConfig.Address listen = address(root, "/listen", "127.0.0.1:50051");
    Optional<RouterConfig.Address> adminListen = root.has("admin_listen")
        ? Optional.of(address(root, "/admin_listen", "")) : Optional.empty();

    int eventLoops = eventLoops(root);
    long maxMessageBytes = root.has("max_message_bytes") ? root.get("max_message_bytes").asLong(-1)
        : RouterConfig.DEFAULT_MAX_MESSAGE_BYTES;
    if (maxMessageBytes < 256 * 1024) {
      error("/max_message_bytes", "must be a whole number of bytes, at least 262144 (256 KiB)");
    }

    CassetteConfig cassettes = cassettes(root.path("cassettes"));
    List<ProviderConfig> providers = providers(root.path("providers"));
    List<AliasConfig> aliases = aliases(root.path("models"), providers);
    ResilienceConfig resilience = resilience(root);
    ConverseConfig converse = converse(root.path("converse"));
    ObservabilityConfig observability = observability(root);
    Duration streamKeepAlive = duration(root, "/stream_keep_alive", RouterConfig.DEFAULT_STREAM_KEEP_ALIVE);
    if (streamKeepAlive.isZero()) {
      error("/stream_keep_alive", "must be more than 0, like 15s");
    }
    Optional<TlsConfig> tls = tls(root.path("tls"));
    AuthConfig auth = auth(root);
    Duration drainTimeout = duration(root, "/drain_timeout", RouterConfig.DEFAULT_DRAIN_TIMEOUT);
    if (drainTimeout.isNegative()) {
      error("/drain_timeout", "must be 0 (cancel running calls at once) or more, like 30s");
    }
    PromptConfig prompts = prompts(root);
    ConversationConfig conversations = conversations(root);
    if (!root.path("auth").has("required")) {
      requireLoopback("/listen", listen);
      adminListen.ifPresent(admin -> requireLoopback("/admin_listen", admin));
    }
    if (!errors.isEmpty()) {
      throw new ConfigException(errors);
    }
    return new RouterConfig(listen.host(), listen.port(), eventLoops, maxMessageBytes, cassettes,
        List.copyOf(providers), aliases, resilience, converse, adminListen, observability, streamKeepAlive, tls, auth,
        drainTimeout, prompts, conversations);
  }

  private PromptConfig prompts(ObjectNode root) {
    JsonNode section = section(root, "prompts", Set.of("dir", "reload_interval"), "{ dir: prompts }");
    Duration reloadInterval = duration(section, "/prompts/reload_interval", PromptConfig.DEFAULT.reloadInterval());
    if (reloadInterval.compareTo(Duration.ofMillis(10)) < 0) {
      error("/prompts/reload_interval", "must be at least 10ms, like 2s");
    }
    return new PromptConfig(text(section, "/prompts/dir", PromptConfig.DEFAULT.dir()), reloadInterval);
  }

  private ConversationConfig conversations(ObjectNode root) {
    ConversationConfig d = ConversationConfig.DEFAULT;
    JsonNode section = section(root, "conversations", Set.of("compaction"),
        "{ compaction: { model: openai/gpt-4o-mini } }");
    JsonNode compaction = section.path("compaction");
    if (!compaction.isMissingNode() && !compaction.isObject()) {
      error("/conversations/compaction", "must be a mapping like { model: openai/gpt-4o-mini, prompt: \"...\" }");
    } else if (compaction.isObject()) {
      checkKnownFields((ObjectNode) compaction, "/conversations/compaction", Set.of("model", "prompt", "keep_turns"));
    }
    int keepTurns = compaction.path("keep_turns").asInt(d.keepTurns());
    if (keepTurns < 1) {
      error("/conversations/compaction/keep_turns", "must be at least 1 (the latest user turns kept as they are)");
    }
    return new ConversationConfig(
        Optional.of(text(compaction, "/conversations/compaction/model", "")).filter(model -> !model.isEmpty()),
        text(compaction, "/conversations/compaction/prompt", d.compactionPrompt()), keepTurns);
  }

  private int eventLoops(ObjectNode root) {
    JsonNode value = root.path("event_loops");
    if (value.isMissingNode()) {
      return RouterConfig.DEFAULT_EVENT_LOOPS;
    }
    // A number, or digits from an ${ENV} reference (substituted as text).
    boolean whole = value.isIntegralNumber() && value.canConvertToInt()
        || value.isTextual() && value.asText().matches("\\d{1,9}");
    if (!whole || value.asLong() < 1 || value.asLong() > MAX_EVENT_LOOPS) {
      error("/event_loops", "must be a whole number from 1 to " + MAX_EVENT_LOOPS + " (the default is one per core: "
          + RouterConfig.DEFAULT_EVENT_LOOPS + " here), not '" + value.asText() + "'");
      return RouterConfig.DEFAULT_EVENT_LOOPS;
    }
    return value.asInt();
  }

  private Optional<TlsConfig> tls(JsonNode section) {
    if (section.isMissingNode()) {
      return Optional.empty();
    }
    if (!section.isObject()) {
      error("/tls", "must be a mapping like { cert_file: server.pem, key_file: server-key.pem, client_ca_file: "
          + "clients-ca.pem }");
      return Optional.empty();
    }
    checkKnownFields((ObjectNode) section, "/tls", Set.of("cert_file", "key_file", "client_ca_file"));
    Optional<Path> certFile = file(section, "/tls/cert_file", "is required: the server's certificate (PEM)");
    Optional<Path> keyFile = file(section, "/tls/key_file", "is required: the private key of cert_file (PEM)");
    Optional<Path> clientCaFile = section.has("client_ca_file")
        ? file(section, "/tls/client_ca_file", "must name a file") : Optional.empty();
    // With an error reported, what is returned does not matter: the config is refused.
    return certFile.isPresent() && keyFile.isPresent()
        ? Optional.of(new TlsConfig(certFile.get(), keyFile.get(), clientCaFile)) : Optional.empty();
  }

  /** The readable file a field names; its contents are checked when the router starts. */
  private Optional<Path> file(JsonNode section, String pointer, String whenMissing) {
    String name = text(section, pointer, "");
    if (name.isEmpty()) {
      error(pointer, whenMissing);
      return Optional.empty();
    }
    try {
      Path file = Path.of(name);
      if (Files.isRegularFile(file) && Files.isReadable(file)) {
        return Optional.of(file);
      }
      error(pointer, Files.exists(file) ? name + " is not a readable file"
          : "no file " + name + " (relative to the working directory, " + Path.of("").toAbsolutePath() + ")");
    } catch (InvalidPathException e) {
      error(pointer, "is not a file path: " + e.getReason());
    }
    return Optional.empty();
  }

  private AuthConfig auth(ObjectNode root) {
    JsonNode auth = section(root, "auth", Set.of("required", "admin_key", "max_failed_attempts"),
        "{ required: true, admin_key: \"${ROUTER_ADMIN_KEY}\" }");
    JsonNode sharedState = section(root, "shared_state", Set.of("redis_url"),
        "{ redis_url: \"redis://127.0.0.1:6379\" }");
    JsonNode admin = section(root, "admin", Set.of("metrics_public"), "{ metrics_public: true }");
    Optional<ProviderConfig.ApiKey> adminKey = auth.has("admin_key")
        ? apiKey(auth.get("admin_key"), "/auth/admin_key") : Optional.empty();
    adminKey.filter(key -> !key.value().isEmpty() && key.value().length() < MIN_ADMIN_KEY_LENGTH).ifPresent(key ->
        error("/auth/admin_key", key.variable() + " holds " + key.value().length() + " characters; an admin key "
            + "needs at least " + MIN_ADMIN_KEY_LENGTH + " (openssl rand -hex 32 makes one)"));
    int maxFailedAttempts = auth.path("max_failed_attempts").asInt(AuthConfig.DEFAULT_MAX_FAILED_ATTEMPTS);
    if (maxFailedAttempts < 1) {
      error("/auth/max_failed_attempts", "must be at least 1 (wrong keys per client address per minute)");
    }
    Optional<String> redisUrl = Optional.of(text(sharedState, "/shared_state/redis_url", "")).filter(u -> !u.isEmpty());
    redisUrl.filter(url -> !url.matches("(redis|rediss|unix)://.+")).ifPresent(url -> error("/shared_state/redis_url",
        "must be a redis://, rediss:// or unix:// URL, like redis://127.0.0.1:6379"));
    return new AuthConfig(flag(auth, "/auth/required"), adminKey, maxFailedAttempts,
        flag(admin, "/admin/metrics_public"), redisUrl);
  }

  /** A section that must be a mapping of known fields; the missing node when absent or not a mapping. */
  private JsonNode section(ObjectNode root, String name, Set<String> fields, String example) {
    JsonNode section = root.path(name);
    if (section.isMissingNode()) {
      return section;
    }
    if (!section.isObject()) {
      error("/" + name, "must be a mapping like " + example);
      return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }
    checkKnownFields((ObjectNode) section, "/" + name, fields);
    return section;
  }

  /** Secure by default: without keys, the router listens on loopback only, unless the config says otherwise. */
  private void requireLoopback(String pointer, RouterConfig.Address address) {
    if (!isLoopback(address.host())) {
      error(pointer, address.host() + " is not a loopback address, and the router has no `auth:`: set "
          + "`auth: { required: true }` so that callers need a key, or `auth: { required: false }` to serve "
          + "anyone who can reach it");
    }
  }

  /** Loopback by its literal form (localhost, 127.0.0.0/8, ::1): a name is never resolved here. */
  private static boolean isLoopback(String host) {
    String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    return bare.equals("localhost") || bare.equals("::1") || bare.equals("0:0:0:0:0:0:0:1")
        || bare.matches("127\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){2}");
  }

  private CassetteConfig cassettes(JsonNode section) {
    boolean inCi = isCi(environment.apply("CI"));
    CassetteConfig defaults = new CassetteConfig(CassetteConfig.DEFAULT_DIR, "replay", false, false, Optional.empty(),
        List.of(), List.of(), MatchRules.NONE, false, inCi, Optional.empty(), Optional.empty());
    if (section.isMissingNode()) {
      return defaults;
    }
    if (!section.isObject()) {
      error("/cassettes", "must be a mapping like { dir: cassettes/recorded, mode: replay }");
      return defaults;
    }
    checkKnownFields((ObjectNode) section, "/cassettes", Set.of("dir", "mode", "allow_mode_override", "record_timing",
        "redact", "match", "match_sets", "allow_record_in_ci"));
    // YAML 1.1 reads a bare `off` as the boolean false.
    String mode = section.path("mode").isBoolean() && !section.path("mode").asBoolean() ? "off"
        : text(section, "/cassettes/mode", defaults.mode());
    try {
      CassetteMode.parse(mode);
    } catch (IllegalArgumentException unknown) {
      error("/cassettes/mode", "must be one of " + CassetteMode.names() + ", not '" + mode + "'");
    }
    JsonNode redact = section.path("redact");
    if (redact.isObject()) {
      checkKnownFields((ObjectNode) redact, "/cassettes/redact", Set.of("patterns", "fields"));
    }
    List<String> patterns = new ArrayList<>();
    for (int i = 0; i < redact.path("patterns").size(); i++) {
      String pattern = redact.path("patterns").get(i).asText();
      try {
        java.util.regex.Pattern.compile(pattern);
        patterns.add(pattern);
      } catch (java.util.regex.PatternSyntaxException e) {
        error("/cassettes/redact/patterns/" + i, "is not a valid regular expression: " + e.getDescription());
      }
    }
    List<String> fields = new ArrayList<>();
    redact.path("fields").forEach(field -> fields.add(field.asText()));
    // Whether the mode may record in CI is checked when the router starts, with the command line's --mode applied.
    return new CassetteConfig(text(section, "/cassettes/dir", defaults.dir()), mode,
        flag(section, "/cassettes/allow_mode_override"), flag(section, "/cassettes/record_timing"), Optional.empty(),
        List.copyOf(patterns), List.copyOf(fields), new MatchRules(matchRules(section.path("match"), "/cassettes/match"),
            matchSets(section.path("match_sets"))), flag(section, "/cassettes/allow_record_in_ci"), inCi,
        Optional.empty(), Optional.empty());
  }

  /** The CI systems that say so set CI=true (GitHub Actions, GitLab, CircleCI, Travis, Buildkite...), some CI=1. */
  private static boolean isCi(String value) {
    return value != null && (value.equalsIgnoreCase("true") || value.equals("1"));
  }

  /** `match_sets:` named lists of match rules, which a call picks with `x-cassette-match: <name>`. */
  private Map<String, List<MatchRule>> matchSets(JsonNode section) {
    Map<String, List<MatchRule>> sets = new LinkedHashMap<>();
    if (section.isMissingNode()) {
      return sets;
    }
    if (!section.isObject()) {
      error("/cassettes/match_sets", "must map names to lists of rules, like { dates: [{ replace: '\\d{4}-\\d{2}-"
          + "\\d{2}', with: \"<date>\" }] }");
      return sets;
    }
    section.fields().forEachRemaining(set -> {
      String at = "/cassettes/match_sets/" + set.getKey();
      if (!set.getKey().matches("[A-Za-z0-9._-]{1,64}")) {
        error(at, "a set name is 1 to 64 letters, digits, '.', '_' or '-' (it is sent as x-cassette-match), not '"
            + set.getKey() + "'");
      }
      sets.put(set.getKey(), matchRules(set.getValue(), at));
    });
    return sets;
  }

  /**
   * A list of match rules: { scope: GLOB, replace: REGEX, with: TEXT } or { scope: GLOB, ignore: [FIELD PATHS] }, the
   * scope `*` (every scope) when left out. Each rule is named by where it is defined, for miss diagnostics.
   */
  private List<MatchRule> matchRules(JsonNode list, String pointer) {
    List<MatchRule> rules = new ArrayList<>();
    if (list.isMissingNode()) {
      return rules;
    }
    if (!list.isArray()) {
      error(pointer, "must be a list of rules like { scope: \"*\", replace: '\\d{4}-\\d{2}-\\d{2}', with: "
          + "\"<date>\" } or { scope: \"*\", ignore: [settings.temperature] }");
      return rules;
    }
    for (int i = 0; i < list.size(); i++) {
      String at = pointer + "/" + i;
      JsonNode rule = list.get(i);
      if (!rule.isObject()) {
        error(at, "must be a mapping like { scope: \"*\", replace: '\\d{4}-\\d{2}-\\d{2}', with: \"<date>\" } or "
            + "{ scope: \"*\", ignore: [settings.temperature] }");
        continue;
      }
      checkKnownFields((ObjectNode) rule, at, Set.of("scope", "replace", "with", "ignore"));
      String scope = text(rule, at + "/scope", "*");
      if (!scope.matches("[A-Za-z0-9._/*?-]{1,200}")) {
        error(at + "/scope", "must be a scope glob of letters, digits, '.', '_', '-', '/', '*' (any characters) and "
            + "'?' (one), like \"*\" or \"billing/*\", not '" + scope + "'");
      }
      if (rule.has("replace") == rule.has("ignore")) {
        error(at, rule.has("replace") ? "give either replace (with `with`) or ignore, not both: make them two rules"
            : "needs replace: REGEX with with: TEXT, or ignore: [FIELD PATHS]");
      } else if (rule.has("replace")) {
        replaceRule(rule, at, scope).ifPresent(rules::add);
      } else {
        ignoreRule(rule, at, scope).ifPresent(rules::add);
      }
    }
    return rules;
  }

  private Optional<MatchRule> replaceRule(JsonNode rule, String at, String scope) {
    String regex = text(rule, at + "/replace", "");
    Pattern pattern = null;
    if (regex.isEmpty()) {
      error(at + "/replace", "must be a regular expression, like '\\d{4}-\\d{2}-\\d{2}'");
    } else {
      try {
        pattern = Pattern.compile(regex);
      } catch (java.util.regex.PatternSyntaxException e) {
        error(at + "/replace", "is not a valid regular expression: " + e.getDescription() + " near index "
            + e.getIndex() + " of '" + regex + "'");
      }
    }
    if (!rule.has("with")) {
      error(at, "replace needs with: the text each match becomes, like \"<date>\"");
      return Optional.empty();
    }
    if (!rule.get("with").isValueNode()) {
      error(at + "/with", "must be a text, like \"<date>\"");
      return Optional.empty();
    }
    return pattern == null ? Optional.empty()
        : Optional.of(MatchRule.replace(where(at), scope, pattern, rule.get("with").asText()));
  }

  private Optional<MatchRule> ignoreRule(JsonNode rule, String at, String scope) {
    JsonNode ignore = rule.get("ignore");
    if (!ignore.isArray() || ignore.isEmpty()) {
      error(at + "/ignore", "must list field paths, like [settings.temperature, tools.description]");
      return Optional.empty();
    }
    List<String> paths = new ArrayList<>();
    for (int j = 0; j < ignore.size(); j++) {
      String path = ignore.get(j).asText();
      try {
        MatchRule.checkFieldPath(path);
        paths.add(path);
      } catch (IllegalArgumentException e) {
        error(at + "/ignore/" + j, "is not a field of a request: " + e.getMessage());
      }
    }
    return paths.size() == ignore.size() ? Optional.of(MatchRule.ignore(where(at), scope, paths)) : Optional.empty();
  }

  private List<AliasConfig> aliases(JsonNode list, List<ProviderConfig> providers) {
    List<AliasConfig> aliases = new ArrayList<>();
    if (list.isMissingNode()) {
      return aliases;
    }
    if (!list.isArray()) {
      error("/models", "must be a list of { alias, strategy, targets }");
      return aliases;
    }
    Set<String> providerNames = new HashSet<>();
    providers.forEach(p -> providerNames.add(p.name()));
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String at = "/models/" + i;
      JsonNode node = list.get(i);
      if (!node.isObject()) {
        error(at, "must be a mapping like { alias: fast, strategy: fallback, targets: [{ model: openai/gpt-4o-mini }] }");
        continue;
      }
      checkKnownFields((ObjectNode) node, at, Set.of("alias", "strategy", "targets"));
      String alias = required(node, at + "/alias");
      if (alias.contains("/")) {
        error(at + "/alias", "must not contain '/' (that is how provider models are named), not '" + alias + "'");
      } else if (!alias.isEmpty() && !names.add(alias)) {
        error(at + "/alias", "'" + alias + "' is defined twice");
      }
      String strategy = text(node, at + "/strategy", "fallback");
      if (!strategy.equals("fallback") && !strategy.equals("weighted")) {
        error(at + "/strategy", "must be fallback or weighted, not '" + strategy + "'");
      }
      List<AliasConfig.Target> targets = new ArrayList<>();
      JsonNode targetList = node.path("targets");
      if (!targetList.isArray() || targetList.isEmpty()) {
        error(at + "/targets", "must list at least one { model: <provider>/<model> }");
      }
      for (int j = 0; j < targetList.size(); j++) {
        String targetAt = at + "/targets/" + j;
        JsonNode target = targetList.get(j);
        String model = target.isObject() ? required(target, targetAt + "/model") : "";
        int slash = model.indexOf('/');
        if (!model.isEmpty() && (slash <= 0 || !providerNames.contains(model.substring(0, slash)))) {
          error(targetAt + "/model", "must be <provider>/<model> with one of the configured providers "
              + new java.util.TreeSet<>(providerNames) + ", not '" + model + "'");
        }
        double weight = target.path("weight").asDouble(1);
        if (weight < 0) {
          error(targetAt + "/weight", "must not be negative");
        }
        targets.add(new AliasConfig.Target(model, weight));
      }
      aliases.add(new AliasConfig(alias, strategy.equals("weighted") ? AliasConfig.Strategy.WEIGHTED
          : AliasConfig.Strategy.FALLBACK, List.copyOf(targets)));
    }
    return List.copyOf(aliases);
  }

  private ConverseConfig converse(JsonNode section) {
    ConverseConfig d = ConverseConfig.DEFAULT;
    if (section.isObject()) {
      checkKnownFields((ObjectNode) section, "/converse", Set.of("idle_timeout", "max_sessions", "max_steps",
          "final_prompt"));
    }
    long maxSessions = section.path("max_sessions").asLong(d.maxSessions());
    int maxSteps = section.path("max_steps").asInt(d.maxSteps());
    if (maxSessions < 1) {
      error("/converse/max_sessions", "must be at least 1");
    }
    if (maxSteps < 1) {
      error("/converse/max_steps", "must be at least 1");
    }
    return new ConverseConfig(duration(section, "/converse/idle_timeout", d.idleTimeout()), maxSessions, maxSteps,
        text(section, "/converse/final_prompt", d.finalPrompt()));
  }

  private ObservabilityConfig observability(ObjectNode root) {
    ObservabilityConfig d = ObservabilityConfig.DEFAULT;
    JsonNode callLog = root.path("call_log");
    if (callLog.isObject()) {
      checkKnownFields((ObjectNode) callLog, "/call_log",
          Set.of("enabled", "bodies", "queue_size", "retention", "max_body_bytes", "postgres_url"));
    } else if (!callLog.isMissingNode()) {
      error("/call_log", "must be a mapping like { enabled: true, bodies: true, queue_size: 10000, retention: 30d }");
    }
    int queueSize = callLog.path("queue_size").asInt(d.callLogQueueSize());
    if (queueSize < 1) {
      error("/call_log/queue_size", "must be at least 1");
    }
    Optional<Duration> retention = callLog.has("retention")
        ? Optional.ofNullable(duration(callLog, "/call_log/retention", null)) : d.callLogRetention();
    if (retention.isPresent() && (retention.get().isNegative() || retention.get().isZero())) {
      error("/call_log/retention", "must be a duration like 30d or 12h");
    }
    int maxBodyBytes = callLog.path("max_body_bytes").asInt(d.callLogMaxBodyBytes());
    if (maxBodyBytes < 1) {
      error("/call_log/max_body_bytes", "must be at least 1");
    }
    Map<String, ObservabilityConfig.ModelPrice> prices = new LinkedHashMap<>(BundledPrices.TABLE);
    prices.putAll(prices(root.path("prices"), BundledPrices.TABLE));
    return new ObservabilityConfig(text(root, "/data_dir", d.dataDir()),
        callLog.has("enabled") ? flag(callLog, "/call_log/enabled") : d.callLog(),
        callLog.has("bodies") ? flag(callLog, "/call_log/bodies") : d.callLogBodies(), queueSize, retention,
        maxBodyBytes, Map.copyOf(prices), postgresUrl(callLog), d.tracing());
  }

  /** `call_log.postgres_url`, checked: its errors never repeat the URL, which may hold a password. */
  private Optional<PostgresUrl> postgresUrl(JsonNode callLog) {
    String url = text(callLog, "/call_log/postgres_url", "");
    if (url.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(PostgresUrl.parse(url, environment));
    } catch (IllegalArgumentException e) {
      error("/call_log/postgres_url", e.getMessage());
      return Optional.empty();
    }
  }

  /** The price table bundled as {@code llmrouter/prices.yaml}, read once, with the parser of `prices:`. */
  private static final class BundledPrices {
    static final Map<String, ObservabilityConfig.ModelPrice> TABLE = read();

    private static Map<String, ObservabilityConfig.ModelPrice> read() {
      ConfigLoader loader = new ConfigLoader(name -> null);
      try (var in = ConfigLoader.class.getResourceAsStream("/llmrouter/prices.yaml")) {
        Map<String, ObservabilityConfig.ModelPrice> prices =
            loader.prices(loader.readTree(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)),
                Map.of());
        if (!loader.errors.isEmpty()) {
          throw new IllegalStateException("the bundled llmrouter/prices.yaml is invalid: " + loader.errors);
        }
        return Map.copyOf(prices);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot read the bundled llmrouter/prices.yaml", e);
      }
    }
  }

  /**
   * `prices:`, each entry over the same model's entry in {@code base} (the bundled table): its prices (input,
   * output, cached input and web search together) and each of its limits replace the bundled ones, and what it leaves
   * out is kept, so `{ context_window: 64000 }` changes a bundled model's window alone. A model not in {@code base}
   * needs its input and output prices.
   */
  private Map<String, ObservabilityConfig.ModelPrice> prices(JsonNode section,
      Map<String, ObservabilityConfig.ModelPrice> base) {
    Map<String, ObservabilityConfig.ModelPrice> prices = new LinkedHashMap<>();
    if (section.isMissingNode()) {
      return prices;
    }
    if (!section.isObject()) {
      error("/prices", "must map model names to prices, like { gpt-4o-mini: { input: 0.15, output: 0.60 } }");
      return prices;
    }
    section.fields().forEachRemaining(entry -> {
      String at = "/prices/" + entry.getKey();
      JsonNode price = entry.getValue();
      if (!price.isObject()) {
        error(at, "must be a mapping like { input: 0.15, output: 0.60, cached_input: 0.075, context_window: 128000, "
            + "max_output_tokens: 16384, modalities: [text, image] } (USD per million tokens)");
        return;
      }
      checkKnownFields((ObjectNode) price, at, Set.of("input", "output", "cached_input", "web_search",
          "context_window", "max_output_tokens", "modalities"));
      Optional<ObservabilityConfig.ModelPrice> bundled = Optional.ofNullable(base.get(entry.getKey()));
      // The prices go together (a new input price with the old cached one would be neither); limits one by one.
      Optional<ObservabilityConfig.ModelPrice> keptPrices = price.has("input") || price.has("output")
          || price.has("cached_input") || price.has("web_search") ? Optional.empty() : bundled;
      double input = keptPrices.isPresent() ? keptPrices.get().input() : pricePerMillion(price, at + "/input", true);
      double output = keptPrices.isPresent() ? keptPrices.get().output()
          : pricePerMillion(price, at + "/output", true);
      OptionalDouble cached = keptPrices.isPresent() ? keptPrices.get().cachedInput() : price.has("cached_input")
          ? OptionalDouble.of(pricePerMillion(price, at + "/cached_input", false)) : OptionalDouble.empty();
      // US dollars per 1000 searches, checked like the per-token prices
      OptionalDouble webSearch = keptPrices.isPresent() ? keptPrices.get().webSearch() : price.has("web_search")
          ? OptionalDouble.of(pricePerMillion(price, at + "/web_search", false)) : OptionalDouble.empty();
      OptionalInt window = price.has("context_window") ? tokenLimit(price, at + "/context_window")
          : bundled.map(ObservabilityConfig.ModelPrice::contextWindow).orElse(OptionalInt.empty());
      OptionalInt maxOutput = price.has("max_output_tokens") ? tokenLimit(price, at + "/max_output_tokens")
          : bundled.map(ObservabilityConfig.ModelPrice::maxOutputTokens).orElse(OptionalInt.empty());
      List<String> modalities = price.has("modalities") ? modalities(price.get("modalities"), at + "/modalities")
          : bundled.map(ObservabilityConfig.ModelPrice::modalities).orElse(List.of());
      prices.put(entry.getKey(), new ObservabilityConfig.ModelPrice(input, output, cached, webSearch, window,
          maxOutput, modalities));
    });
    return prices;
  }

  private OptionalInt tokenLimit(JsonNode price, String pointer) {
    JsonNode value = price.path(pointer.substring(pointer.lastIndexOf('/') + 1));
    if (!value.canConvertToInt() || !value.isIntegralNumber() || value.asInt() < 1) {
      error(pointer, "must be a number of tokens, a whole number at least 1");
      return OptionalInt.empty();
    }
    return OptionalInt.of(value.asInt());
  }

  private List<String> modalities(JsonNode value, String pointer) {
    Set<String> known = Set.of("text", "image", "pdf", "audio", "video");
    List<String> modalities = new ArrayList<>();
    if (value.isArray()) {
      value.forEach(modality -> modalities.add(modality.asText()));
    }
    if (!value.isArray() || !known.containsAll(modalities) || modalities.isEmpty()) {
      error(pointer, "must list what the model takes, from " + new TreeSet<>(known) + ", like [text, image]");
      return List.of();
    }
    return modalities;
  }

  private double pricePerMillion(JsonNode price, String pointer, boolean required) {
    JsonNode value = price.path(pointer.substring(pointer.lastIndexOf('/') + 1));
    if (value.isMissingNode() && !required) {
      return 0;
    }
    if (!value.isNumber() || value.asDouble() < 0) {
      error(pointer, "must be a price in US dollars per " + (pointer.endsWith("/web_search") ? "1000 searches"
          : "million tokens") + ", a number at least 0");
      return 0;
    }
    return value.asDouble();
  }

  private ResilienceConfig resilience(ObjectNode root) {
    ResilienceConfig d = ResilienceConfig.DEFAULT;
    JsonNode retry = root.path("retry");
    JsonNode breaker = root.path("circuit_breaker");
    if (retry.isObject()) {
      checkKnownFields((ObjectNode) retry, "/retry", Set.of("max_attempts", "initial_backoff", "max_backoff"));
    }
    if (breaker.isObject()) {
      checkKnownFields((ObjectNode) breaker, "/circuit_breaker", Set.of("failure_threshold", "cool_down"));
    }
    int maxAttempts = retry.path("max_attempts").asInt(d.maxAttempts());
    if (maxAttempts < 1) {
      error("/retry/max_attempts", "must be at least 1 (1 means no retry)");
    }
    int threshold = breaker.path("failure_threshold").asInt(d.breakerFailureThreshold());
    if (threshold < 1) {
      error("/circuit_breaker/failure_threshold", "must be at least 1");
    }
    return new ResilienceConfig(maxAttempts,
        duration(retry, "/retry/initial_backoff", d.initialBackoff()),
        duration(retry, "/retry/max_backoff", d.maxBackoff()), threshold,
        duration(breaker, "/circuit_breaker/cool_down", d.breakerCoolDown()));
  }

  private List<ProviderConfig> providers(JsonNode list) {
    List<ProviderConfig> providers = new ArrayList<>();
    if (list.isMissingNode()) {
      return providers;
    }
    if (!list.isArray()) {
      error("/providers", "must be a list of { name, type, base_url, api_key }");
      return providers;
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String at = "/providers/" + i;
      JsonNode node = list.get(i);
      if (!node.isObject()) {
        error(at, "must be a mapping like { name: openai, type: openai, base_url: ..., api_key: \"${OPENAI_API_KEY}\" }");
        continue;
      }
      checkKnownFields((ObjectNode) node, at,
          Set.of("name", "type", "base_url", "api_key", "api_keys", "models", "timeout", "max_concurrency",
              "max_connections", "connection_wait_timeout", "drop_unsupported_settings", "api_version",
              "azure_ad_token", "project", "location", "access_token", "credentials_file", "region", "bedrock_api"));
      String name = required(node, at + "/name");
      if (!name.isEmpty() && !name.matches("[a-z0-9][a-z0-9_-]*")) {
        error(at + "/name", "must be lower-case letters, digits, '-' or '_' (it prefixes model names), not '" + name + "'");
      }
      if (!names.add(name)) {
        error(at + "/name", "'" + name + "' is defined twice");
      }
      String type = required(node, at + "/type");
      if (!type.isEmpty() && !ProviderTypes.names().contains(type)) {
        error(at + "/type", "must be one of " + ProviderTypes.names() + ", not '" + type + "'");
      }
      String region = region(node, at, type);
      // Vertex AI's host follows from its location, a Bedrock deployment's from its region: base_url is only for
      // pointing them elsewhere (a local upstream).
      String baseUrl = type.equals(VERTEX) ? text(node, at + "/base_url", "")
          : !type.equals(BEDROCK) || node.has("base_url") ? required(node, at + "/base_url")
          : region.isEmpty() ? "" : BedrockAdapter.defaultBaseUrl(region);
      if (!baseUrl.isEmpty() && !baseUrl.matches("https?://[^\\s/]+.*")) {
        error(at + "/base_url", "must be an http:// or https:// URL, not '" + baseUrl + "'");
      }
      List<ProviderConfig.ApiKey> keys = new ArrayList<>();
      if (node.has("api_key")) {
        apiKey(node.get("api_key"), at + "/api_key").ifPresent(keys::add);
      }
      for (int k = 0; k < node.path("api_keys").size(); k++) {
        apiKey(node.path("api_keys").get(k), at + "/api_keys/" + k).ifPresent(keys::add);
      }
      String apiVersion = apiVersion(node, at, type);
      Optional<ProviderConfig.ApiKey> azureAdToken = Optional.empty();
      if (node.has("azure_ad_token")) {
        if (!type.equals(AZURE_OPENAI)) {
          error(at + "/azure_ad_token", "is for type " + AZURE_OPENAI + " only");
        } else if (node.has("api_key") || node.has("api_keys")) {
          error(at + "/azure_ad_token", "give either api_key or azure_ad_token, not both");
        }
        azureAdToken = apiKey(node.get("azure_ad_token"), at + "/azure_ad_token");
      } else if (type.equals(AZURE_OPENAI) && !node.has("api_key") && !node.has("api_keys")) {
        error(at + "/api_key", "is required for type " + AZURE_OPENAI + " (or azure_ad_token for Entra ID)");
      }
      Optional<ProviderConfig.GoogleCloud> googleCloud = googleCloud(node, at, type);
      if (baseUrl.isEmpty()) {
        baseUrl = googleCloud.map(ProviderConfig.GoogleCloud::defaultBaseUrl).orElse("");
      }
      List<String> models = new ArrayList<>();
      node.path("models").forEach(m -> models.add(m.asText()));
      Duration timeout = duration(node, at + "/timeout", Duration.ofMinutes(5));
      int maxConcurrency = node.path("max_concurrency").asInt(0);
      if (maxConcurrency < 0) {
        error(at + "/max_concurrency", "must be 0 (no limit) or more");
      }
      int maxConnections = node.path("max_connections").asInt(ProviderConfig.DEFAULT_MAX_CONNECTIONS);
      if (maxConnections < 1) {
        error(at + "/max_connections", "must be at least 1");
      }
      Duration connectionWaitTimeout = duration(node, at + "/connection_wait_timeout", timeout);
      providers.add(new ProviderConfig(name, type, stripTrailingSlash(baseUrl), List.copyOf(keys),
          List.copyOf(models), timeout, connectionWaitTimeout, maxConcurrency, maxConnections,
          flag(node, at + "/drop_unsupported_settings"), apiVersion, azureAdToken, googleCloud, region,
          type.equals(BEDROCK) ? awsKeys() : Optional.empty(), bedrockApi(node, at, type)));
    }
    return providers;
  }

  /** Azure OpenAI's `api-version`: required there (a call without one is refused), unknown to the other types. */
  private String apiVersion(JsonNode node, String at, String type) {
    String apiVersion = text(node, at + "/api_version", "");
    if (!type.equals(AZURE_OPENAI)) {
      if (node.has("api_version")) {
        error(at + "/api_version", "is for type " + AZURE_OPENAI + " only");
      }
      return "";
    }
    if (apiVersion.isEmpty()) {
      error(at + "/api_version", "is required for type " + AZURE_OPENAI + ": the dated API version of your resource, "
          + "like \"2024-10-21\"");
    } else if (!apiVersion.matches("\\d{4}-\\d{2}-\\d{2}(-preview)?")) {
      error(at + "/api_version", "must be a dated version like \"2024-10-21\" or \"2025-01-01-preview\", not '"
          + apiVersion + "'");
    }
    return apiVersion;
  }

  /**
   * Vertex AI's project, location and credentials, unknown to the other types. A project needs its location; an API
   * key without a project is Vertex AI express mode. One kind of credential at most: api_key(s), access_token or
   * credentials_file; none means Application Default Credentials.
   */
  private Optional<ProviderConfig.GoogleCloud> googleCloud(JsonNode node, String at, String type) {
    if (!type.equals(VERTEX)) {
      Stream.of("project", "location", "access_token", "credentials_file").filter(node::has)
          .forEach(field -> error(at + "/" + field, "is for type " + VERTEX + " only"));
      return Optional.empty();
    }
    String project = text(node, at + "/project", "");
    String location = text(node, at + "/location", "");
    boolean hasKey = node.has("api_key") || node.has("api_keys");
    if (project.isEmpty() && !hasKey) {
      error(at + "/project", "is required for type " + VERTEX + ": your Google Cloud project id (or give only an "
          + "api_key, for Vertex AI express mode)");
    } else if (!project.isEmpty() && !project.matches("[a-z0-9][a-z0-9.:-]*")) {
      error(at + "/project", "must be a Google Cloud project id like \"my-project\", not '" + project + "'");
    }
    if (!project.isEmpty() && location.isEmpty()) {
      error(at + "/location", "is required with a project: a region like \"us-central1\", or \"global\"");
    } else if (project.isEmpty() && !location.isEmpty()) {
      error(at + "/location", "goes with a project (express mode, an api_key without a project, has no location)");
    } else if (!location.isEmpty() && !location.matches("[a-z0-9-]+")) {
      error(at + "/location", "must be a region like \"us-central1\", or \"global\", not '" + location + "'");
    }
    List<String> credentials = Stream.of(hasKey ? "api_key" : "", node.has("access_token") ? "access_token" : "",
        node.has("credentials_file") ? "credentials_file" : "").filter(kind -> !kind.isEmpty()).toList();
    if (credentials.size() > 1) {
      error(at + "/" + credentials.get(1), "give one of api_key, access_token and credentials_file (or none, for "
          + "Application Default Credentials), not " + String.join(" and ", credentials));
    }
    Optional<ProviderConfig.ApiKey> accessToken = node.has("access_token")
        ? apiKey(node.get("access_token"), at + "/access_token") : Optional.empty();
    Optional<Path> credentialsFile = node.has("credentials_file")
        ? file(node, at + "/credentials_file", "must name a Google credentials JSON file") : Optional.empty();
    return Optional.of(new ProviderConfig.GoogleCloud(project, location, accessToken, credentialsFile));
  }

  /** A Bedrock deployment's AWS region: required there, unknown to the other types. */
  private String region(JsonNode node, String at, String type) {
    if (!type.equals(BEDROCK)) {
      if (node.has("region")) {
        error(at + "/region", "is for type " + BEDROCK + " only");
      }
      return "";
    }
    String region = text(node, at + "/region", "");
    if (region.isEmpty()) {
      error(at + "/region", "is required for type " + BEDROCK + ": the AWS region of the models, like us-east-1");
    } else if (!AWS_REGION.matcher(region).matches()) {
      error(at + "/region", "must be an AWS region like us-east-1 or eu-central-1, not '" + region + "'");
    }
    return region;
  }

  /** The API a Bedrock deployment calls: Converse unless it names InvokeModel; unknown to the other types. */
  private String bedrockApi(JsonNode node, String at, String type) {
    if (!type.equals(BEDROCK)) {
      if (node.has("bedrock_api")) {
        error(at + "/bedrock_api", "is for type " + BEDROCK + " only");
      }
      return "";
    }
    String api = text(node, at + "/bedrock_api", BedrockAdapter.CONVERSE);
    if (!api.equals(BedrockAdapter.CONVERSE) && !api.equals(BedrockAdapter.INVOKE)) {
      error(at + "/bedrock_api", "must be " + BedrockAdapter.CONVERSE + " (every model family) or "
          + BedrockAdapter.INVOKE + " (Claude models in Anthropic's Messages format), not '" + api + "'");
    }
    return api;
  }

  /**
   * The access keys in the environment, as the AWS default credentials chain reads them (its other sources, a
   * profile or the instance's role, are read at call time); empty unless both the key id and the secret are set.
   */
  private Optional<ProviderConfig.AwsKeys> awsKeys() {
    ProviderConfig.ApiKey id = environmentKey("AWS_ACCESS_KEY_ID");
    ProviderConfig.ApiKey secret = environmentKey("AWS_SECRET_ACCESS_KEY");
    ProviderConfig.ApiKey token = environmentKey("AWS_SESSION_TOKEN");
    if (id.value().isEmpty() || secret.value().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new ProviderConfig.AwsKeys(id, secret, Optional.of(token).filter(t -> !t.value().isEmpty())));
  }

  private ProviderConfig.ApiKey environmentKey(String variable) {
    return new ProviderConfig.ApiKey(variable, valueOrEmpty(environment.apply(variable)));
  }

  private Optional<ProviderConfig.ApiKey> apiKey(JsonNode raw, String pointer) {
    Matcher reference = WHOLE_ENV_REFERENCE.matcher(raw.asText());
    if (!reference.matches()) {
      error(pointer, "must name an environment variable, like \"${OPENAI_API_KEY}\": keys are never written in "
          + "config files");
      return Optional.empty();
    }
    return Optional.of(new ProviderConfig.ApiKey(reference.group(1),
        valueOrEmpty(environment.apply(reference.group(1)))));
  }

  private ObjectNode readTree(String yaml) {
    try {
      YamlDocument document = YamlDocument.parse(yaml);
      lineOfField.putAll(document.lines());
      JsonNode tree = document.tree();
      if (tree.isMissingNode()) {
        return new ObjectMapper().createObjectNode();
      }
      if (!tree.isObject()) {
        throw new ConfigException("invalid config: the top level must be a mapping (listen, cassettes, providers)");
      }
      substituteEnvironment(tree, "");
      return (ObjectNode) tree;
    } catch (IOException e) {
      throw new ConfigException("invalid config: not valid YAML: " + YamlDocument.describe(e));
    }
  }

  // API keys and the admin key keep their ${VAR} form here: they are resolved on their own so that a missing key is
  // not an error of the file (the router refuses to start without its admin key; `keys` commands need none).
  private void substituteEnvironment(JsonNode node, String pointer) {
    if (node.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        String at = pointer + "/" + field.getKey();
        if (field.getValue().isTextual() && !field.getKey().equals("api_key") && !field.getKey().equals("admin_key")
            && !field.getKey().equals("azure_ad_token") && !field.getKey().equals("access_token")) {
          ((ObjectNode) node).put(field.getKey(), substitute(field.getValue().asText(), at));
        } else if (!field.getKey().equals("api_keys")) {
          substituteEnvironment(field.getValue(), at);
        }
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        JsonNode item = node.get(i);
        if (item.isTextual()) {
          ((com.fasterxml.jackson.databind.node.ArrayNode) node).set(i, substitute(item.asText(), pointer + "/" + i));
        } else {
          substituteEnvironment(item, pointer + "/" + i);
        }
      }
    }
  }

  private String substitute(String value, String pointer) {
    Matcher matcher = ENV_REFERENCE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (matcher.find()) {
      String resolved = environment.apply(matcher.group(1));
      if (resolved == null) {
        resolved = matcher.group(2);
      }
      if (resolved == null) {
        error(pointer, "environment variable " + matcher.group(1) + " is not set (use ${" + matcher.group(1)
            + ":-default} for a default)");
        resolved = "";
      }
      matcher.appendReplacement(out, Matcher.quoteReplacement(resolved));
    }
    matcher.appendTail(out);
    return out.toString();
  }

  private void checkKnownFields(ObjectNode node, String pointer, Set<String> known) {
    node.fieldNames().forEachRemaining(name -> {
      if (!known.contains(name)) {
        error(pointer + "/" + name, "unknown field; expected one of " + new TreeSet<>(known));
      }
    });
  }

  private String text(JsonNode node, String pointer, String fallback) {
    JsonNode value = node.at(pointer.substring(pointer.lastIndexOf('/')));
    if (value.isMissingNode() || value.isNull()) {
      return fallback;
    }
    if (!value.isValueNode()) {
      error(pointer, "must be a single value");
      return fallback;
    }
    return value.asText();
  }

  private String required(JsonNode node, String pointer) {
    String value = text(node, pointer, "");
    if (value.isEmpty()) {
      error(pointer, "is required");
    }
    return value;
  }

  private boolean flag(JsonNode node, String pointer) {
    JsonNode value = node.at(pointer.substring(pointer.lastIndexOf('/')));
    if (!value.isMissingNode() && !value.isBoolean()) {
      error(pointer, "must be true or false");
    }
    return value.asBoolean(false);
  }

  private Duration duration(JsonNode node, String pointer, Duration fallback) {
    String value = text(node, pointer, "");
    if (value.isEmpty()) {
      return fallback;
    }
    Optional<Duration> parsed = duration(value);
    if (parsed.isEmpty()) {
      error(pointer, "must be a duration like 30s, 500ms, 2m, 12h or 30d, not '" + value + "'");
    }
    return parsed.orElse(fallback);
  }

  private RouterConfig.Address address(JsonNode node, String pointer, String fallback) {
    String value = text(node, pointer, fallback);
    int colon = value.lastIndexOf(':');
    if (colon <= 0) {
      error(pointer, "must be host:port, for example 127.0.0.1:50051, not '" + value + "'");
      return new RouterConfig.Address("127.0.0.1", 0);
    }
    return new RouterConfig.Address(value.substring(0, colon), parsePort(pointer, value.substring(colon + 1)));
  }

  private int parsePort(String pointer, String text) {
    try {
      int port = Integer.parseInt(text);
      if (port >= 0 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    error(pointer, "port must be a number from 0 to 65535, not '" + text + "'");
    return 0;
  }

  private void error(String pointer, String message) {
    errors.add(where(pointer) + ": " + message);
  }

  /** A field as errors name it: {@code cassettes.match.0 (line 3)}. */
  private String where(String pointer) {
    Integer line = lineOfField.get(pointer);
    String field = pointer.isEmpty() ? "(top level)" : pointer.substring(1).replace('/', '.');
    return field + (line != null ? " (line " + line + ")" : "");
  }

  private static String valueOrEmpty(String value) {
    return value == null ? "" : value;
  }

  private static String stripTrailingSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}
