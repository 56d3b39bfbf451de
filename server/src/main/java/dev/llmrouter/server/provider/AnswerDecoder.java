package dev.llmrouter.server.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatStart;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.sse.SseEvent;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;

/**
 * What every adapter's decoder shares: the answer it writes to, how a stream that ends is judged (whole once the
 * upstream said why it stopped, cut off otherwise), and how an HTTP error body is read (the provider's JSON through
 * {@link #errorFrom}, anything else quoted).
 */
public abstract class AnswerDecoder implements UpstreamHttpCall.Decoder {

  protected final String provider;
  protected final ChatEventStream answer;
  /** Why the upstream stopped, once it said so; null until then. */
  protected FinishReason finishReason;
  private boolean started;

  protected AnswerDecoder(String provider, ChatEventStream answer) {
    this.provider = provider;
    this.answer = answer;
  }

  /** The JSON data of a stream event; data that is not JSON fails the answer as malformed. */
  protected JsonNode json(SseEvent event) {
    try {
      return UpstreamHttpCall.parseJson(Buffer.buffer(event.data()));
    } catch (IOException e) {
      throw UpstreamErrors.malformed(provider, "a stream event is not JSON: " + UpstreamErrors.abbreviate(event.data()));
    }
  }

  /** Emits the answer's start event, once: providers repeat the id and model in every chunk. */
  protected void start(String id, String model, Timestamp created) {
    if (started) {
      return;
    }
    started = true;
    answer.emit(ChatEvent.newBuilder().setStart(ChatStart.newBuilder().setId(id).setModel(model).setCreated(created))
        .build());
  }

  @Override
  public void onStreamEnd(boolean cutMidEvent) {
    // A stream may end without its closing marker (some hosts omit it): a known finish reason means it is whole.
    if (finishReason != null && !cutMidEvent) {
      finish();
    } else {
      answer.fail(UpstreamErrors.unreachable(provider, "the stream ended before the answer finished"));
    }
  }

  /** Completes the answer; a decoder that holds events until the end emits them first. */
  protected void finish() {
    answer.complete(finishReason == null ? FinishReason.FINISH_REASON_UNSPECIFIED : finishReason);
  }

  @Override
  public CallError error(int httpStatus, MultiMap headers, Buffer body) {
    JsonNode json;
    try {
      json = UpstreamHttpCall.parseJson(body);
    } catch (IOException | RuntimeException notJson) {
      return UpstreamErrors.fromHttp(provider, httpStatus, headers, UpstreamErrors.abbreviate(body.toString()), "");
    }
    return errorFrom(json, httpStatus, headers);
  }

  /**
   * Reads the provider's error JSON (from an error status, or found inside a 200 answer with a null headers) in the
   * shape Anthropic and Gemini share, `{"error": {"message": ..., "type" | "status": <code>}}`; OpenAI's looser
   * shapes override it.
   */
  protected CallError errorFrom(JsonNode json, int httpStatus, MultiMap headers) {
    JsonNode error = json.path("error");
    String message = error.path("message").asText("");
    return UpstreamErrors.fromHttp(provider, httpStatus, headers,
        message.isEmpty() ? UpstreamErrors.abbreviate(json.toString()) : message,
        error.path("type").asText(error.path("status").asText("")));
  }
}
