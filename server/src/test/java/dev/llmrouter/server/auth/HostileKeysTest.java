package dev.llmrouter.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CreateKeyRequest;
import dev.llmrouter.api.v1.KeyLimits;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.OpenAiAnswerTable;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a caller that is not one gets: malformed `authorization` values, 10 KB keys, NUL bytes, and a thousand wrong
 * keys from one address end with clear statuses (on gRPC and in the HTTP dialect's shape), and the limiter stops
 * looking at the address's keys; the router goes on serving.
 */
class HostileKeysTest {

  private static final ManualClock CLOCK = new ManualClock();
  private static final String MODEL = "openai/gpt-4o-mini";
  private static final int MAX_FAILED = 20;

  private static RouterWithUpstream setup;
  private static RunningRouter router;
  private static String key;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("""
        cassettes: { mode: "off" }
        admin_listen: 127.0.0.1:0
        admin: { metrics_public: true }
        auth: { required: true, admin_key: "${ROUTER_ADMIN_KEY}", max_failed_attempts: %d }
        providers:
          - { name: openai, type: openai, base_url: "%%1$s", api_key: "${TEST_API_KEY}", models: [gpt-4o-mini, gpt-4o] }
        """.formatted(MAX_FAILED), CLOCK);
    router = setup.router();
    OpenAiAnswerTable.answer(setup.upstream(), Map.of("Hi", "Hello."));
    key = router.admin().createKey(CreateKeyRequest.newBuilder().setName("good")
        .setLimits(KeyLimits.newBuilder().setRequestsPerMinute(1000)).build()).getSecret();
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  /** Each test starts with the address's wrong keys forgotten. */
  @BeforeEach
  void nextMinute() {
    CLOCK.advance(Duration.ofMinutes(1));
  }

  private static ChatRequest hi() {
    return ChatRequest.newBuilder().setModel(MODEL).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText("Hi"))).build();
  }

  private static StatusRuntimeException callWith(String header, String value) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of(header, Metadata.ASCII_STRING_MARSHALLER), value);
    return assertThrows(StatusRuntimeException.class, () -> router.chat()
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)).chat(hi()));
  }

  private static String reason(StatusRuntimeException e) throws Exception {
    return StatusProto.fromThrowable(e).getDetailsList().stream().filter(d -> d.is(ErrorInfo.class)).findFirst()
        .orElseThrow().unpack(ErrorInfo.class).getReason();
  }

  private HttpResponse<String> post(String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port()
        + "/v1/chat/completions"));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return http.send(request.header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"" + MODEL + "\", \"messages\": [{\"role\": \"user\", "
            + "\"content\": \"Hi\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void malformedAuthorizationValuesAreUnauthenticatedWithoutBeingQuoted() throws Exception {
    Map<String, String> malformed = new HashMap<>();
    malformed.put("Bearer", "authorization holds no key");
    malformed.put("Bearer    ", "authorization holds no key");
    malformed.put("Token " + key, "authorization must be `Bearer <key>`");
    malformed.put("Basic !!not-base64!!", "authorization Basic credentials are not base64");
    malformed.put("Bearer " + key + " " + key, "authorization holds characters no key has");
    malformed.put("Bearer " + "k".repeat(10 * 1024), "authorization holds 10240 characters; a key has at most 256");
    for (Map.Entry<String, String> value : malformed.entrySet()) {
      StatusRuntimeException refused = callWith("authorization", value.getKey());
      assertEquals(Status.Code.UNAUTHENTICATED, refused.getStatus().getCode(), value.getKey());
      assertEquals("KEY_INVALID", reason(refused));
      assertTrue(refused.getStatus().getDescription().startsWith(value.getValue()), refused.getMessage());
      assertFalse(refused.getMessage().contains(key), "never quoted");
    }
    assertEquals(Status.Code.UNAUTHENTICATED, callWith("x-api-key", "").getStatus().getCode());
    assertEquals("Hello.", RunningRouter.withKey(router.chat(), key).chat(hi()).getMessage().getParts(0).getText());
  }

  @Test
  void keysWithNulBytesAreRefusedOnBothDoors() throws Exception {
    String nul = key.substring(0, 10) + "\0" + key.substring(10);
    for (String door : List.of("POST /v1/chat/completions HTTP/1.1", "POST /llmrouter.v1.ChatService/Chat HTTP/1.1")) {
      try (Socket socket = new Socket("127.0.0.1", router.port())) {
        OutputStream out = socket.getOutputStream();
        out.write((door + "\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nx-api-key: " + nul
            + "\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = socket.getInputStream();
        String status = new String(in.readNBytes(12), StandardCharsets.ISO_8859_1);
        assertTrue(status.equals("HTTP/1.1 400") || status.equals("HTTP/1.1 401"), door + ": " + status);
      }
    }
    HttpResponse<String> answered = post("x-api-key", key);
    assertEquals(200, answered.statusCode(), "the router goes on serving: " + answered.body());
  }

  @Test
  void onTheHttpDialectsEachRefusalHasItsStatusAndShape() throws Exception {
    HttpResponse<String> none = post();
    assertEquals(401, none.statusCode());
    JsonObject error = new JsonObject(none.body()).getJsonObject("error");
    assertEquals("authentication_error", error.getString("type"));
    assertEquals("key_missing", error.getString("code"));

    String limited = router.admin().createKey(CreateKeyRequest.newBuilder().setName("one")
        .setLimits(KeyLimits.newBuilder().setRequestsPerMinute(1).addModels("openai/gpt-4o-mini")).build())
        .getSecret();
    assertEquals(200, post("authorization", "Bearer " + limited).statusCode());
    HttpResponse<String> tooMany = post("x-api-key", limited);
    assertEquals(429, tooMany.statusCode());
    assertEquals("60", tooMany.headers().firstValue("retry-after").orElseThrow());
    assertEquals("key_rate_limited", new JsonObject(tooMany.body()).getJsonObject("error").getString("code"));
    HttpResponse<String> otherModel = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + router.port() + "/v1/chat/completions")).header("x-goog-api-key", limited)
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"openai/gpt-4o\", \"messages\": [{\"role\": "
            + "\"user\", \"content\": \"Hi\"}]}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(403, otherModel.statusCode());
    assertEquals("permission_error", new JsonObject(otherModel.body()).getJsonObject("error").getString("type"));
    HttpResponse<String> models = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port()
        + "/v1/models")).header("authorization", "Bearer " + limited).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(List.of(MODEL), new JsonObject(models.body()).getJsonArray("data").stream()
        .map(model -> ((JsonObject) model).getString("id")).toList());
  }

  @Test
  void aThousandWrongKeysFromOneAddressEngageTheLimiter() throws Exception {
    Map<Status.Code, Integer> codes = new HashMap<>();
    for (int i = 0; i < 1000; i++) {
      String wrong = "llmr_" + String.format("%043d", i);
      codes.merge(callWith("authorization", "Bearer " + wrong).getStatus().getCode(), 1, Integer::sum);
    }

    assertEquals(Map.of(Status.Code.UNAUTHENTICATED, MAX_FAILED, Status.Code.RESOURCE_EXHAUSTED, 1000 - MAX_FAILED),
        codes);
    StatusRuntimeException blocked = assertThrows(StatusRuntimeException.class,
        () -> RunningRouter.withKey(router.chat(), key).chat(hi()));
    assertEquals("TOO_MANY_FAILED_ATTEMPTS", reason(blocked), "the address's keys are not looked at meanwhile");
    assertTrue(StatusProto.fromThrowable(blocked).getDetailsList().stream().anyMatch(d -> d.is(RetryInfo.class)));
    HttpResponse<String> overHttp = post("authorization", "Bearer " + key);
    assertEquals(429, overHttp.statusCode());
    assertTrue(overHttp.headers().firstValue("retry-after").isPresent());
    assertEquals(Status.Code.UNAUTHENTICATED, callWithoutKey(), "a call without a key says so");
    CLOCK.advance(Duration.ofMinutes(1));
    assertEquals("Hello.", RunningRouter.withKey(router.chat(), key).chat(hi()).getMessage().getParts(0).getText());
  }

  @Test
  void publicMetricsNeedNoKeyButThePageDoes() throws Exception {
    String admin = "http://127.0.0.1:" + router.adminPort();
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(admin + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.body().contains("llmrouter_open_sessions"), metrics.body());
    assertEquals(401, http.send(HttpRequest.newBuilder(URI.create(admin + "/")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
  }

  private static Status.Code callWithoutKey() {
    return assertThrows(StatusRuntimeException.class, () -> router.chat().chat(hi())).getStatus().getCode();
  }
}
