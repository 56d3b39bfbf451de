package dev.llmrouter.server.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Metadata;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo cassettes shipped in `cassettes/recorded/`: recorded through the router in record mode against a local
 * upstream that serves OpenAI-format answers written by hand below. The test re-records them and checks that the
 * shipped files are byte for byte what recording produces (so re-recording leaves `git diff` empty), and that the
 * embedded default answers the README's first call from them. `cassettes/recorded/record.sh` rewrites them.
 */
class DemoCassettesTest {

  /** Where the shipped demo set lives, seen from the server module. */
  static final Path SHIPPED = Path.of("../cassettes/recorded");
  private static final boolean REWRITE = Boolean.getBoolean("llmrouter.demo.rewrite");

  /** One demo exchange: the scope, the request a caller sends, whether it streams, and the upstream's answer. */
  record Demo(String scope, String requestJson, boolean stream, String contentType, String upstreamBody) {
  }

  static final List<Demo> DEMOS = List.of(
      new Demo("default", """
          {"model": "openai/gpt-4o-mini", "messages": [{"role": "ROLE_USER", "parts": [{"text": "What is the capital of France?"}]}]}
          """, false, "application/json", """
          {"id":"chatcmpl-demo","object":"chat.completion","created":1730000000,"model":"gpt-4o-mini-2024-07-18",
           "choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris."},
           "finish_reason":"stop"}],"usage":{"prompt_tokens":14,"completion_tokens":8,"total_tokens":22,
           "prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}
          """),
      new Demo("default", """
          {"model": "openai/gpt-4o-mini", "messages": [{"role": "ROLE_USER", "parts": [{"text": "Write a haiku about the sea."}]}]}
          """, true, "text/event-stream", sse(List.of("Waves fold into foam,", "\\nsalt wind carries gull voices,",
          "\\nthe tide keeps its time."), "stop", "{\"prompt_tokens\":13,\"completion_tokens\":19}")),
      new Demo("tool-call", """
          {"model": "openai/gpt-4o-mini",
           "messages": [{"role": "ROLE_USER", "parts": [{"text": "What's the weather in Paris?"}]}],
           "tools": [{"name": "get_weather", "description": "Current weather for a city.",
                      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]}
          """, true, "text/event-stream", """
          data: {"id":"chatcmpl-demo","created":1730000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_demo","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}

          data: {"id":"chatcmpl-demo","created":1730000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":"}}]},"finish_reason":null}]}

          data: {"id":"chatcmpl-demo","created":1730000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\\"Paris\\"}"}}]},"finish_reason":null}]}

          data: {"id":"chatcmpl-demo","created":1730000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

          data: {"id":"chatcmpl-demo","created":1730000000,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":52,"completion_tokens":15}}

          data: [DONE]

          """),
      new Demo("structured-output", """
          {"model": "openai/gpt-4o-mini",
           "messages": [{"role": "ROLE_USER", "parts": [{"text": "Name the largest city of Japan and its country."}]}],
           "responseFormat": {"type": "RESPONSE_FORMAT_TYPE_JSON_SCHEMA", "schemaName": "city", "strict": true,
             "schema": {"type": "object", "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
                        "required": ["city", "country"], "additionalProperties": false}}}
          """, false, "application/json", """
          {"id":"chatcmpl-demo","object":"chat.completion","created":1730000000,"model":"gpt-4o-mini-2024-07-18",
           "choices":[{"index":0,"message":{"role":"assistant","content":"{\\"city\\":\\"Tokyo\\",\\"country\\":\\"Japan\\"}"},
           "finish_reason":"stop"}],"usage":{"prompt_tokens":61,"completion_tokens":12}}
          """));

  private static String sse(List<String> deltas, String finish, String usage) {
    String head = "data: {\"id\":\"chatcmpl-demo\",\"created\":1730000000,\"model\":\"gpt-4o-mini-2024-07-18\","
        + "\"choices\":";
    StringBuilder out = new StringBuilder();
    for (String delta : deltas) {
      out.append(head).append("[{\"index\":0,\"delta\":{\"content\":\"").append(delta)
          .append("\"},\"finish_reason\":null}]}\n\n");
    }
    out.append(head).append("[{\"index\":0,\"delta\":{},\"finish_reason\":\"").append(finish).append("\"}]}\n\n");
    out.append(head).append("[],\"usage\":").append(usage).append("}\n\ndata: [DONE]\n\n");
    return out.toString();
  }

