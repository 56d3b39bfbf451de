package dev.llmrouter.server.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.testing.BedrockEventStream;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.profiles.ProfileFile;

/**
 * Bedrock requests carry an AWS Signature Version 4: made by the AWS SDK's own signer, over exactly the request that
 * goes on the wire (host, percent-encoded model id, body), with the credentials of the default chain.
 */
class BedrockSigningTest {

  private static final AwsBasicCredentials KEYS = AwsBasicCredentials.create("AKIDEXAMPLE",
      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  private static final Instant AT = Instant.parse("2025-03-04T05:06:07Z");
  private static final String URL =
      "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
  private static final byte[] BODY = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]}]}"
      .getBytes(StandardCharsets.UTF_8);

  @Test
  void theSignatureOfAFixedRequestIsTheSdkSignersOwnForTheSameCredentialsAndTime() {
    BedrockSigning signing = new BedrockSigning("bedrock", "us-east-1", StaticCredentialsProvider.create(KEYS),
        Clock.fixed(AT, ZoneOffset.UTC));
    MultiMap signed = signing.sign(URL, MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json")
        .add("accept", "application/json"), BODY);

    assertEquals(sdkSignature(URI.create(URL), "us-east-1", Map.of("content-type", "application/json", "accept",
        "application/json"), BODY, KEYS, AT), signed.get("authorization"));
    assertEquals("20250304T050607Z", signed.get("x-amz-date"));
    // Pinned, so that a change in what is signed (the path's encoding, the headers, the service name) shows. It is
    // also what the SigV4 spec gives by hand, the path's %3A encoded once more (%253A) in the canonical request, as
    // AWS does for every service but S3.
    assertEquals("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250304/us-east-1/bedrock/aws4_request, "
        + "SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date, "
        + "Signature=56a57c679872a5f6660fbbcb8217b3e81f05740cf047615d0d2e71fa215f354d", signed.get("authorization"));
  }

  @Test
  void whatArrivesUpstreamIsWhatWasSigned() throws Exception {
    Vertx vertx = Vertx.vertx();
    MockUpstream upstream = MockUpstream.start(vertx).answer(r -> BedrockEventStream.answerText(r, "Hel", "lo"));
    String yaml = "cassettes: { mode: \"off\" }\nproviders:\n  - { name: bedrock, type: bedrock, region: eu-west-3, "
        + "base_url: \"" + upstream.baseUrl() + "\" }\n";
    RunningRouter router = RunningRouter.start(vertx, ConfigLoader.parse(yaml, Map.of("AWS_ACCESS_KEY_ID",
        "AKIDSESSIONEXAMPLE", "AWS_SECRET_ACCESS_KEY", "session-secret", "AWS_SESSION_TOKEN", "session-token")::get));
    try {
      router.chat().streamChat(ChatRequest.newBuilder().setModel("bedrock/eu.anthropic.claude-3-7-sonnet-20250219-v1:0")
          .addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hi")))
          .build()).forEachRemaining(event -> { });
      MockUpstream.Received sent = upstream.lastRequest();
      assertEquals("/model/eu.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse-stream", sent.uri());
      String authorization = sent.headers().get("authorization");
      assertTrue(authorization.startsWith("AWS4-HMAC-SHA256 Credential=AKIDSESSIONEXAMPLE/"), authorization);
      assertEquals("session-token", sent.headers().get("x-amz-security-token"));
      // The SDK's signer, given the request as it arrived, at the time it names, signs it the same.
      Instant signedAt = ZonedDateTime.parse(sent.headers().get("x-amz-date"),
          DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssX")).toInstant();
      Map<String, String> headers = Map.of("content-type", sent.headers().get("content-type"), "accept",
          sent.headers().get("accept"));
      assertEquals(sdkSignature(URI.create("http://" + sent.headers().get("host") + sent.uri()), "eu-west-3",
          headers, sent.body().getBytes(StandardCharsets.UTF_8),
          AwsSessionCredentials.create("AKIDSESSIONEXAMPLE", "session-secret", "session-token"), signedAt),
          authorization);
    } finally {
      router.close();
      upstream.close();
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  @Test
  void aBedrockApiKeyIsSentAsABearerTokenInsteadOfASignature() throws Exception {
    Vertx vertx = Vertx.vertx();
    MockUpstream upstream = MockUpstream.start(vertx).answer(r -> BedrockEventStream.answerText(r, "Hi"));
    String yaml = "cassettes: { mode: \"off\" }\nproviders:\n  - { name: bedrock, type: bedrock, region: us-east-1, "
        + "base_url: \"" + upstream.baseUrl() + "\", api_key: \"${AWS_BEARER_TOKEN_BEDROCK}\" }\n";
    RunningRouter router = RunningRouter.start(vertx, ConfigLoader.parse(yaml,
        Map.of("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-0123")::get));
    try {
      router.chat().chat(ChatRequest.newBuilder().setModel("bedrock/amazon.nova-micro-v1:0").addMessages(
          Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hi"))).build());
      assertEquals("Bearer bedrock-api-key-0123", upstream.lastRequest().headers().get("authorization"));
      assertEquals(null, upstream.lastRequest().headers().get("x-amz-date"), "nothing signed");
    } finally {
      router.close();
      upstream.close();
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  @Test
  void withoutCredentialsTheCallFailsNamingWhereTheyComeFrom(@TempDir Path dir) throws Exception {
    Path emptyProfiles = Files.writeString(dir.resolve("credentials"), "");
    BedrockSigning signing = new BedrockSigning("bedrock", "us-east-1", ProfileCredentialsProvider.builder()
        .profileFile(ProfileFile.builder().content(emptyProfiles).type(ProfileFile.Type.CREDENTIALS).build())
        .profileName("absent").build(), Clock.systemUTC());
    CallError error = assertThrows(CallError.class, () -> signing.sign(URL, MultiMap.caseInsensitiveMultiMap(), BODY));
    assertEquals(GrpcStatus.FAILED_PRECONDITION, error.status());
    assertTrue(error.getMessage().startsWith("bedrock has no AWS credentials: set AWS_ACCESS_KEY_ID and "
        + "AWS_SECRET_ACCESS_KEY"), error.getMessage());
  }

  /** The Authorization header the AWS SDK's own signer makes for a Bedrock POST with these headers. */
  private static String sdkSignature(URI url, String region, Map<String, String> headers, byte[] body,
      AwsCredentials credentials, Instant at) {
    SdkHttpRequest.Builder request = SdkHttpRequest.builder().method(SdkHttpMethod.POST).uri(url);
    headers.forEach(request::putHeader);
    return AwsV4HttpSigner.create().sign(r -> r.identity(credentials).request(request.build())
            .payload(ContentStreamProvider.fromByteArray(body))
            .putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, "bedrock")
            .putProperty(AwsV4HttpSigner.REGION_NAME, region)
            .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(at, ZoneOffset.UTC)))
        .request().firstMatchingHeader("Authorization").orElseThrow();
  }
}
