package dev.llmrouter.client.testing;

import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.config.ConfigLoader;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Map;

/** The real router, started in process on a free loopback port, with one OpenAI-type provider named `openai`. */
public final class LocalRouter implements AutoCloseable {

  private final RouterServer server;

  private LocalRouter(RouterServer server) {
    this.server = server;
  }

  /**
   * @param mode the cassette mode: replay, record, auto or off
   * @param cassettes the cassette folder
   * @param upstreamBaseUrl where the `openai` provider is reached (unused in replay mode)
   */
  public static LocalRouter start(Vertx vertx, String mode, Path cassettes, String upstreamBaseUrl) {
    String yaml = """
        listen: 127.0.0.1:0
        call_log: { enabled: false }  # the client tests read no call log: no data dir to clean up
        cassettes: { dir: "%s", mode: "%s" }
        providers:
          - { name: openai, type: openai, base_url: "%s", api_key: "${OPENAI_API_KEY}", models: [gpt-4o-mini] }
        """.formatted(cassettes, mode, upstreamBaseUrl);
    return new LocalRouter(Await.await(RouterServer.start(vertx,
        ConfigLoader.parse(yaml, Map.of("OPENAI_API_KEY", "sk-test-not-a-real-key")::get))));
  }

  /** The router's {@code host:port}. */
  public String target() {
    return "127.0.0.1:" + server.port();
  }

  @Override
  public void close() {
    Await.await(server.close());
  }
}
