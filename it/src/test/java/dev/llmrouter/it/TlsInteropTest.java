package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.server.testing.ExternalProcess;
import dev.llmrouter.server.testing.ExternalProcess.Run;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.TestCertificates;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients outside Java against the router over TLS and mTLS, each trusting the test CA the way it is told to: `buf
 * curl` (grpc-go: `--cacert`, and `--cert`/`--key` under mTLS, the schema from reflection over TLS) and the `openai`
 * SDK on the HTTP ingress (`NODE_EXTRA_CA_CERTS`).
 */
class TlsInteropTest {

  private static final String ANSWER = """
      {"id": "chatcmpl-tls", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
       "choices": [{"index": 0, "message": {"role": "assistant", "content": "Over TLS."}, "finish_reason": "stop"}],
       "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}""";
  private static final String ROUTER = """
      cassettes: { mode: "off" }
      providers:
        - { name: openai, type: openai, base_url: "%%1$s/v1", api_key: "${TEST_API_KEY}", models: [gpt-4o-mini] }
      %s
      """;
  private static final String CHAT = "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"ROLE_USER\","
      + "\"parts\":[{\"text\":\"Say hello\"}]}]}";

  /** Where a call is to fail at the handshake: with the schema from reflection, buf curl reports a missing service. */
  private static final String SCHEMA_FROM_FILES = "--schema=" + InteropTest.PROTO;

  private static TestCertificates certificates;
  private static RouterWithUpstream tls;
  private static RouterWithUpstream mtls;

  @BeforeAll
  static void start(@TempDir Path dir) {
    InteropTest.installExample();
    certificates = TestCertificates.create(dir);
    tls = RouterWithUpstream.start(ROUTER.formatted(certificates.tlsSection(false)));
    tls.upstream().reply(200, "application/json", ANSWER);
    mtls = RouterWithUpstream.start(ROUTER.formatted(certificates.tlsSection(true)));
    mtls.upstream().reply(200, "application/json", ANSWER);
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable started : new AutoCloseable[] {tls, mtls}) {
      if (started != null) {
        started.close();
      }
    }
  }

  @Test
  void bufCurlTrustsTheRouterGivenItsCa() {
    Run chat = bufCurl(tls, "--cacert", certificates.ca().toString());
    assertEquals(0, chat.exitCode(), chat::toString);
    assertEquals("Over TLS.", new JsonObject(chat.stdout()).getJsonObject("message").getJsonArray("parts")
        .getJsonObject(0).getString("text"), chat::toString);

    Run untrusting = bufCurl(tls, SCHEMA_FROM_FILES);
    assertNotEquals(0, untrusting.exitCode(), untrusting::toString);
    assertTrue(untrusting.stderr().contains("certificate signed by unknown authority"), untrusting::toString);
  }

  @Test
  void underMtlsBufCurlPresentsItsCertificateAndIsRefusedWithout() {
    TestCertificates.Issued client = certificates.client();
    Run chat = bufCurl(mtls, "--cacert", certificates.ca().toString(), "--cert", client.certificate().toString(),
        "--key", client.key().toString());
    assertEquals(0, chat.exitCode(), chat::toString);
    assertTrue(chat.stdout().contains("Over TLS."), chat::toString);

    Run anonymous = bufCurl(mtls, "--cacert", certificates.ca().toString(), SCHEMA_FROM_FILES);
    assertNotEquals(0, anonymous.exitCode(), anonymous::toString);
    assertTrue(anonymous.stdout().isEmpty(), anonymous::toString);
    // TLS 1.3 refuses the client after its half of the handshake: Go reports the server's alert when it reads it
    // first, that the connection could not be set up, or that its first write found the connection closed.
    String refusal = anonymous.stderr();
    assertTrue(refusal.contains("remote error: tls: bad certificate")
        || refusal.contains("client conn could not be established") || refusal.contains("write: broken pipe"),
        anonymous::toString);
  }

  @Test
  void theOpenAiSdkTrustsTheRouterThroughNodeExtraCaCerts() {
    NodeSdks.install();
    String baseUrl = "https://localhost:" + tls.router().port();
    JsonObject ask = new JsonObject().put("model", "openai/gpt-4o-mini").put("prompt", "Say hello");
    JsonObject trusting = NodeSdks.run("openai-chat.mjs", "create", baseUrl, ask,
        Map.of("NODE_EXTRA_CA_CERTS", certificates.ca().toString()));
    assertEquals("Over TLS.", trusting.getJsonObject("result").getJsonArray("choices").getJsonObject(0)
        .getJsonObject("message").getString("content"), trusting::encode);

    JsonObject untrusting = NodeSdks.run("openai-chat.mjs", "create", baseUrl, ask, Map.of());
    assertEquals("APIConnectionError", untrusting.getJsonObject("error").getString("class"), untrusting::encode);
  }

  /** `buf curl` calling Chat on the router with these flags, the schema from the router's reflection service unless
   * they say otherwise. */
  private static Run bufCurl(RouterWithUpstream router, String... flags) {
    List<String> command = new ArrayList<>(List.of(InteropTest.BUF, "curl", "--protocol", "grpc"));
    command.addAll(List.of(flags));
    command.addAll(List.of("-d", CHAT, "https://localhost:" + router.router().port()
        + "/llmrouter.v1.ChatService/Chat"));
    return ExternalProcess.run(InteropTest.EXAMPLE, Duration.ofSeconds(60), command.toArray(String[]::new));
  }
}
