package dev.llmrouter.server;

import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.cassettes.Redactor;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.llmrouter.server.pipeline.CallMetadata;
import dev.llmrouter.server.admin.AdminHandler;
import dev.llmrouter.server.api.AdminGrpcService;
import dev.llmrouter.server.api.CassetteGrpcService;
import dev.llmrouter.server.api.ChatGrpcService;
import dev.llmrouter.server.api.ConversationGrpcService;
import dev.llmrouter.server.api.ConverseService;
import dev.llmrouter.server.api.ConverseWebSocket;
import dev.llmrouter.server.api.EmbeddingGrpcService;
import dev.llmrouter.server.api.GrpcRequestGuard;
import dev.llmrouter.server.api.HealthGrpcService;
import dev.llmrouter.server.api.ModelGrpcService;
import dev.llmrouter.server.api.ObservabilityGrpcService;
import dev.llmrouter.server.api.PromptGrpcService;
import dev.llmrouter.server.auth.CallerAuth;
import dev.llmrouter.server.auth.CallerKeys;
import dev.llmrouter.server.auth.WallClock;
import dev.llmrouter.server.config.AuthConfig;
import dev.llmrouter.server.config.ReloadReport;
import dev.llmrouter.server.provider.ProviderConfig;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.state.KeyStorage;
import dev.llmrouter.server.state.SharedRedis;
import dev.llmrouter.server.ingress.HttpIngress;
import dev.llmrouter.server.ingress.anthropic.AnthropicDialect;
import dev.llmrouter.server.ingress.gemini.GeminiDialect;
import dev.llmrouter.server.ingress.openai.OpenAiChatDialect;
import dev.llmrouter.server.ingress.openai.OpenAiResponsesDialect;
import dev.llmrouter.server.converse.ConversationStore;
import dev.llmrouter.server.converse.Conversations;
import dev.llmrouter.server.converse.MemorySessionStore;
import dev.llmrouter.server.converse.SessionStore;
import dev.llmrouter.server.observe.Observability;
import dev.llmrouter.server.observe.CallMetrics;
import dev.llmrouter.server.pipeline.CallSettings;
import dev.llmrouter.server.pipeline.CassetteUsageLog;
import dev.llmrouter.server.pipeline.LiveSettings;
import dev.llmrouter.server.pipeline.RunningCalls;
import dev.llmrouter.server.pipeline.ChatPipeline;
import dev.llmrouter.server.pipeline.ChatRequestValidator;
import dev.llmrouter.server.prompt.PromptLibrary;
import dev.llmrouter.server.tls.ListenerTls;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.grpc.reflection.ReflectionService;
import io.vertx.grpc.server.GrpcProtocol;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * The router as a running server: gRPC (HTTP/2), gRPC-Web and the standard health and reflection services, all on
 * one port; and, when {@code admin_listen} is set, the admin HTTP listener with the live chat page and the
 * Prometheus metrics. With {@code tls} set, both listeners speak TLS only (mTLS with a client CA).
 * Prometheus metrics. With caller keys in use (`auth:`), every door checks them through one {@link CallerAuth}.
 * {@link #drain} stops it gracefully (SIGTERM); {@link #reload} reads its config file again (SIGHUP).
 */
public final class RouterServer {

  /** The health service name of a deployment: this prefix and its name from config. */
  public static final String DEPLOYMENT_HEALTH_PREFIX = "llmrouter.deployment.";

  /** The largest request headers (HTTP/2 header list, or HTTP/1.1 head), 8 times Vert.x's 8 KiB default. */
  public static final int MAX_HEADER_BYTES = 64 * 1024;

  /** Parsed cassettes kept in memory, by file size. */
  private static final long CASSETTE_CACHE_BYTES = 256L * 1024 * 1024;

  /** How long the listeners of a drained router let the last responses go out before closing their connections. */
  private static final Duration DRAINED_LISTENER_GRACE = Duration.ofSeconds(5);

  private static final System.Logger LOG = System.getLogger("llmrouter");

  private final Vertx vertx;
  private final EventLoopListeners listeners;
  private final Optional<HttpServer> adminServer;
  private final Optional<ListenerTls> tls;
  private final LiveSettings settings;
  private final Observability observability;
  private final long sessionSweeper;
  private final Optional<KeyStorage> keys;
  private final Optional<SharedRedis> sharedRedis;
  private final RunningCalls running;
  private final HealthGrpcService health;
  private final ConfigReload reload;
  private final PromptLibrary prompts;
  private final CassetteUsageLog usageLog;
  private final ConversationStore conversations;
  private final AtomicReference<Future<Void>> drained = new AtomicReference<>();
  private final AtomicReference<Future<Void>> closed = new AtomicReference<>();

  private RouterServer(Vertx vertx, EventLoopListeners listeners, Optional<HttpServer> adminServer,
      Optional<ListenerTls> tls, LiveSettings settings, Observability observability, long sessionSweeper,
      Optional<KeyStorage> keys, Optional<SharedRedis> sharedRedis, RunningCalls running, HealthGrpcService health,
      ConfigReload reload, PromptLibrary prompts, CassetteUsageLog usageLog, ConversationStore conversations) {
    this.vertx = vertx;
    this.listeners = listeners;
    this.adminServer = adminServer;
    this.tls = tls;
    this.settings = settings;
    this.observability = observability;
    this.sessionSweeper = sessionSweeper;
    this.keys = keys;
    this.sharedRedis = sharedRedis;
    this.running = running;
    this.health = health;
    this.reload = reload;
    this.prompts = prompts;
    this.usageLog = usageLog;
    this.conversations = conversations;
  }

  /**
   * A Vert.x with {@code eventLoops} event loops (the router's {@code event_loops}), whose own metrics (upstream HTTP
   * requests, connections, worker pools) go to {@code registry}, through vertx-micrometer-metrics: start the router on
   * it with {@link #start(Vertx, RouterConfig, PrometheusMeterRegistry)} so that one scrape shows them beside the
   * router's.
   */
  public static Vertx instrumentedVertx(PrometheusMeterRegistry registry, int eventLoops) {
    return Vertx.builder()
        .with(new VertxOptions().setEventLoopPoolSize(eventLoops)
            .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
            // Vert.x's HTTP server series would count every RPC as a POST with status 200, at a cost on every call
            // (a meter lookup per request); the router's own series count RPCs with their gRPC status instead.
            .addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER)
            // One name per registry: several routers in one JVM (tests) must not share Vert.x's registry table.
            .setRegistryName("llm-router-" + System.identityHashCode(registry))))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
  }

  /**
   * Starts a server with a metrics registry of its own; port 0 picks a free port (see {@link #port()}). Its
   * connections are served by {@code config.eventLoops()} event loops: {@code vertx} needs at least that many.
   */
  public static Future<RouterServer> start(Vertx vertx, RouterConfig config) {
    return start(vertx, config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /** Starts a server whose metrics go to {@code registry} (the one of {@link #instrumentedVertx}, typically). */
  public static Future<RouterServer> start(Vertx vertx, RouterConfig config, PrometheusMeterRegistry registry) {
    return start(vertx, config, registry, Ticker.systemTicker());
  }

  /**
   * As above, with {@code clock} timing circuit cool-downs, session expiry, key expiry and the keys' rate and budget
   * windows: tests pass one they move by hand. Fails with a {@link dev.llmrouter.server.config.ConfigException} when
   * the `tls:` files do not pass their checks.
   */
  public static Future<RouterServer> start(Vertx vertx, RouterConfig config, PrometheusMeterRegistry registry,
      Ticker clock) {
    AuthConfig auth = config.auth();
    Optional<String> recordingRefused = config.cassettes().recordingRefusal(config.cassettes().mode(),
        "the cassette mode (cassettes.mode or --mode)");
    if (recordingRefused.isPresent()) {
      return Future.failedFuture(recordingRefused.get());
    }
    if (auth.adminKey().filter(key -> key.value().isEmpty()).isPresent()) {
      return Future.failedFuture("auth.admin_key names " + auth.adminKey().get() + ", which is not set: set it "
          + "(openssl rand -hex 32 makes one), or leave auth.admin_key out");
    }
    Future<Optional<ListenerTls>> tls = config.tls()
        .map(files -> ListenerTls.load(vertx, files).map(Optional::of))
        .orElse(Future.succeededFuture(Optional.empty()));
    return tls.compose(loadedTls -> SharedRedis.open(vertx, auth).compose(redis -> {
      Future<Optional<KeyStorage>> keys = auth.keysInUse()
          ? KeyStorage.open(vertx, redis, Path.of(config.observability().dataDir())).map(Optional::of)
          : Future.succeededFuture(Optional.empty());
      return keys.compose(storage -> start(vertx, config, registry, clock, loadedTls, storage, redis)
          .onFailure(failure -> storage.ifPresent(KeyStorage::close)))
          .onFailure(failure -> redis.ifPresent(SharedRedis::close));
    }));
  }

  private static Future<RouterServer> start(Vertx vertx, RouterConfig config, PrometheusMeterRegistry registry,
      Ticker clock, Optional<ListenerTls> tls, Optional<KeyStorage> keys, Optional<SharedRedis> redis) {
    Redactor redactor = new Redactor(config.cassettes().redactPatterns().stream().map(Pattern::compile).toList(),
        config.cassettes().redactFields());
    LiveSettings settings = new LiveSettings(CallSettings.of(vertx, config, clock::read));
    return PromptLibrary.open(vertx, config.prompts()).compose(prompts ->
        // On a worker: opening the call log blocks (its file, or its PostgreSQL database's migrations).
        vertx.executeBlocking(() -> new Observability(vertx, config.observability(), new CallMetrics(registry),
                redactor, provider -> settings.current().config().provider(provider).map(ProviderConfig::type)
                    .orElse("")), false)
            .recover(cannotOpen -> Future.failedFuture(cannotOpen.getMessage()))
            .compose(observability -> start(vertx, config, registry, clock, tls, keys, redis, redactor, observability,
                settings, prompts))
            .onFailure(failure -> prompts.close()))
        .recover(cannotStart -> settings.close().transform(v -> Future.failedFuture(cannotStart)));
  }

  private static Future<RouterServer> start(Vertx vertx, RouterConfig config, PrometheusMeterRegistry registry,
      Ticker clock, Optional<ListenerTls> tls, Optional<KeyStorage> keys, Optional<SharedRedis> redis,
      Redactor redactor, Observability observability, LiveSettings settings, PromptLibrary prompts) {
    WallClock wallClock = new WallClock(clock);
    CallerAuth auth = keys.map(storage -> new CallerAuth(config.auth(), storage.store(), storage.quotas(), wallClock))
        .orElseGet(() -> CallerAuth.none(wallClock));
    RunningCalls running = new RunningCalls();
    ConfigReload reload = new ConfigReload(vertx, config, settings);
    CassetteStore cassettes = new CassetteStore(Path.of(config.cassettes().dir()), CASSETTE_CACHE_BYTES, redactor);
    CassetteUsageLog usageLog = new CassetteUsageLog(vertx, cassettes, config.cassettes().usageFile().map(Path::of),
        config.cassettes().reportXml().map(Path::of), config.cassettes().reportMarkdown().map(Path::of));
    ChatRequestValidator validator = new ChatRequestValidator(settings);
    ChatPipeline pipeline = new ChatPipeline(vertx, settings, validator, cassettes, config.cassettes().match(),
        config.cassettes().recordTiming(), usageLog, observability, auth, running, prompts);
    // No JSON transcoding: a request with `content-type: application/json` gets 415 rather than 500.
    GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(config.maxMessageBytes())
        .removeEnabledProtocol(GrpcProtocol.TRANSCODING));
    GrpcRequestGuard guarded = new GrpcRequestGuard(grpc, config.maxMessageBytes(), running,
        GrpcRequestGuard.WhileDraining.REFUSE_HTTP1);
    CallMetadata metadata = new CallMetadata(config.cassettes());
    // With shared state, any replica resumes a session; otherwise this router's memory keeps them.
    SessionStore sessions = redis.map(shared -> shared.sessions(config.converse()))
        .orElseGet(() -> new MemorySessionStore(config.converse(), clock));
    ConversationStore conversationStore = ConversationStore.of(vertx, config.observability());
    Conversations conversations = new Conversations(pipeline, validator, config.conversations(), conversationStore,
        Clock.systemUTC());
    ConverseService converse = new ConverseService(vertx, pipeline, validator, metadata, config.converse(), sessions,
        observability.metrics(), auth, running, conversations);
    observability.metrics().gauge("llmrouter.open.sessions", "Converse sessions kept, attached to a stream or not "
        + "(with shared_state: the sessions this router's streams drive)", sessions, SessionStore::size);
    grpc.addService(new ChatGrpcService(pipeline, metadata, converse, auth).service());
    grpc.addService(new EmbeddingGrpcService(pipeline, metadata, auth).service());
    // Expired sessions are dropped even when no call comes to look them up.
    long sweeper = vertx.setPeriodic(Math.max(1000, config.converse().idleTimeout().toMillis() / 2),
        id -> sessions.cleanUp());
    grpc.addService(new ModelGrpcService(settings, pipeline, metadata, auth).service());
    grpc.addService(new PromptGrpcService(prompts, auth).service());
    grpc.addService(new ConversationGrpcService(conversations, prompts, metadata, auth).service());
    grpc.addService(new ObservabilityGrpcService(vertx, observability.queries(), auth).service());
    grpc.addService(new CassetteGrpcService(vertx, cassettes, usageLog, auth).service());
    grpc.addService(new AdminGrpcService(auth, keys.map(storage -> new CallerKeys(storage.store(), storage.quotas(),
        wallClock))).service());
    HealthGrpcService health = new HealthGrpcService(vertx, grpc, running::draining, () -> deploymentHealth(settings));
    grpc.addService(health.service());
    grpc.addService(ReflectionService.v1());
    HttpServerOptions options = withTls(new HttpServerOptions().setHttp2ClearTextEnabled(true)
        .setMaxHeaderSize(MAX_HEADER_BYTES), tls);
    options.getInitialSettings().setMaxHeaderListSize(MAX_HEADER_BYTES);
    HttpIngress ingress = new HttpIngress(vertx, pipeline, metadata, settings, guarded, config.maxMessageBytes(),
        config.streamKeepAlive(),
        new HttpIngress.Dialects(new OpenAiChatDialect(), new OpenAiResponsesDialect(), new AnthropicDialect(),
            new GeminiDialect()), auth, running);
    return whyNotListening(EventLoopListeners.listen(vertx, config.eventLoops(), options, ingress, config.host(),
        config.port()), config.host(), config.port())
        .compose(listeners -> listenAdmin(vertx, config, new GrpcRequestGuard(grpc, config.maxMessageBytes(),
                running, GrpcRequestGuard.WhileDraining.REFUSE_ALL), registry, tls, auth, reload, converse, usageLog)
            .map(admin -> {
              tls.ifPresent(files -> files.reloadOnChange(
                  Stream.concat(listeners.servers().stream(), admin.stream()).toList()));
              return new RouterServer(vertx, listeners, admin, tls, settings, observability, sweeper, keys, redis,
                  running, health, reload, prompts, usageLog, conversationStore);
            })
            .onFailure(failure -> listeners.close(Duration.ZERO)))
        .onFailure(failure -> {
          vertx.cancelTimer(sweeper);
          health.close();
          conversationStore.close();
          closeObservability(vertx, observability);
        });
  }

  /** Each deployment's health, by its health service name: NOT_SERVING while its circuit breaker is open. */
  private static Map<String, Boolean> deploymentHealth(LiveSettings settings) {
    return settings.current().routes().deployments().stream().collect(Collectors.toMap(
        deployment -> DEPLOYMENT_HEALTH_PREFIX + deployment.name(), deployment -> !deployment.breaker().isOpen()));
  }

  private static Future<Optional<HttpServer>> listenAdmin(Vertx vertx, RouterConfig config,
      Handler<HttpServerRequest> grpc, PrometheusMeterRegistry registry, Optional<ListenerTls> tls, CallerAuth auth,
      ConfigReload reload, ConverseService converse, CassetteUsageLog usageLog) {
    int maxFrame = ConverseWebSocket.transportLimit(config.maxMessageBytes());
    return config.adminListen()
        .map(address -> listen(vertx.createHttpServer(withTls(new HttpServerOptions().setMaxWebSocketFrameSize(maxFrame)
                .setMaxWebSocketMessageSize(maxFrame), tls))
                .requestHandler(new AdminHandler(vertx, grpc, registry, auth, config.auth().metricsPublic(),
                    reload::reload, converse, config.maxMessageBytes(), usageLog)),
            address.host(), address.port()).map(Optional::of))
        .orElse(Future.succeededFuture(Optional.empty()));
  }

  /** A listener's options, with TLS on when `tls:` is set: where every listener gets its TLS. */
  private static HttpServerOptions withTls(HttpServerOptions options, Optional<ListenerTls> tls) {
    return tls.map(files -> files.secure(options)).orElse(options);
  }

  /** Writes the queued call records and closes the call log, on a worker thread. */
  private static Future<Void> closeObservability(Vertx vertx, Observability observability) {
    return vertx.executeBlocking(() -> {
      observability.close();
      return null;
    });
  }

  private static Future<HttpServer> listen(HttpServer server, String host, int port) {
    return whyNotListening(server.listen(port, host), host, port);
  }

  private static <T> Future<T> whyNotListening(Future<T> listening, String host, int port) {
    return listening.recover(failure -> Future.failedFuture(
        "cannot listen on " + host + ":" + port + ": " + failure.getMessage()));
  }

  public int port() {
    return listeners.port();
  }

  /** The admin listener's port, when {@code admin_listen} is set. */
  public OptionalInt adminPort() {
    return adminServer.map(server -> OptionalInt.of(server.actualPort())).orElse(OptionalInt.empty());
  }

  /**
   * Where {@link #reload} reads the config: the file, with the command line's flags over it. Blocking (it runs on a
   * worker thread); throws {@link dev.llmrouter.server.config.ConfigException} when the file is missing or wrong.
   */
  public void reloadFrom(Supplier<RouterConfig> source) {
    reload.readFrom(source);
  }

  /**
   * Reads the config again: providers (their keys and limits), models, prices, retries, circuit breaking and
   * drain_timeout change for new calls, running calls finish on the config they started with; the other settings
   * need a restart and are kept. An invalid file is refused with its problems, and the running config kept.
   */
  public Future<ReloadReport> reload() {
    return reload.reload();
  }

  /**
   * Drains the router, then closes it. At once, health turns NOT_SERVING for every name, running Converse streams
   * wind down, the port takes no new connection, calls over HTTP/1.x are refused with UNAVAILABLE (HTTP 503, on every
   * event loop), and every HTTP/2 connection is told to go away in two steps (RFC 9113 §6.8): the streams its client
   * sent before it read the first GOAWAY are served, HTTP/2 refuses those after the final one (REFUSED_STREAM).
   * Running calls and streams finish, a Converse stream once its running model call has answered, told to resume the
   * session on another replica; those still running at `drain_timeout` are cancelled with UNAVAILABLE. Then the last
   * connections close, the cassette report and the call log are written out. Every call gets the same future.
   */
  public Future<Void> drain() {
    Promise<Void> done = Promise.promise();
    if (!drained.compareAndSet(null, done.future())) {
      return drained.get();
    }
    Duration timeout = settings.current().config().drainTimeout();
    LOG.log(System.Logger.Level.INFO, "draining: health is NOT_SERVING, new calls are refused, running calls have "
        + timeout.toMillis() + " ms (drain_timeout) to finish");
    running.drain();
    health.statusChanged();
    // A balancer can retry a connection refused, or a stream refused before it was sent, on another replica; not a
    // call it has begun to send (nginx's grpc_pass streams request bodies): hence GOAWAY in two steps.
    Future<Void> ended = listeners.goAway(timeout.plus(DRAINED_LISTENER_GRACE)).compose(v -> running.allEnded());
    long deadline = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> {
      if (!ended.isComplete()) {
        LOG.log(System.Logger.Level.WARNING, "drain_timeout passed: the calls still running are cancelled");
        running.cancelAll();
      }
    });
    ended.compose(v -> {
      vertx.cancelTimer(deadline);
      return close(DRAINED_LISTENER_GRACE);
    }).onComplete(done);
    return done.future();
  }

  /**
   * Writes the cassette replay report, once every call has ended, to the files the command line asked for; a report
   * that cannot be written is logged and does not stop the router from closing.
   */
  private Future<Void> writeCassetteReports() {
    if (!usageLog.reportsWanted()) {
      return Future.succeededFuture();
    }
    return usageLog.writeReports().<Void>map(written -> {
      LOG.log(System.Logger.Level.INFO, "cassette replay report written to " + written.files());
      return null;
    }).recover(failure -> {
      LOG.log(System.Logger.Level.ERROR, "the cassette replay report could not be written: " + failure.getMessage());
      return Future.succeededFuture();
    });
  }

  /** Closes the router at once: the calls running fail. Every call gets the same future. */
  public Future<Void> close() {
    return close(Duration.ZERO);
  }

  private Future<Void> close(Duration grace) {
    Promise<Void> done = Promise.promise();
    if (!closed.compareAndSet(null, done.future())) {
      return closed.get();
    }
    vertx.cancelTimer(sessionSweeper);
    prompts.close();
    tls.ifPresent(ListenerTls::close);
    health.close();
    Future.all(listeners.close(grace), adminServer.map(server -> server.shutdown(grace.toMillis(),
            TimeUnit.MILLISECONDS)).orElse(Future.succeededFuture()))
        .compose(v -> writeCassetteReports())
        .compose(v -> settings.close())
        .compose(v -> closeObservability(vertx, observability))
        .compose(v -> conversations.close())
        .compose(v -> keys.map(KeyStorage::close).orElse(Future.succeededFuture()))
        .compose(v -> sharedRedis.map(SharedRedis::close).orElse(Future.succeededFuture()))
        .onComplete(done);
    return done.future();
  }
}
