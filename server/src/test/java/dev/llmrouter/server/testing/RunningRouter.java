package dev.llmrouter.server.testing;

import com.github.benmanes.caffeine.cache.Ticker;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.Status;
import dev.llmrouter.api.v1.AdminServiceGrpc;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.EmbeddingServiceGrpc;
import dev.llmrouter.api.v1.ModelServiceGrpc;
import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.config.ObservabilityConfig;
import io.grpc.ManagedChannel;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.grpc.Metadata;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.netty.NettyChannelBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The real router on a free port, configured from YAML, with a grpc-java channel (grpc-netty) to call it, and more
 * channels on demand: each is a connection of its own, which the router hands to its next event loop.
 */
public final class RunningRouter implements AutoCloseable {

  /** The API key the tests configure; never a real one. */
  public static final String TEST_KEY = "sk-test-not-a-real-key-0123456789";
  /** A second test key, as `${TEST_API_KEY_2}`, for deployments with several keys. */
  public static final String TEST_KEY_2 = "sk-test-second-fake-key-9876543210";
  /** The router's admin key in tests, as `${ROUTER_ADMIN_KEY}` (`auth.admin_key`). */
  public static final String TEST_ADMIN_KEY = "admin-key-of-the-tests-never-a-real-one-0123456789";

  private final RouterServer server;
  private final PrometheusMeterRegistry registry;
  private final Path dataDir;
  private final boolean temporaryDataDir;
  private final ManagedChannel channel;
  private final List<ManagedChannel> moreChannels = new CopyOnWriteArrayList<>();

  private RunningRouter(RouterServer server, PrometheusMeterRegistry registry, Path dataDir,
      boolean temporaryDataDir) {
    this.server = server;
    this.registry = registry;
    this.dataDir = dataDir;
    this.temporaryDataDir = temporaryDataDir;
    this.channel = newChannel();
  }

  private ManagedChannel newChannel() {
    return NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
        .maxInboundMessageSize(64 * 1024 * 1024).build();
  }

  /** Starts the router with the given YAML (listen is forced to a free loopback port). */
  public static RunningRouter start(Vertx vertx, String yaml) {
    return start(vertx, yaml, Ticker.systemTicker());
  }

  /** As above, with {@code clock} timing circuit cool-downs and session expiry. */
  public static RunningRouter start(Vertx vertx, String yaml, Ticker clock) {
    return start(vertx, ConfigLoader.parse(yaml, testEnvironment(Map.of())), new PrometheusMeterRegistry(
        PrometheusConfig.DEFAULT), clock);
  }

  /**
   * As {@link #start(Vertx, String)}, in an environment of the tests' keys and {@code more} (such as {@code CI=true}):
   * never the environment the tests run in.
   */
  public static RunningRouter start(Vertx vertx, String yaml, Map<String, String> more) {
    return start(vertx, ConfigLoader.parse(yaml, testEnvironment(more)));
  }

