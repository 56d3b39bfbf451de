package dev.llmrouter.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.rpc.ErrorInfo;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.RevokeKeyRequest;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.cli.KeysCommand;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.OpenAiAnswerTable;
import dev.llmrouter.server.testing.RedisServer;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two routers sharing one real `redis-server` (`shared_state.redis_url`) behave as one: a key made by the `keys`
 * command works on both, its calls per minute and its budget are counted once across both, a revocation on one holds
 * on the other within a second, and the key is nowhere in Redis's dump nor in either router's files.
 */
class SharedStateTest {

  private static final ManualClock CLOCK = new ManualClock();
  private static final String MODEL = "openai/gpt-4o-mini";

  @TempDir
  static Path dir;

  private static Vertx vertx;
  private static RedisServer redis;
  private static MockUpstream upstream;
  private static RunningRouter first;
  private static RunningRouter second;
  private static Path config;
  private static final List<String> keys = new ArrayList<>();

  @BeforeAll
  static void start() throws IOException {
    assumeTrue(RedisServer.installed(), "redis-server is not on the PATH (Debian: apt-get install -y redis-server; "
        + ".ci/run installs it): skipping the tests of routers sharing Redis");
    Files.createDirectories(dir.resolve("redis"));
    redis = RedisServer.start(dir.resolve("redis"));
    vertx = Vertx.vertx();
    upstream = OpenAiAnswerTable.answer(MockUpstream.start(vertx), Map.of("What is the capital of France?",
        "Paris."));
    String yaml = """
        data_dir: "%s"
        cassettes: { dir: "%s", mode: "off" }
        auth: { required: true, admin_key: "${ROUTER_ADMIN_KEY}" }
        shared_state: { redis_url: "%s" }
        prices:
          gpt-4o-mini: { input: 1000, output: 1000 }
        providers:
          - { name: openai, type: openai, base_url: "%s", api_key: "${TEST_API_KEY}" }
        """;
    first = RunningRouter.start(vertx, yaml.formatted(dir.resolve("first"), dir.resolve("cassettes"), redis.url(),
        upstream.baseUrl()), CLOCK);
    second = RunningRouter.start(vertx, yaml.formatted(dir.resolve("second"), dir.resolve("cassettes"), redis.url(),
        upstream.baseUrl()), CLOCK);
    config = dir.resolve("router.yaml");
    Files.writeString(config, "shared_state: { redis_url: \"" + redis.url() + "\" }\n");
  }

  @AfterAll
  static void stop() throws Exception {
    if (redis == null) {
      return;
    }
    first.close();
    second.close();
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
    redis.close();
  }

  /** Every test starts after every window of the one before has ended. */
  @BeforeEach
  void nextMonth() {
    CLOCK.advance(Duration.ofDays(31));
  }

