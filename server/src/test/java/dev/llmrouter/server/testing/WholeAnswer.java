package dev.llmrouter.server.testing;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import java.util.function.Function;

/**
 * An answer from a Vert.x HTTP client, read to its end. Vert.x 5.0.7 may run a handler chained one future after
 * {@code send()} once the response has already ended, and a {@code body()} or {@code end()} asked for then never
 * completes (eclipse-vertx/vert.x#6038, fixed in 5.0.11, which is not served here); so the body is asked for in the
 * handler of {@code send()}'s own future.
 */
public final class WholeAnswer {

  private WholeAnswer() {
  }

  /**
   * The answer to {@code request}, sent by {@code send}, once all of it is in: its {@code body()} is complete and its
   * trailers are there.
   */
  public static Future<HttpClientResponse> of(Future<HttpClientRequest> request,
      Function<HttpClientRequest, Future<HttpClientResponse>> send) {
    return request.compose(sending -> send.apply(sending).compose(answer -> answer.body().map(answer)));
  }
}
