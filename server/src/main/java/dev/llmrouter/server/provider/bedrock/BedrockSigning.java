package dev.llmrouter.server.provider.bedrock;

import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.ProviderConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Signs the requests of a Bedrock deployment with AWS Signature Version 4, through the AWS SDK's own signer, with
 * credentials from the AWS default chain: the access keys in the environment, then the JVM's `aws.*` properties, a web
 * identity token, the profile (`AWS_PROFILE`, SSO included), the container's or the instance's role. Every Bedrock
 * call (chat, embeddings) signs through this class. Resolving credentials may block (a profile file, an SSO cache,
 * the instance metadata service) and hashing a large body costs CPU: {@link #signOnWorker} keeps both off the event
 * loop. The SDK's providers cache what they resolved and refresh temporary credentials before they expire.
 */
public final class BedrockSigning {

  /** The name Bedrock's runtime endpoints are signed for. */
  private static final String SIGNING_NAME = "bedrock";

  private static final AwsV4HttpSigner SIGNER = AwsV4HttpSigner.create();

  /** The default chain, one for the process: what it resolved (a role's temporary keys) serves every deployment. */
  private static final AwsCredentialsProvider DEFAULT_CHAIN = DefaultCredentialsProvider.builder().build();

  private final String provider;
  private final String region;
  private final AwsCredentialsProvider credentials;
  private final Clock clock;

  /**
   * @param provider the deployment's name, for errors
   * @param region the AWS region the requests are signed for
   * @param credentials where the signing credentials come from
   * @param clock the time the signatures are made at (fixed in tests)
   */
  public BedrockSigning(String provider, String region, AwsCredentialsProvider credentials, Clock clock) {
    this.provider = provider;
    this.region = region;
    this.credentials = credentials;
    this.clock = clock;
  }

  /** A deployment's signing: its region, the keys it found in the environment then the default chain, the clock. */
  public static BedrockSigning of(ProviderConfig deployment) {
    AwsCredentialsProvider chain = deployment.awsKeys().<AwsCredentialsProvider>map(keys ->
        AwsCredentialsProviderChain.of(StaticCredentialsProvider.create(credentialsOf(keys)), DEFAULT_CHAIN))
        .orElse(DEFAULT_CHAIN);
    return new BedrockSigning(deployment.name(), deployment.region(), chain, Clock.systemUTC());
  }

  private static AwsCredentials credentialsOf(ProviderConfig.AwsKeys keys) {
    String id = keys.accessKeyId().value();
    String secret = keys.secretAccessKey().value();
    return keys.sessionToken().<AwsCredentials>map(token -> AwsSessionCredentials.create(id, secret,
        token.value())).orElseGet(() -> AwsBasicCredentials.create(id, secret));
  }

  /**
   * The headers of a signed POST of {@code body} to {@code url}: {@code headers} (every one of them signed) plus
   * `x-amz-date`, `authorization` and, with temporary credentials, `x-amz-security-token`. The `host` header is
   * signed too but not returned: the HTTP client sends the same one from the URL. Blocks while credentials resolve.
   *
   * @param url the absolute URL, its path already percent-encoded as it goes on the wire
   * @throws CallError FAILED_PRECONDITION when no source of the chain has credentials
   */
  public MultiMap sign(String url, MultiMap headers, byte[] body) {
    SdkHttpRequest.Builder request = SdkHttpRequest.builder().method(SdkHttpMethod.POST).uri(URI.create(url));
    headers.forEach(request::appendHeader);
    AwsCredentialsIdentity identity;
    try {
      identity = credentials.resolveCredentials();
    } catch (SdkClientException noCredentials) {
      throw CallError.withInfo(GrpcStatus.FAILED_PRECONDITION, provider + " has no AWS credentials: set "
          + "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones) in the router's "
          + "environment, or AWS_PROFILE, or run it with an IAM role (" + noCredentials.getMessage() + ")",
          "UPSTREAM_AUTH_FAILED", Map.of("provider", provider), null);
    }
    SignedRequest signed = SIGNER.sign(r -> r.identity(identity).request(request.build())
        .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
        .putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, SIGNING_NAME)
        .putProperty(AwsV4HttpSigner.REGION_NAME, region)
        .putProperty(HttpSigner.SIGNING_CLOCK, clock));
    MultiMap out = MultiMap.caseInsensitiveMultiMap();
    for (Map.Entry<String, List<String>> header : signed.request().headers().entrySet()) {
      if (!header.getKey().equalsIgnoreCase("host")) {
        header.getValue().forEach(value -> out.add(header.getKey(), value));
      }
    }
    return out;
  }

  /** {@link #sign} on a worker thread; the result completes on {@code context} (the caller's event loop). */
  public Future<MultiMap> signOnWorker(Context context, String url, MultiMap headers, byte[] body) {
    return context.executeBlocking(() -> sign(url, headers, body), false);
  }
}