  /** The variables `${...}` references see in the tests: their keys, and {@code more}. */
  public static Function<String, String> testEnvironment(Map<String, String> more) {
    // The AWS keys sign Bedrock calls (the default credentials chain reads them from the environment first).
    Map<String, String> environment = new HashMap<>(Map.of("TEST_API_KEY", TEST_KEY, "TEST_API_KEY_2",
        TEST_KEY_2, "ROUTER_ADMIN_KEY", TEST_ADMIN_KEY, "AWS_ACCESS_KEY_ID", BedrockWire.TEST_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY", BedrockWire.TEST_SECRET_KEY));
    environment.putAll(more);
    return environment::get;
  }

  /**
   * Starts the router with the given config, for settings YAML cannot carry (listen is forced as above). Unless the
   * config names a data_dir, the call log goes to a new temporary folder (see {@link #dataDir()}).
   */
  public static RunningRouter start(Vertx vertx, RouterConfig config) {
    return start(vertx, config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /** As above, with the metrics in {@code registry} (Vert.x's too when {@code vertx} is instrumented with it). */
  public static RunningRouter start(Vertx vertx, RouterConfig config, PrometheusMeterRegistry registry) {
    return start(vertx, config, registry, Ticker.systemTicker());
  }

  /** As above, with {@code clock} timing circuit cool-downs and session expiry. */
  public static RunningRouter start(Vertx vertx, RouterConfig config, PrometheusMeterRegistry registry,
      Ticker clock) {
    RouterConfig started = config.withPort(0);
    boolean temporary = config.observability().dataDir().equals(ObservabilityConfig.DEFAULT.dataDir());
    if (temporary) {
      try {
        started = started.withObservability(config.observability().withDataDir(
            Files.createTempDirectory("llmrouter-data").toString()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    Path dataDir = Path.of(started.observability().dataDir());
    return new RunningRouter(Await.result(RouterServer.start(vertx, started, registry, clock)), registry, dataDir,
        temporary);
  }

  /** The router's data_dir: the call log is {@code calls.db} in it. */
  public Path dataDir() {
    return dataDir;
  }

  public int port() {
    return server.port();
  }

  /** The router itself, to drain it or reload its config. */
  public RouterServer server() {
    return server;
  }

  /** The admin listener's port (the config must set {@code admin_listen}). */
  public int adminPort() {
    return server.adminPort().orElseThrow();
  }

  public ManagedChannel channel() {
    return channel;
  }

  public ChatServiceGrpc.ChatServiceBlockingStub chat() {
    return ChatServiceGrpc.newBlockingStub(channel);
  }

  /** A channel of its own, so a connection of its own (closed with the router). */
  public ManagedChannel newConnection() {
    ManagedChannel connection = newChannel();
    moreChannels.add(connection);
    return connection;
  }

  /** {@code count} blocking stubs, each on a new connection (closed with the router). */
  public List<ChatServiceGrpc.ChatServiceBlockingStub> chatsOnNewConnections(int count) {
    List<ChatServiceGrpc.ChatServiceBlockingStub> stubs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      stubs.add(ChatServiceGrpc.newBlockingStub(newConnection()));
    }
    return stubs;
  }

  /** The router's count of open streams of an RPC (`llmrouter.open.streams`): its calls begun and not ended. */
  public double openStreams(String rpc) {
    Gauge open = registry.find("llmrouter.open.streams").tag("rpc", rpc).gauge();
    return open == null ? 0 : open.value();
  }

  /** The value of one of the router's counters (0 before its first count). */
  public double count(String counter) {
    Counter found = registry.find(counter).counter();
    return found == null ? 0 : found.count();
  }

  public ChatServiceGrpc.ChatServiceStub chatAsync() {
    return ChatServiceGrpc.newStub(channel);
  }

  public EmbeddingServiceGrpc.EmbeddingServiceBlockingStub embeddings() {
    return EmbeddingServiceGrpc.newBlockingStub(channel);
  }

  public ModelServiceGrpc.ModelServiceBlockingStub models() {
    return ModelServiceGrpc.newBlockingStub(channel);
  }

  /** `AdminService`, with the admin key. */
  public AdminServiceGrpc.AdminServiceBlockingStub admin() {
    return withKey(AdminServiceGrpc.newBlockingStub(channel), TEST_ADMIN_KEY);
  }

  /** The stub sending {@code key} as `authorization: Bearer <key>` with every call. */
  public static <S extends AbstractStub<S>> S withKey(S stub, String key) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /**
   * Calls Chat with a deadline that the client sends (`grpc-timeout`) but leaves to the router, as a plain HTTP/2 POST,
   * so that the status returned is always the router's own, never one a client made up when its deadline passed.
   */
  public Status chatWithDeadlineLeftToTheRouter(Vertx vertx, ChatRequest request, Duration deadline) {
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false));
    try {
      byte[] message = request.toByteArray();
      HttpClientResponse response = Await.result(WholeAnswer.of(http.request(new RequestOptions()
              .setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port()).setURI("/llmrouter.v1.ChatService/Chat")
              .putHeader("content-type", "application/grpc").putHeader("te", "trailers")
              .putHeader("grpc-timeout", deadline.toMillis() + "m")),
          post -> post.send(Buffer.buffer().appendByte((byte) 0).appendInt(message.length).appendBytes(message))));
      // A call that fails before answering anything sends its status in the headers ("trailers-only").
      MultiMap status = response.trailers().contains("grpc-status") ? response.trailers() : response.headers();
      String details = status.get("grpc-status-details-bin");
      return details == null ? Status.newBuilder().setCode(Integer.parseInt(status.get("grpc-status"))).build()
          : Status.parseFrom(Base64.getDecoder().decode(details));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("the router's status details do not parse", e);
    } finally {
      Await.result(http.close());
    }
  }

  @Override
  public void close() throws InterruptedException {
    for (ManagedChannel connection : moreChannels) {
      connection.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    Await.result(server.close());
    if (temporaryDataDir) {
      try (Stream<Path> files = Files.walk(dataDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
