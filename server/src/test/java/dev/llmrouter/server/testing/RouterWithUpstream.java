package dev.llmrouter.server.testing;

import com.github.benmanes.caffeine.cache.Ticker;
import io.vertx.core.Vertx;

/**
 * The setup most tests share: a Vert.x instance, a mock upstream, and the real router configured against it.
 *
 * @param vertx the Vert.x instance both run on
 * @param upstream the mock provider
 * @param router the router under test
 */
public record RouterWithUpstream(Vertx vertx, MockUpstream upstream, RunningRouter router) implements AutoCloseable {

  /** @param yaml the router's config, where {@code %1$s} stands for the upstream's base URL */
  public static RouterWithUpstream start(String yaml) {
    return start(yaml, Ticker.systemTicker());
  }

  /** As above, with {@code clock} timing circuit cool-downs, rate-limit windows and session expiry. */
  public static RouterWithUpstream start(String yaml, Ticker clock) {
    Vertx vertx = Vertx.vertx();
    MockUpstream upstream = MockUpstream.start(vertx);
    return new RouterWithUpstream(vertx, upstream,
        RunningRouter.start(vertx, yaml.formatted(upstream.baseUrl()), clock));
  }

  /** The router with one provider of {@code type}, also named {@code type}, in front of the upstream; no cassettes. */
  public static RouterWithUpstream oneProvider(String type) {
    return start("""
        cassettes: { mode: "off" }
        providers:
          - { name: %1$s, type: %1$s, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
        """.formatted(type));
  }

  @Override
  public void close() throws Exception {
    router.close();
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }
}
