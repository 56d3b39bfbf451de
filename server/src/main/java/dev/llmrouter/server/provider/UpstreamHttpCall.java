package dev.llmrouter.server.provider;

import dev.llmrouter.server.answer.ProtoJson;
import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.sse.SseEvent;
import dev.llmrouter.server.provider.sse.SseParser;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One POST to a provider, shared by every adapter: waits its turn on the deployment's connections (at most its
 * {@code connection_wait_timeout}), sends the JSON body, bounds the exchange by the deployment's {@code timeout} from
 * the moment it has a connection (a wait in line never eats into it), connects the caller's pause/resume/cancel to the HTTP
 * exchange, and hands the answer to the adapter's {@link Decoder}: a JSON body whole, a server-sent event stream
 * event by event (through the one {@link SseParser}), a binary event stream chunk by chunk to a decoder that
 * frames it, an error status through the adapter's error reader. An error
 * of a request that had to wait for a connection says how long it waited.
 */
public final class UpstreamHttpCall implements AnswerStream.Upstream {

  /** The provider-specific half of a call: how to read its answers. */
  public interface Decoder {
    /** A complete, non-streamed answer. */
    void onJson(JsonNode body);

    /** One server-sent event of a streamed answer. */
    void onEvent(SseEvent event);

    /** The event stream ended; {@code cutMidEvent} when it stopped inside an event. */
    void onStreamEnd(boolean cutMidEvent);

    /**
     * Whether an answer of {@code contentType} is a binary event stream this decoder frames itself (Bedrock's
     * `application/vnd.amazon.eventstream`): its bytes then go to {@link #onChunk} as they arrive, and its end to
     * {@link #onStreamEnd} (with {@code cutMidEvent} false: the decoder knows its own last event).
     */
    default boolean readsChunks(String contentType) {
      return false;
    }

    /** A chunk of a binary event stream, as it arrived (see {@link #readsChunks}). */
    default void onChunk(Buffer chunk) throws IOException {
      throw new IllegalStateException("this decoder reads no binary stream");
    }

    /** Reads an HTTP error answer into the error the caller sees. */
    CallError error(int httpStatus, MultiMap headers, Buffer body);
  }

  private final UpstreamClient client;
  private final String provider;
  private final Duration timeout;
  private final Duration connectionWaitTimeout;
  private final AnswerStream<?> answer;
  private final Decoder decoder;
  private final long queuedAt = System.nanoTime();
  private UpstreamClient.Turn turn;
  private long waitedMillis;
  /** The bound of the wait in line, then of the exchange. */
  private long timer = -1;
  private HttpClientRequest request;
  private HttpClientResponse response;
  private boolean paused;
  private boolean cancelled;
  private boolean finished;

  private UpstreamHttpCall(UpstreamClient client, ProviderConfig deployment, AnswerStream<?> answer,
      Decoder decoder) {
    this.client = client;
    this.provider = deployment.name();
    this.timeout = deployment.timeout();
    this.connectionWaitTimeout = deployment.connectionWaitTimeout();
    this.answer = answer;
    this.decoder = decoder;
  }

  /** Starts the POST; the answer (or its failure) arrives in {@code answer} through {@code decoder}. */
  public static void post(UpstreamClient client, ProviderConfig deployment, String url, MultiMap headers,
      Buffer body, AnswerStream<?> answer, Decoder decoder) {
    UpstreamHttpCall call = new UpstreamHttpCall(client, deployment, answer, decoder);
    answer.upstream(call);
    if (call.cancelled) {
      return;
    }
    call.turn = client.turn();
    call.turn.take(() -> call.send(url, headers, body));
    if (call.turn.isWaiting()) {
      answer.activity("waiting for a free connection to " + call.provider + " (all " + client.maxConnections()
          + " were busy: providers[].max_connections)");
      call.timer = client.vertx().setTimer(call.connectionWaitTimeout.toMillis(), t -> call.onWaitTimeout());
    }
  }

  private void onWaitTimeout() {
    timer = -1;
    if (turn.isWaiting()) {
      fail(UpstreamErrors.connectionsBusy(provider, client.maxConnections(), connectionWaitTimeout));
    }
  }

