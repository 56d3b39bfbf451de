package dev.llmrouter.server.provider.vertex;

import com.google.auth.RequestMetadataCallback;
import com.google.auth.Retryable;
import com.google.auth.oauth2.GoogleCredentials;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.ProviderConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;

/**
 * The headers that authenticate a Vertex AI deployment's calls: its API key (`x-goog-api-key`, express mode), its
 * fixed access token, or else an OAuth2 access token from Google's auth library, for the credentials in the
 * deployment's `credentials_file` or else Application Default Credentials. The library keeps the token and fetches the
 * next one before this one expires (a few minutes before; one fetch at a time however many calls want it). Loading
 * credentials and fetching a token block, so both run on a worker thread, never on an event loop. Neither the
 * tokens nor the library's credentials objects (whose text shows the token) are ever logged.
 *
 * <p>Public for every Vertex AI call a deployment makes (chat here; embeddings through `:predict`).
 */
public final class VertexCredentials {

  private static final String CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

  private final ProviderConfig deployment;
  private final ProviderConfig.GoogleCloud cloud;
  /** The deployment's credentials once loaded; null until then. */
  private volatile GoogleCredentials loaded;
  /** The loading under way, for the calls that come while it runs; null when none is. */
  private Future<GoogleCredentials> loading;

  /** @param deployment a deployment of type `vertex` */
  public VertexCredentials(ProviderConfig deployment) {
    this.deployment = deployment;
    this.cloud = deployment.googleCloud().orElseThrow(
        () -> new IllegalArgumentException(deployment.name() + " is not a Vertex AI deployment"));
  }

  /**
   * The authentication headers of one call. The future completes on {@code context} (the caller's), at once when no
   * token has to be fetched; it fails with the {@link CallError} the caller should see.
   */
  public Future<MultiMap> headers(Context context) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (!deployment.apiKeys().isEmpty()) {
      return Future.succeededFuture(headers.add("x-goog-api-key", deployment.apiKey()));
    }
    if (cloud.accessToken().isPresent()) {
      return Future.succeededFuture(headers.add("authorization", "Bearer " + cloud.accessToken().get().value()));
    }
    GoogleCredentials ready = loaded;
    Future<MultiMap> result = ready != null ? requestMetadata(ready, context) : loading(context)
        .recover(e -> Future.failedFuture(failure("cannot load", e, GrpcStatus.FAILED_PRECONDITION)))
        .compose(credentials -> requestMetadata(credentials, context));
    Promise<MultiMap> onCaller = Promise.promise();
    result.onComplete(done -> {
      if (Vertx.currentContext() == context) {
        onCaller.handle(done);
      } else {
        context.runOnContext(v -> onCaller.handle(done));
      }
    });
    return onCaller.future();
  }

  /** Loads the credentials on a worker, once; after a failure the next call tries again. */
  private synchronized Future<GoogleCredentials> loading(Context context) {
    if (loaded != null) {
      return Future.succeededFuture(loaded); // loaded since the caller looked
    }
    if (loading == null) {
      Future<GoogleCredentials> attempt = context.executeBlocking(this::load, false);
      loading = attempt;
      // A load that has already ended runs this at once and clears the field: the attempt is what to return.
      attempt.onComplete(done -> loadingEnded(attempt));
      return attempt;
    }
    return loading;
  }

  private synchronized void loadingEnded(Future<GoogleCredentials> attempt) {
    if (attempt.succeeded()) {
      loaded = attempt.result();
    }
    if (loading == attempt) {
      loading = null;
    }
  }

  // Blocking: reads the file, or looks for Application Default Credentials (which may ask the metadata server).
  private GoogleCredentials load() throws IOException {
    GoogleCredentials credentials;
    if (cloud.credentialsFile().isPresent()) {
      try (InputStream in = Files.newInputStream(cloud.credentialsFile().get())) {
        credentials = GoogleCredentials.fromStream(in);
      }
    } else {
      credentials = GoogleCredentials.getApplicationDefault();
    }
    // A service account asks its token endpoint for a token of the scope it is given.
    return credentials.createScopedRequired() ? credentials.createScoped(List.of(CLOUD_PLATFORM_SCOPE)) : credentials;
  }

  /** The library's headers (the bearer token, and a quota project when the credentials name one) as they come. */
  private Future<MultiMap> requestMetadata(GoogleCredentials loaded, Context context) {
    Promise<MultiMap> metadata = Promise.promise();
    // The library runs a token fetch through this executor: a worker thread of the caller's Vert.x.
    Executor worker = fetch -> context.executeBlocking(() -> {
      fetch.run();
      return null;
    }, false);
    loaded.getRequestMetadata(URI.create(deployment.baseUrl()), worker, new RequestMetadataCallback() {
      @Override
      public void onSuccess(Map<String, List<String>> values) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        values.forEach(headers::add);
        metadata.complete(headers);
      }

      @Override
      public void onFailure(Throwable exception) {
        Throwable cause = exception instanceof ExecutionException && exception.getCause() != null
            ? exception.getCause() : exception;
        // A refusal (a revoked key, a bad signature) needs the operator; anything else may pass, like an outage.
        boolean refused = cause instanceof Retryable retryable && !retryable.isRetryable();
        metadata.fail(failure("could not get an access token from", cause,
            refused ? GrpcStatus.FAILED_PRECONDITION : GrpcStatus.UNAVAILABLE));
      }
    });
    return metadata.future();
  }

  /** What the caller sees when no token could be had: the deployment, where it looked, and the library's reason. */
  private CallError failure(String what, Throwable cause, GrpcStatus status) {
    String source = cloud.credentialsFile().map(file -> "its credentials_file " + file)
        .orElse("Application Default Credentials");
    return CallError.withInfo(status, deployment.name() + " " + what + " " + source + ": " + cause.getMessage()
        + "; nothing was sent", "UPSTREAM_AUTH_FAILED", Map.of("provider", deployment.name()), null);
  }
}