  static ChatRequest request(Demo demo) {
    try {
      ChatRequest.Builder request = ChatRequest.newBuilder();
      JsonFormat.parser().merge(demo.requestJson(), request);
      return request.build();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  @Test
  void shippedDemoCassettesAreExactlyWhatRecordingProduces(@TempDir Path recorded) throws Exception {
    try (MockUpstream upstream = MockUpstream.start(vertx)) {
      RunningRouter router = RunningRouter.start(vertx, """
          cassettes: { dir: "%s", mode: record }
          providers:
            - { name: openai, type: openai, base_url: "%s/v1", api_key: "${TEST_API_KEY}" }
          """.formatted(recorded, upstream.baseUrl()));
      try {
        for (Demo demo : DEMOS) {
          upstream.reply(200, demo.contentType(), demo.upstreamBody());
          Metadata scope = new Metadata();
          scope.put(Metadata.Key.of("x-cassette-scope", Metadata.ASCII_STRING_MARSHALLER), demo.scope());
          ChatServiceGrpc.ChatServiceBlockingStub stub = router.chat()
              .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(scope));
          if (demo.stream()) {
            stub.streamChat(request(demo)).forEachRemaining(e -> { });
          } else {
            stub.chat(request(demo));
          }
        }
      } finally {
        router.close();
      }
    }
    Map<Path, byte[]> fresh = cassetteFiles(recorded);
    if (REWRITE) {
      for (Path stale : cassetteFiles(SHIPPED).keySet()) {
        Files.delete(SHIPPED.resolve(stale));
      }
      for (Map.Entry<Path, byte[]> file : fresh.entrySet()) {
        Files.createDirectories(SHIPPED.resolve(file.getKey()).getParent());
        Files.write(SHIPPED.resolve(file.getKey()), file.getValue());
      }
    }
    Map<Path, byte[]> shipped = cassetteFiles(SHIPPED);
    assertEquals(fresh.keySet(), shipped.keySet(), "the demo set differs from a fresh recording: run "
        + "cassettes/recorded/record.sh");
    for (Path file : fresh.keySet()) {
      assertEquals(new String(fresh.get(file)), new String(shipped.get(file)), file + " is stale: run "
          + "cassettes/recorded/record.sh");
    }
  }

  @Test
  void theEmbeddedDefaultReplaysTheReadmeCallsWithNoKeysAndNoNetwork() throws Exception {
    var config = ConfigLoader.embeddedDefault(name -> null).withPort(0).withCassetteDir(SHIPPED.toString());
    RouterServer server = RouterServer.start(vertx, config).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    try {
      ChatServiceGrpc.ChatServiceBlockingStub chat = ChatServiceGrpc.newBlockingStub(channel);
      ChatResponse paris = chat.chat(request(DEMOS.get(0)));
      assertEquals("The capital of France is Paris.", paris.getMessage().getParts(0).getText());
      assertEquals(CassetteOutcome.CASSETTE_OUTCOME_HIT, paris.getOrigin().getCassette());
      List<ChatEvent> haiku = new ArrayList<>();
      chat.streamChat(request(DEMOS.get(1))).forEachRemaining(haiku::add);
      assertEquals(3, haiku.stream().filter(ChatEvent::hasTextDelta).count(), "the recorded chunks are kept");
      assertTrue(haiku.get(haiku.size() - 1).hasDone());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  private static Map<Path, byte[]> cassetteFiles(Path root) throws IOException {
    Map<Path, byte[]> files = new TreeMap<>();
    if (!Files.isDirectory(root)) {
      return files;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path file : walk.filter(f -> f.toString().endsWith(".json")).toList()) {
        files.put(root.relativize(file), Files.readAllBytes(file));
      }
    }
    return files;
  }
}