  /** The request's turn on the connections has come: it gets one (or opens one) and is sent. */
  private void send(String url, MultiMap headers, Buffer body) {
    if (cancelled) {
      return;
    }
    cancelTimer();
    answer.activity("connecting to " + provider);
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url)
        .setHeaders(headers).putHeader("content-type", "application/json");
    answer.traceContext().forEach(options::putHeader);
    client.http().request(options).onComplete(ar -> {
      waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - queuedAt);
      if (ar.failed()) {
        fail(UpstreamErrors.unreachable(provider, "cannot reach " + url + ": " + ar.cause().getMessage()));
        return;
      }
      request = ar.result();
      if (cancelled) {
        request.reset();
        return;
      }
      answer.activity("waiting for " + provider + "'s answer" + waitNote());
      timer = client.vertx().setTimer(timeout.toMillis(), t -> {
        timer = -1;
        fail(UpstreamErrors.timeout(provider, timeout));
      });
      // The answer is read in this very handler: one future later, Vert.x 5.0.7 may have ended it (vert.x#6038).
      request.send(body).onComplete(sent -> {
        if (sent.failed()) {
          fail(UpstreamErrors.unreachable(provider, "request to " + url + " failed: " + sent.cause().getMessage()));
        } else {
          onResponse(sent.result());
        }
      });
    });
  }

  private void onResponse(HttpClientResponse response) {
    this.response = response;
    if (paused) {
      response.pause();
    }
    answer.activity(provider + " was sending its answer" + waitNote());
    int status = response.statusCode();
    String contentType = response.getHeader("content-type");
    if (status / 100 != 2) {
      response.body().onComplete(ar -> {
        finish();
        fail(decoder.error(status, response.headers(), ar.succeeded() ? ar.result() : Buffer.buffer()));
      });
    } else if (contentType != null && contentType.toLowerCase().startsWith("text/event-stream")) {
      SseParser parser = new SseParser(event -> decode(() -> decoder.onEvent(event)));
      readStream(response, chunk -> parser.feed(chunk.getBytes()), parser::hasPartialEvent);
    } else if (contentType != null && decoder.readsChunks(contentType.toLowerCase())) {
      readStream(response, chunk -> decode(() -> decoder.onChunk(chunk)), () -> false);
    } else {
      response.body().onComplete(ar -> {
        finish();
        if (ar.failed()) {
          fail(UpstreamErrors.unreachable(provider, "the connection broke (" + ar.cause().getMessage() + ")"));
        } else if (ar.result().length() == 0) {
          fail(UpstreamErrors.malformed(provider, "HTTP " + status + " with an empty body"));
        } else {
          decode(() -> decoder.onJson(parseJson(ar.result())));
        }
      });
    }
  }

  /** Hands a streamed answer's chunks to {@code feed} as they arrive, then its end to the decoder. */
  private void readStream(HttpClientResponse response, Consumer<Buffer> feed, BooleanSupplier cutMidEvent) {
    response.handler(feed::accept);
    response.exceptionHandler(t -> fail(UpstreamErrors.unreachable(provider,
        "the connection broke mid-stream (" + t.getMessage() + ")")));
    response.endHandler(v -> {
      finish();
      decode(() -> decoder.onStreamEnd(cutMidEvent.getAsBoolean()));
    });
  }

  /** Runs a decoding step; a provider answer that cannot be read fails the call instead of the event loop. */
  private void decode(DecodingStep step) {
    if (answer.isClosed()) {
      return;
    }
    try {
      step.run();
    } catch (IOException | RuntimeException e) {
      fail(e instanceof CallError routerError ? routerError : UpstreamErrors.malformed(provider, e.getMessage()));
    }
  }

  private interface DecodingStep {
    void run() throws IOException;
  }

  /** Parses a JSON answer or chunk, failing with a message that shows where. */
  public static JsonNode parseJson(Buffer bytes) throws IOException {
    return ProtoJson.MAPPER.readTree(bytes.getBytes());
  }

  /** Fails the answer, saying how long the request waited for a connection when it had to, and ends the exchange. */
  private void fail(CallError error) {
    String note = waitNote();
    answer.fail(note.isEmpty() ? error : new CallError(error.status(), error.getMessage() + note, error.details()));
    cancel();
  }

  private String waitNote() {
    return turn != null && turn.waited() && waitedMillis > 0
        ? " (after waiting " + waitedMillis + " ms for a free connection)" : "";
  }

  /** The exchange is over: its connection goes to the next request in line, its timer is dropped. */
  private void finish() {
    finished = true;
    cancelTimer();
    turn.end();
  }

  private void cancelTimer() {
    if (timer != -1) {
      client.vertx().cancelTimer(timer);
      timer = -1;
    }
  }

  @Override
  public void pause() {
    paused = true;
    if (response != null) {
      response.pause();
    }
  }

  @Override
  public void resume() {
    paused = false;
    if (response != null) {
      response.resume();
    }
  }

  @Override
  public void cancel() {
    cancelled = true;
    if (turn == null || finished) {
      return;
    }
    if (request != null) {
      request.reset();
    }
    finish();
  }
}
