package dev.llmrouter.server.testing;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import io.vertx.core.Vertx;

/**
 * The routing tests' setup: two mock OpenAI upstreams, {@code a} and {@code b}, and the real router in front of both.
 *
 * @param vertx the Vert.x instance all three run on
 * @param a the first mock provider
 * @param b the second mock provider
 * @param router the router under test
 */
public record TwoUpstreams(Vertx vertx, MockUpstream a, MockUpstream b, RunningRouter router)
    implements AutoCloseable {

  /** A complete Chat Completions answer, not streamed, whose text is "fine". */
  public static final String OK_JSON = "{\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
      + "\"message\":{\"content\":\"fine\"},\"finish_reason\":\"stop\"}]}";

  /** @param yaml the router's config, where {@code %1$s} and {@code %2$s} stand for a's and b's base URLs */
  public static TwoUpstreams start(String yaml) {
    Vertx vertx = Vertx.vertx();
    MockUpstream a = MockUpstream.start(vertx);
    MockUpstream b = MockUpstream.start(vertx);
    return new TwoUpstreams(vertx, a, b, RunningRouter.start(vertx, yaml.formatted(a.baseUrl(), b.baseUrl())));
  }

  /** A user's "Hello" to {@code model}. */
  public static ChatRequest ask(String model) {
    return ChatRequest.newBuilder().setModel(model).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText("Hello"))).build();
  }

  /** Forgets the requests both upstreams received so far. */
  public void forgetRequests() {
    a.received().clear();
    b.received().clear();
  }

  @Override
  public void close() throws Exception {
    router.close();
    a.close();
    b.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }
}
