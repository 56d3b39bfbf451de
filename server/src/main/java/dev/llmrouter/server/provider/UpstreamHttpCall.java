package dev.llmrouter.server.provider;

import dev.llmrouter.server.answer.ProtoJson;
import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.sse.SseEvent;
import dev.llmrouter.server.provider.sse.SseParser;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;

/**
 * One POST to a provider, shared by every adapter: sends the JSON body, connects the caller's pause/resume/cancel to
 * the HTTP exchange, and hands the answer to the adapter's {@link Decoder}: a JSON body whole, a server-sent event
 * stream event by event (through the one {@link SseParser}), an error status through the adapter's error reader.
 */
public final class UpstreamHttpCall implements ChatEventStream.Upstream {

  /** The provider-specific half of a call: how to read its answers. */
  public interface Decoder {
    /** A complete, non-streamed answer. */
    void onJson(JsonNode body);

    /** One server-sent event of a streamed answer. */
    void onEvent(SseEvent event);

    /** The event stream ended; {@code cutMidEvent} when it stopped inside an event. */
    void onStreamEnd(boolean cutMidEvent);

    /** Reads an HTTP error answer into the error the caller sees. */
    CallError error(int httpStatus, MultiMap headers, Buffer body);
  }

  private final String provider;
  private final ChatEventStream answer;
  private final Decoder decoder;
  private HttpClientRequest request;
  private HttpClientResponse response;
  private boolean paused;
  private boolean cancelled;

  private UpstreamHttpCall(String provider, ChatEventStream answer, Decoder decoder) {
    this.provider = provider;
    this.answer = answer;
    this.decoder = decoder;
  }

  /** Starts the POST; the answer (or its failure) arrives in {@code answer} through {@code decoder}. */
  public static void post(HttpClient client, String provider, String url, MultiMap headers, Buffer body,
      ChatEventStream answer, Decoder decoder) {
    UpstreamHttpCall call = new UpstreamHttpCall(provider, answer, decoder);
    answer.upstream(call);
    if (call.cancelled) {
      return;
    }
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url)
        .setHeaders(headers).putHeader("content-type", "application/json");
    client.request(options).onComplete(ar -> {
      if (ar.failed()) {
        answer.fail(UpstreamErrors.unreachable(provider, "cannot reach " + url + ": " + ar.cause().getMessage()));
        return;
      }
      call.request = ar.result();
      if (call.cancelled) {
        call.request.reset();
        return;
      }
      call.request.send(body).onComplete(sent -> {
        if (sent.failed()) {
          answer.fail(UpstreamErrors.unreachable(provider, "request to " + url + " failed: " + sent.cause().getMessage()));
        } else {
          call.onResponse(sent.result());
        }
      });
    });
  }

  private void onResponse(HttpClientResponse response) {
    this.response = response;
    if (paused) {
      response.pause();
    }
    int status = response.statusCode();
    String contentType = response.getHeader("content-type");
    if (status / 100 != 2) {
      response.body().onComplete(ar -> answer.fail(
          decoder.error(status, response.headers(), ar.succeeded() ? ar.result() : Buffer.buffer())));
    } else if (contentType != null && contentType.toLowerCase().startsWith("text/event-stream")) {
      SseParser parser = new SseParser(event -> decode(() -> decoder.onEvent(event)));
      response.handler(chunk -> parser.feed(chunk.getBytes()));
      response.exceptionHandler(t -> answer.fail(UpstreamErrors.unreachable(provider,
          "the connection broke mid-stream (" + t.getMessage() + ")")));
      response.endHandler(v -> decode(() -> decoder.onStreamEnd(parser.hasPartialEvent())));
    } else {
      response.body().onComplete(ar -> {
        if (ar.failed()) {
          answer.fail(UpstreamErrors.unreachable(provider, "the connection broke (" + ar.cause().getMessage() + ")"));
        } else if (ar.result().length() == 0) {
          answer.fail(UpstreamErrors.malformed(provider, "HTTP " + status + " with an empty body"));
        } else {
          decode(() -> decoder.onJson(parseJson(ar.result())));
        }
      });
    }
  }

  /** Runs a decoding step; a provider answer that cannot be read fails the call instead of the event loop. */
  private void decode(DecodingStep step) {
    if (answer.isClosed()) {
      return;
    }
    try {
      step.run();
    } catch (IOException | RuntimeException e) {
      if (e instanceof CallError routerError) {
        answer.fail(routerError);
      } else {
        answer.fail(UpstreamErrors.malformed(provider, e.getMessage()));
      }
      cancel();
    }
  }

  private interface DecodingStep {
    void run() throws IOException;
  }

  /** Parses a JSON answer or chunk, failing with a message that shows where. */
  public static JsonNode parseJson(Buffer bytes) throws IOException {
    return ProtoJson.MAPPER.readTree(bytes.getBytes());
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
    if (request != null) {
      request.reset();
    }
  }
}
