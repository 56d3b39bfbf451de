package dev.llmrouter.server.testing;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Real routers over one cassette folder, in front of one mock OpenAI upstream that answers every call with the text
 * {@value #ANSWER} (as a stream, with fresh ids each time, as a real provider does): what the tests of the cassette
 * features in a test suite (match rules, CI strictness, the replay report) share. Each router gets the config
 * <pre>
 * cassettes:
 *   dir: "&lt;the folder&gt;"
 *   &lt;the test's lines, from line 3 on&gt;
 * admin_listen: 127.0.0.1:0
 * providers:
 *   - { name: openai, type: openai, ... }
 * </pre>
 */
public final class CassetteRouters implements AutoCloseable {

  /** What the upstream answers. */
  public static final String ANSWER = "Noted.";

  private final Vertx vertx = Vertx.vertx();
  private final MockUpstream upstream = MockUpstream.start(vertx);
  private final Path cassettes;
  private final List<RunningRouter> routers = new ArrayList<>();
  private int served;

  public CassetteRouters(Path cassettes) {
    this.cassettes = cassettes;
    upstream.answer(request -> {
      served++;
      String chunk = "data: {\"id\":\"chatcmpl-live-" + served + "\",\"created\":" + (1_700_000_000 + served)
          + ",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":%s}]}\n\n";
      request.response().putHeader("content-type", "text/event-stream").end(
          chunk.formatted("{\"role\":\"assistant\",\"content\":\"" + ANSWER + "\"}", "null")
              + chunk.formatted("{}", "\"stop\"")
              + "data: {\"id\":\"chatcmpl-live\",\"created\":1,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],"
              + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n");
    });
  }

  /**
   * A router whose `cassettes:` section holds the folder and {@code cassettesYaml} (mode, match rules...), in an
   * environment of the tests' keys and {@code environment} (such as {@code CI=true}), never the real one.
   */
  public RunningRouter router(String cassettesYaml, Map<String, String> environment) {
    RunningRouter router = RunningRouter.start(vertx, config(cassettesYaml), environment);
    routers.add(router);
    return router;
  }

  /** A router as above, outside CI. */
  public RunningRouter router(String cassettesYaml) {
    return router(cassettesYaml, Map.of());
  }

  /** The whole config of such a router. */
  public String config(String cassettesYaml) {
    return "cassettes:\n  dir: \"" + cassettes + "\"\n" + cassettesYaml.stripTrailing().indent(2)
        + "admin_listen: 127.0.0.1:0\nproviders:\n"
        + "  - { name: openai, type: openai, base_url: \"" + upstream.baseUrl() + "/v1\", api_key: \"${TEST_API_KEY}\" }\n";
  }

  public Vertx vertx() {
    return vertx;
  }

  /** Calls the upstream has answered so far. */
  public int upstreamCalls() {
    return upstream.received().size();
  }

  /** A user's question to {@code openai/gpt-4o-mini}, as a gRPC request. */
  public static ChatRequest ask(String text) {
    return ChatRequest.newBuilder().setModel("openai/gpt-4o-mini").addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText(text))).build();
  }

  /** The same question as an OpenAI Chat Completions body, for the HTTP door, with the fields of {@code more}. */
  public static String askOpenAi(String text, JsonObject more) {
    return new JsonObject().put("model", "openai/gpt-4o-mini")
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", text)))
        .mergeIn(more).encode();
  }

  /** The router's gRPC chat stub sending {@code headers} (name, value pairs) as metadata with every call. */
  public static ChatServiceGrpc.ChatServiceBlockingStub chat(RunningRouter router, String... headers) {
    return chat(router.channel(), headers);
  }

  /** As above, on any channel to a router (a {@link RouterProcess}'s too). */
  public static ChatServiceGrpc.ChatServiceBlockingStub chat(Channel channel, String... headers) {
    Metadata metadata = new Metadata();
    for (int i = 0; i < headers.length; i += 2) {
      metadata.put(Metadata.Key.of(headers[i], Metadata.ASCII_STRING_MARSHALLER), headers[i + 1]);
    }
    return ChatServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(
        metadata));
  }

  @Override
  public void close() throws Exception {
    for (RunningRouter router : routers) {
      router.close();
    }
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }
}
