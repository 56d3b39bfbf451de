package dev.llmrouter.server.provider.vertex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vertx.core.Vertx;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Vertex AI deployment with a service-account key file: the router gets its OAuth2 access tokens from the token
 * endpoint the file names (here a local one; the key is a throwaway made by the test), through Google's auth library,
 * keeps a token while it is good, and fetches the next one when it expires. Expiry is the library's own rule: a token
 * with less than three minutes left counts as expired, so the endpoint's `expires_in` sets it without any waiting.
 */
class VertexCredentialsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CLIENT_EMAIL = "llm-router@test-project.iam.gserviceaccount.com";
  private static final String ANSWER = "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Olá!\"}]},"
      + "\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":2},"
      + "\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"vertex-answer-1\"}";

  @TempDir
  Path dir;

  private KeyPair key;
  private Vertx vertx;
  private MockUpstream upstream;
  private MockUpstream tokenEndpoint;
  private RouterWithUpstream setup;

  @BeforeEach
  void start() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    key = generator.generateKeyPair();
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx);
    tokenEndpoint = MockUpstream.start(vertx);
    Path serviceAccount = dir.resolve("service-account.json");
    Files.writeString(serviceAccount, JSON.writeValueAsString(Map.of("type", "service_account",
        "project_id", "test-project", "private_key_id", "throwaway-key-1", "private_key", pem(key),
        "client_email", CLIENT_EMAIL, "client_id", "100000000000000000001",
        "token_uri", tokenEndpoint.baseUrl() + "/token")));
    setup = new RouterWithUpstream(vertx, upstream, RunningRouter.start(vertx, """
        cassettes: { mode: "off" }
        providers:
          - { name: vertex, type: vertex, base_url: "%s", project: test-project, location: europe-west4, credentials_file: "%s" }
        """.formatted(upstream.baseUrl(), serviceAccount)));
  }

  @AfterEach
  void stop() throws Exception {
    tokenEndpoint.close();
    setup.close();
  }

  @Test
  void aTokenIsFetchedKeptWhileGoodAndFetchedAgainWhenItExpires() throws Exception {
    tokenEndpoint.script(
        r -> token(r, "ya29.first-token", 60), // under the library's three-minute margin: expired for the next call
        r -> token(r, "ya29.second-token", 3600));
    upstream.reply(200, "application/json", ANSWER);

    assertEquals("Olá!", chat());
    assertEquals(1, tokenEndpoint.received().size());
    assertSignedByTheServiceAccount(tokenEndpoint.lastRequest());
    assertEquals("Bearer ya29.first-token", upstream.lastRequest().headers().get("authorization"));
    assertEquals("/v1/projects/test-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash"
        + ":generateContent", upstream.lastRequest().uri());

    assertEquals("Olá!", chat());
    assertEquals(2, tokenEndpoint.received().size(), "the expired token was replaced");
    assertEquals("Bearer ya29.second-token", upstream.lastRequest().headers().get("authorization"));

    assertEquals("Olá!", chat());
    assertEquals(2, tokenEndpoint.received().size(), "a good token is kept: no fetch");
    assertEquals("Bearer ya29.second-token", upstream.lastRequest().headers().get("authorization"));
  }

  @Test
  void aRefusedKeyFailsTheCallNamingTheFileAndSendsNothing() {
    tokenEndpoint.reply(400, "application/json",
        "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}");
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, this::chat);
    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode(), error.toString());
    String message = error.getStatus().getDescription();
    assertTrue(message.startsWith("vertex could not get an access token from its credentials_file "
        + dir.resolve("service-account.json")), message);
    assertTrue(message.contains("invalid_grant"), message);
    assertEquals(0, upstream.received().size(), "nothing reached the upstream");
  }

  private String chat() {
    // A deadline: a call the router never answers fails here rather than holding the build.
    return setup.router().chat().withDeadlineAfter(30, TimeUnit.SECONDS).chat(ChatRequest.newBuilder().setModel("vertex/gemini-2.5-flash")
        .addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Olá")))
        .build()).getMessage().getParts(0).getText();
  }

  private static void token(io.vertx.core.http.HttpServerRequest request, String token, int expiresIn) {
    request.response().putHeader("content-type", "application/json").end("{\"access_token\":\"" + token
        + "\",\"expires_in\":" + expiresIn + ",\"token_type\":\"Bearer\"}");
  }

  /** The token request is the JWT bearer grant, its assertion signed with the file's key for the cloud-platform scope. */
  private void assertSignedByTheServiceAccount(MockUpstream.Received request) throws Exception {
    assertEquals("/token", request.uri());
    Map<String, String> form = new HashMap<>();
    for (String pair : request.body().split("&")) {
      String[] nameAndValue = pair.split("=", 2);
      form.put(nameAndValue[0], URLDecoder.decode(nameAndValue[1], StandardCharsets.UTF_8));
    }
    assertEquals("urn:ietf:params:oauth:grant-type:jwt-bearer", form.get("grant_type"));
    String[] jwt = form.get("assertion").split("\\.");
    Signature rs256 = Signature.getInstance("SHA256withRSA");
    rs256.initVerify(key.getPublic());
    rs256.update((jwt[0] + "." + jwt[1]).getBytes(StandardCharsets.US_ASCII));
    assertTrue(rs256.verify(Base64.getUrlDecoder().decode(jwt[2])), "signed with the service account's key");
    JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(jwt[1]));
    assertEquals(CLIENT_EMAIL, claims.path("iss").asText());
    assertEquals("https://www.googleapis.com/auth/cloud-platform", claims.path("scope").asText());
  }

  private static String pem(KeyPair key) {
    return "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
  }
}