  /** Runs `keys ...` against the Redis of the routers, as an operator would; returns what it printed. */
  private static List<String> keys(String... arguments) {
    List<String> args = new ArrayList<>(List.of(arguments));
    args.addAll(List.of("--config", config.toString()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exitCode = KeysCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(0, exitCode, err.toString(StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8).lines().toList();
  }

  /** A new key (made with the `keys` command): its id and the key. */
  private static String[] create(String... limits) {
    List<String> args = new ArrayList<>(List.of("create", "--name", "shared"));
    args.addAll(List.of(limits));
    List<String> printed = keys(args.toArray(String[]::new));
    String key = printed.get(printed.size() - 1);
    keys.add(key);
    return new String[] {printed.get(0).split(" ")[2], key};
  }

  private static ChatServiceGrpc.ChatServiceBlockingStub chat(RunningRouter router, String key) {
    return RunningRouter.withKey(router.chat(), key);
  }

  private static ChatRequest ask() {
    return ChatRequest.newBuilder().setModel(MODEL).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText("What is the capital of France?"))).build();
  }

  private static Status.Code code(RunningRouter router, String key) {
    try {
      chat(router, key).chat(ask());
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  private static String reason(RunningRouter router, String key) throws Exception {
    try {
      chat(router, key).chat(ask());
      return "answered";
    } catch (StatusRuntimeException e) {
      return StatusProto.fromThrowable(e).getDetailsList().stream().filter(d -> d.is(ErrorInfo.class)).findFirst()
          .orElseThrow().unpack(ErrorInfo.class).getReason();
    }
  }

  @Test
  void aKeyWithFiveCallsPerMinuteGetsFiveAnswersOfEightAcrossBothRouters() throws Exception {
    String key = create("--rpm", "5")[1];

    ExecutorService callers = Executors.newFixedThreadPool(8);
    List<Future<Status.Code>> calls = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      RunningRouter router = i % 2 == 0 ? first : second;
      calls.add(callers.submit(() -> code(router, key)));
    }
    List<Status.Code> codes = new ArrayList<>();
    for (Future<Status.Code> call : calls) {
      codes.add(call.get());
    }
    callers.shutdown();

    assertEquals(5, codes.stream().filter(Status.Code.OK::equals).count(), codes.toString());
    assertEquals(3, codes.stream().filter(Status.Code.RESOURCE_EXHAUSTED::equals).count(), codes.toString());
    CLOCK.advance(Duration.ofMinutes(1));
    assertEquals(Status.Code.OK, code(second, key), "a new minute");
  }

  @Test
  void fourHundredCallsAtOnceAreAllCountedAndAnswered() throws Exception {
    String key = create("--rpm", "100000")[1];
    List<CompletableFuture<Status.Code>> calls = new ArrayList<>();

    for (int i = 0; i < 400; i++) {
      CompletableFuture<Status.Code> call = new CompletableFuture<>();
      RunningRouter.withKey((i % 2 == 0 ? first : second).chatAsync(), key).chat(ask(),
          new StreamObserver<ChatResponse>() {
            @Override
            public void onNext(ChatResponse answer) {
            }

            @Override
            public void onError(Throwable t) {
              call.complete(Status.fromThrowable(t).getCode());
            }

            @Override
            public void onCompleted() {
              call.complete(Status.Code.OK);
            }
          });
      calls.add(call);
    }

    for (CompletableFuture<Status.Code> call : calls) {
      assertEquals(Status.Code.OK, call.get(30, TimeUnit.SECONDS), "more checks than Redis connections wait their turn");
    }
  }

  @Test
  void spendOnBothRoutersCountsAgainstOneBudget() throws Exception {
    String[] created = create("--budget-usd", "0.03");
    String key = created[1];

    assertEquals(Status.Code.OK, code(first, key));
    assertEquals(Status.Code.OK, code(second, key));
    assertEquals(Status.Code.OK, code(first, key)); // 0.026 spent before it: it runs, and spends 0.039
    assertEquals("BUDGET_EXHAUSTED", reason(second, key));
    assertEquals("BUDGET_EXHAUSTED", reason(first, key));
    String listed = keys("list").stream().filter(line -> line.startsWith(created[0])).findFirst().orElseThrow();
    assertTrue(listed.contains("spent 0.039000 of 0.03 USD per 30d"), listed);
  }

  @Test
  void aKeyRevokedOnOneRouterIsRefusedByTheOtherWithinASecond() throws Exception {
    String[] created = create();
    assertEquals(Status.Code.OK, code(second, created[1]));

    first.admin().revokeKey(RevokeKeyRequest.newBuilder().setId(created[0]).build());

    assertEquals("KEY_REVOKED", reason(first, created[1]));
    assertEquals(Status.Code.OK, code(second, created[1]), "the other remembers the key for up to a second");
    CLOCK.advance(Duration.ofSeconds(1));
    assertEquals("KEY_REVOKED", reason(second, created[1]));
    assertTrue(keys("list").stream().anyMatch(line -> line.startsWith(created[0]) && line.contains(" revoked ")));
  }

  @Test
  void theKeyIsInNeitherRedisNorTheRoutersFiles() throws Exception {
    String key = create("--tpm", "1000", "--budget-usd", "5")[1];
    assertEquals(Status.Code.OK, code(first, key));
    assertEquals(Status.Code.OK, code(second, key));

    redis.save();

    assertTrue(Files.size(redis.dumpFile()) > 0);
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        String content = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        for (String secret : keys) {
          assertFalse(content.contains(secret.substring(5)), "a key is in " + file);
        }
        assertFalse(content.contains(RunningRouter.TEST_ADMIN_KEY), "the admin key is in " + file);
      }
    }
  }
}
