package dev.llmrouter.server.config;

import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.provider.ProviderTypes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private static final String ADMIN_KEY = "admin-key-of-the-tests-0123456789abcdef";
  private static final Map<String, String> ENV = Map.of("OPENAI_API_KEY", "sk-from-env", "HOST", "10.0.0.5",
      "ROUTER_ADMIN_KEY", ADMIN_KEY, "SHORT_KEY", "0123456789");

  private static RouterConfig parse(String yaml) {
    return ConfigLoader.parse(yaml, ENV::get);
  }

  private static String error(String yaml) {
    return assertThrows(ConfigException.class, () -> parse(yaml)).getMessage();
  }

  @Test
  void readsTheDocumentedCoreWithEnvironmentSubstitution() {
    RouterConfig config = parse("""
        listen: ${HOST}:6000
        max_message_bytes: 33554432
        cassettes: { dir: "${CASSETTE_DIR:-my/cassettes}", mode: record }
        auth: { required: true, admin_key: "${ROUTER_ADMIN_KEY}" }
        shared_state: { redis_url: "redis://127.0.0.1:6379" }
        providers:
          - { name: openai, type: openai, base_url: https://api.openai.com/v1/, api_key: "${OPENAI_API_KEY}",
              models: [gpt-4o-mini], timeout: 30s }
          - { name: local, type: openai, base_url: http://127.0.0.1:11434/v1, drop_unsupported_settings: true,
              max_connections: 8, connection_wait_timeout: 2s }
        """);
    assertEquals("10.0.0.5", config.host());
    assertEquals(6000, config.port());
    assertEquals(32L * 1024 * 1024, config.maxMessageBytes());
    assertEquals("my/cassettes", config.cassettes().dir());
    assertEquals("record", config.cassettes().mode());
    ProviderConfig openai = config.provider("openai").orElseThrow();
    assertEquals("https://api.openai.com/v1", openai.baseUrl());
    assertEquals("sk-from-env", openai.apiKey());
    assertEquals(List.of("gpt-4o-mini"), openai.models());
    assertEquals(Duration.ofSeconds(30), openai.timeout());
    assertEquals(ProviderConfig.DEFAULT_MAX_CONNECTIONS, openai.maxConnections());
    assertEquals(openai.timeout(), openai.connectionWaitTimeout(), "a request waits for a connection up to timeout");
    assertEquals(8, config.provider("local").orElseThrow().maxConnections());
    assertEquals(Duration.ofSeconds(2), config.provider("local").orElseThrow().connectionWaitTimeout());
    assertEquals("", config.provider("local").orElseThrow().apiKey());
    assertFalse(openai.dropUnsupportedSettings(), "unsupported settings are refused unless config says otherwise");
    assertTrue(config.provider("local").orElseThrow().dropUnsupportedSettings());
    assertFalse(openai.toString().contains("sk-from-env"), "the key is never printed");
    assertTrue(config.auth().required());
    assertEquals(ADMIN_KEY, config.auth().adminKey().orElseThrow().value());
    assertEquals(Optional.of("redis://127.0.0.1:6379"), config.auth().redisUrl());
    assertFalse(config.toString().contains(ADMIN_KEY), "the admin key is never printed");
  }

  @Test
  void withoutAuthTheRouterListensOnLoopbackOnly() {
    for (String loopback : List.of("127.0.0.1:50051", "127.3.2.1:0", "localhost:50051", "\"[::1]:50051\"")) {
      assertFalse(parse("listen: " + loopback + "\n").auth().required(), loopback);
    }
    assertEquals(AuthConfig.NONE, ConfigLoader.embeddedDefault(name -> null).auth());
    String open = error("listen: 0.0.0.0:50051\nadmin_listen: 10.1.2.3:9464\n");
    assertTrue(open.contains("listen (line 1): 0.0.0.0 is not a loopback address, and the router has no `auth:`: set "
        + "`auth: { required: true }` so that callers need a key, or `auth: { required: false }` to serve anyone who "
        + "can reach it"), open);
    assertTrue(open.contains("admin_listen (line 2): 10.1.2.3 is not a loopback address"), open);
    assertTrue(error("listen: router.internal:50051\n").contains("router.internal is not a loopback address"),
        "a name is not resolved to find out");
    assertTrue(error("listen: 127.0.0.1.evil.example:50051\n").contains("is not a loopback address"));
    assertTrue(parse("listen: 0.0.0.0:50051\nauth: { required: true }\n").auth().required());
    assertFalse(parse("listen: 0.0.0.0:50051\nauth: { required: false }\n").auth().required(),
        "serving without keys beyond loopback is allowed when the config says so");
  }

  @Test
  void theAuthSectionsAreChecked() {
    AuthConfig auth = parse("""
        auth: { required: true, admin_key: "${UNSET_ADMIN_KEY}", max_failed_attempts: 5 }
        admin: { metrics_public: true }
        """).auth();
    assertEquals("", auth.adminKey().orElseThrow().value(), "an unset admin key is for the router to refuse");
    assertEquals(5, auth.maxFailedAttempts());
    assertTrue(auth.metricsPublic());
    assertTrue(auth.keysInUse());
    String message = error("""
        auth: { required: sometimes, admin_key: literal-admin-key-in-the-file-0123456789, max_failed_attempts: 0, user: x }
        shared_state: { redis_url: "http://127.0.0.1:6379" }
        admin: { metrics: true }
        """);
    assertTrue(message.contains("auth.required (line 1): must be true or false"), message);
    assertTrue(message.contains("auth.admin_key (line 1): must name an environment variable"), message);
    assertFalse(message.contains("literal-admin-key"), "the key is not echoed");
    assertTrue(message.contains("auth.max_failed_attempts (line 1): must be at least 1"), message);
    assertTrue(message.contains("auth.user (line 1): unknown field"), message);
    assertTrue(message.contains("shared_state.redis_url (line 2): must be a redis://, rediss:// or unix:// URL"),
        message);
    assertTrue(message.contains("admin.metrics (line 3): unknown field"), message);
    String shortKey = error("auth: { admin_key: \"${SHORT_KEY}\" }\n");
    assertTrue(shortKey.contains("auth.admin_key (line 1): SHORT_KEY holds 10 characters; an admin key needs at "
        + "least 32"), shortKey);
    assertTrue(error("auth: true\n").contains("auth (line 1): must be a mapping"));
  }

  @Test
  void theEmbeddedDefaultReplaysBundledCassettesOnLoopback() {
    RouterConfig config = ConfigLoader.embeddedDefault(name -> null);
    assertEquals("127.0.0.1", config.host());
    assertEquals(50051, config.port());
    assertEquals("replay", config.cassettes().mode());
    assertEquals("cassettes/recorded", config.cassettes().dir());
    assertEquals(RouterConfig.DEFAULT_MAX_MESSAGE_BYTES, config.maxMessageBytes());
  }

  @Test
  void theAdminListenerIsOffUnlessConfigured() {
    assertEquals(Optional.empty(), parse("listen: 127.0.0.1:50051\n").adminListen());
    assertEquals(Optional.of(new RouterConfig.Address("127.0.0.1", 9464)),
        parse("admin_listen: 127.0.0.1:9464\n").adminListen());
    assertTrue(error("admin_listen: 9464\n").contains("admin_listen (line 1): must be host:port"));
    assertTrue(error("admin_listen: 127.0.0.1:http\n").contains("admin_listen (line 1): port must be a number"));
  }

  @Test
  void eventLoopsAreOnePerCoreUnlessSetToAWholeNumberInRange() {
    assertEquals(Runtime.getRuntime().availableProcessors(), parse("listen: 127.0.0.1:50051\n").eventLoops());
    assertEquals(Runtime.getRuntime().availableProcessors(), ConfigLoader.embeddedDefault(name -> null).eventLoops());
    assertEquals(4, parse("listen: 127.0.0.1:50051\nevent_loops: 4\n").eventLoops());
    assertEquals(3, ConfigLoader.parse("event_loops: ${LOOPS}\n", Map.of("LOOPS", "3")::get).eventLoops());
    for (String bad : List.of("0", "-2", "2.5", "two", "1025", "99999999999", "[2]")) {
      String message = error("listen: 127.0.0.1:50051\nevent_loops: " + bad + "\n");
      assertTrue(message.contains("event_loops (line 2): must be a whole number from 1 to 1024"), message);
    }
  }

  @Test
  void theDrainTimeoutIsThirtySecondsUnlessSetToADuration() {
    assertEquals(Duration.ofSeconds(30), parse("listen: 127.0.0.1:50051\n").drainTimeout());
    assertEquals(Duration.ofSeconds(90), parse("drain_timeout: 90s\n").drainTimeout());
    assertEquals(Duration.ZERO, parse("drain_timeout: 0s\n").drainTimeout());
    for (String bad : List.of("soon", "-5s", "PT-5S")) {
      String message = error("listen: 127.0.0.1:50051\ndrain_timeout: " + bad + "\n");
      assertTrue(message.contains("drain_timeout (line 2): must be "), message);
    }
  }

  @Test
  void eachProblemOfAFileIsKeptOnItsOwn() {
    ConfigException refused = assertThrows(ConfigException.class, () -> parse("""
        listen: nowhere
        retry: { max_attempts: 0 }
        """));
    assertEquals(List.of("listen (line 1): must be host:port, for example 127.0.0.1:50051, not 'nowhere'",
        "retry.max_attempts (line 2): must be at least 1 (1 means no retry)"), refused.problems());
    assertEquals("invalid config:\n  " + String.join("\n  ", refused.problems()), refused.getMessage());
  }

  @Test
  void errorsNameTheFieldAndItsLine() {
    String message = error("""
        listen: 127.0.0.1:50051
        cassettes: { dir: x, mode: replay-all }
        providers:
          - { name: openai, type: openai, base_url: https://api.openai.com/v1 }
          - { name: Bad Name, type: watsonx, base_url: "ftp://x", drop_unsupported_settings: "yes", max_connections: 0 }
        """);
    assertTrue(message.contains("cassettes.mode (line 2): must be one of replay, record, auto, off"), message);
    assertTrue(message.contains("providers.1.name (line 5)"), message);
    assertTrue(message.contains("providers.1.type (line 5): must be one of "
        + ProviderTypes.names()), message);
    assertTrue(message.contains("providers.1.base_url (line 5)"), message);
    assertTrue(message.contains("providers.1.drop_unsupported_settings (line 5): must be true or false"), message);
    assertTrue(message.contains("providers.1.max_connections (line 5): must be at least 1"), message);
  }

  @Test
  void theCallLogIsOnByDefaultAndItsSettingsAndPricesAreChecked() {
    ObservabilityConfig defaults = parse("listen: 127.0.0.1:50051\n").observability();
    assertEquals("data", defaults.dataDir());
    assertTrue(defaults.callLog() && defaults.callLogBodies());
    assertEquals(Optional.empty(), defaults.callLogRetention());
    ObservabilityConfig set = parse("""
        data_dir: /var/lib/llm-router
        call_log: { enabled: false, bodies: false, queue_size: 100, retention: 30d, max_body_bytes: 4096 }
        prices:
          my-model: { input: 1.5, output: 3, cached_input: 0.5 }
          searching-model: { input: 1, output: 2, web_search: 10 }
        """).observability();
    assertEquals(new ObservabilityConfig("/var/lib/llm-router", false, false, 100, Optional.of(Duration.ofDays(30)),
        4096, set.prices(), Optional.empty(), TracingConfig.OFF), set, "traces come from OTEL_* variables, not the file");
    assertEquals(Optional.of(Duration.ofHours(12)),
        parse("call_log: { retention: 12h }\n").observability().callLogRetention());
    assertEquals(new ObservabilityConfig.ModelPrice(1.5, 3, OptionalDouble.of(0.5)), set.prices().get("my-model"));
    assertEquals(new ObservabilityConfig.ModelPrice(1, 2, OptionalDouble.empty(), OptionalDouble.of(10)),
        set.prices().get("searching-model"));
    assertTrue(error("prices:\n  m: { input: 1, output: 1, web_search: free }\n").contains("prices.m.web_search "
        + "(line 2): must be a price in US dollars per 1000 searches"));
    String message = error("""
        call_log: { enabled: yes-please, queue_size: 0, body: true, retention: forever }
        prices:
          my-model: { input: -1, output: cheap, cache: 1 }
          other: 5
        """);
    assertTrue(message.contains("call_log.enabled (line 1): must be true or false"), message);
    assertTrue(message.contains("call_log.queue_size (line 1): must be at least 1"), message);
    assertTrue(message.contains("call_log.body (line 1): unknown field"), message);
    assertTrue(message.contains("call_log.retention (line 1): must be a duration like 30s, 500ms, 2m, 12h or 30d, "
        + "not 'forever'"), message);
    assertTrue(error("call_log: { retention: 0d }\n").contains("call_log.retention (line 1): must be a duration like "
        + "30d or 12h"));
    assertTrue(message.contains("prices.my-model.input (line 3): must be a price in US dollars per million tokens"),
        message);
    assertTrue(message.contains("prices.my-model.output (line 3)"), message);
    assertTrue(message.contains("prices.my-model.cache (line 3): unknown field"), message);
    assertTrue(message.contains("prices.other (line 4): must be a mapping"), message);
  }

  @Test
  void aPostgresUrlIsReadWithItsPasswordWhichNoMessageShows() {
    PostgresUrl url = parse("call_log: { postgres_url: \"postgresql://router:${PG_SECRET}@db.internal:6432/calls"
        + "?sslmode=require\" }\n", Map.of("PG_SECRET", "s3cr%40t")).observability().callLogPostgres().orElseThrow();
    assertEquals(new PostgresUrl("db.internal", 6432, "calls", "router", Optional.of("s3cr@t"), "require"), url);
    assertEquals("postgresql://router@db.internal:6432/calls?sslmode=require", url.toString());
    assertFalse(parse("call_log: { postgres_url: \"postgresql://router:s3cret@db/calls\" }\n", Map.of())
        .toString().contains("s3cret"), "the config as text holds no password");

    PostgresUrl fromEnvironment = parse("call_log: { postgres_url: \"postgres://router@[::1]/calls\" }\n",
        Map.of("PGPASSWORD", "from-env")).observability().callLogPostgres().orElseThrow();
    assertEquals(Optional.of("from-env"), fromEnvironment.password(), "libpq's PGPASSWORD, when the URL has none");
    assertEquals("postgresql://router@[::1]:5432/calls", fromEnvironment.withoutPassword());
    assertEquals(Optional.empty(), parse("listen: 127.0.0.1:50051\n").observability().callLogPostgres(),
        "SQLite unless set");

    for (Map.Entry<String, String> wrong : Map.of(
        "mysql://router:s3cret@db/calls", "must start with postgresql://",
        "postgresql://db.internal/calls", "must name the user, the host and the database",
        "postgresql://router:s3cret@db.internal", "must name the user, the host and the database",
        "postgresql://router:s3cret@db/calls?password=s3cret", "takes one parameter, sslmode",
        "postgresql://router:s3cret@db/calls?sslmode=verify-full", "takes one parameter, sslmode",
        "postgresql://router:s3 cret@db/calls", "is not a URL like postgresql://user@host:5432/database").entrySet()) {
      String message = error("call_log: { postgres_url: \"" + wrong.getKey() + "\" }\n");
      assertTrue(message.contains("call_log.postgres_url (line 1): " + wrong.getValue()), message);
      assertFalse(message.contains("s3cret") || message.contains("s3 cret"), message);
    }
  }

  private static RouterConfig parse(String yaml, Map<String, String> environment) {
    return ConfigLoader.parse(yaml, environment::get);
  }

  @Test
  void userRedactionRulesAddToTheBuiltInOnesAndMustCompile() {
    RouterConfig config = parse("cassettes: { redact: { patterns: [\"acct_[0-9]+\"], fields: [email] } }\n");
    assertEquals(List.of("acct_[0-9]+"), config.cassettes().redactPatterns());
    assertEquals(List.of("email"), config.cassettes().redactFields());
    assertTrue(error("cassettes: { redact: { patterns: [\"([a-z\"] } }\n")
        .contains("cassettes.redact.patterns.0 (line 1): is not a valid regular expression"));
  }

  @Test
  void keysWrittenInTheFileAreRefused() {
    String message = error("""
        providers:
          - name: openai
            type: openai
            base_url: https://api.openai.com/v1
            api_key: sk-literal-key-in-the-file
        """);
    assertTrue(message.contains("providers.0.api_key (line 5): must name an environment variable"), message);
    assertFalse(message.contains("sk-literal"), "the key is not echoed");
  }

  @Test
  void tlsNamesACertificateAndItsKeyAndOptionallyAClientCa(@TempDir Path dir) throws IOException {
    Path cert = Files.writeString(dir.resolve("server.pem"), "checked when the router starts");
    Path key = Files.writeString(dir.resolve("server-key.pem"), "checked when the router starts");
    Path clientCa = Files.writeString(dir.resolve("clients-ca.pem"), "checked when the router starts");
    assertEquals(Optional.empty(), parse("listen: 127.0.0.1:50051\n").tls(), "plain text unless configured");
    assertEquals(Optional.of(new TlsConfig(cert, key, Optional.empty())),
        parse("tls: { cert_file: \"%s\", key_file: \"%s\" }\n".formatted(cert, key)).tls());
    TlsConfig mtls = parse("""
        tls:
          cert_file: "%s"
          key_file: "%s"
          client_ca_file: "%s"
        """.formatted(cert, key, clientCa)).tls().orElseThrow();
    assertEquals(Optional.of(clientCa), mtls.clientCaFile());
    assertEquals(List.of(cert, key, clientCa), mtls.files());
  }

  @Test
  void tlsNeedsBothFilesAndFilesThatExist(@TempDir Path dir) throws IOException {
    Path cert = Files.writeString(dir.resolve("server.pem"), "");
    assertEquals("invalid config:\n  tls.key_file: is required: the private key of cert_file (PEM)",
        error("tls: { cert_file: \"%s\" }\n".formatted(cert)));
    String message = error("""
        listen: 127.0.0.1:50051
        tls:
          cert_file: "%s"
          key_file: "%s"
          client_ca_file: ""
          ca_file: x.pem
        """.formatted(dir.resolve("missing.pem"), dir));
    assertTrue(message.contains("tls.cert_file (line 3): no file " + dir.resolve("missing.pem")
        + " (relative to the working directory, "), message);
    assertTrue(message.contains("tls.key_file (line 4): " + dir + " is not a readable file"), message);
    assertTrue(message.contains("tls.client_ca_file (line 5): must name a file"), message);
    assertTrue(message.contains("tls.ca_file (line 6): unknown field; expected one of [cert_file, client_ca_file, "
        + "key_file]"), message);
    assertTrue(error("tls: server.pem\n").contains("tls (line 1): must be a mapping like { cert_file: server.pem, "
        + "key_file: server-key.pem, client_ca_file: clients-ca.pem }"));
  }

  @Test
  void unknownFieldsMissingVariablesAndBadYamlAreReported() {
    assertTrue(error("lisen: 1\n").contains("lisen (line 1): unknown field"));
    assertTrue(error("listen: ${NOPE}:1\n").contains("environment variable NOPE is not set"));
    assertTrue(error("listen: [\n").contains("not valid YAML"));
    assertTrue(error("listen: localhost\n").contains("listen (line 1): must be host:port"));
  }

  @Test
  void aBedrockDeploymentTakesARegionItsEndpointAndTheAwsKeysOfTheEnvironment() {
    String yaml = "providers:\n  - { name: bedrock, type: bedrock, region: eu-central-1 }\n";
    ProviderConfig bedrock = ConfigLoader.parse(yaml, Map.of("AWS_ACCESS_KEY_ID", "AKID", "AWS_SECRET_ACCESS_KEY",
        "s3cr3t-value")::get).providers().get(0);
    assertEquals("eu-central-1", bedrock.region());
    assertEquals("https://bedrock-runtime.eu-central-1.amazonaws.com", bedrock.baseUrl());
    assertEquals("AKID", bedrock.awsKeys().orElseThrow().accessKeyId().value());
    assertEquals(Optional.empty(), bedrock.awsKeys().orElseThrow().sessionToken());
    assertFalse(bedrock.toString().contains("s3cr3t-value"), bedrock.toString());
    assertEquals(Optional.empty(), parse(yaml).providers().get(0).awsKeys(), "then the rest of the default chain");
    assertEquals("http://127.0.0.1:8089", parse("providers:\n  - { name: b, type: bedrock, region: us-east-1, "
        + "base_url: \"http://127.0.0.1:8089\" }\n").providers().get(0).baseUrl());
    String noRegion = error("providers:\n  - { name: b, type: bedrock }\n");
    assertTrue(noRegion.contains("providers.0.region") && noRegion.contains("is required for type bedrock: the AWS "
        + "region of the models"), noRegion);
    assertFalse(noRegion.contains("base_url"), "the region is what is missing: " + noRegion);
    String badRegion = error("providers:\n  - { name: b, type: bedrock, region: US East }\n");
    assertTrue(badRegion.contains("must be an AWS region like us-east-1"), badRegion);
    String notBedrock = error("providers:\n  - { name: o, type: openai, base_url: \"http://h\", region: us-east-1 }\n");
    assertTrue(notBedrock.contains("providers.0.region (line 2): is for type bedrock only"), notBedrock);
  }

  @Test
  void aBedrockDeploymentCallsConverseUnlessItNamesInvokeModel() {
    assertEquals("converse", parse("providers:\n  - { name: b, type: bedrock, region: us-east-1 }\n").providers()
        .get(0).bedrockApi());
    assertEquals("invoke", parse("providers:\n  - { name: b, type: bedrock, region: us-east-1, bedrock_api: invoke }\n")
        .providers().get(0).bedrockApi());
    String unknown = error("providers:\n  - { name: b, type: bedrock, region: us-east-1, bedrock_api: messages }\n");
    assertTrue(unknown.contains("providers.0.bedrock_api (line 2): must be converse (every model family) or invoke "
        + "(Claude models in Anthropic's Messages format), not 'messages'"), unknown);
    String notBedrock = error("providers:\n  - { name: a, type: anthropic, base_url: \"http://h\", "
        + "bedrock_api: invoke }\n");
    assertTrue(notBedrock.contains("providers.0.bedrock_api (line 2): is for type bedrock only"), notBedrock);
  }
}
