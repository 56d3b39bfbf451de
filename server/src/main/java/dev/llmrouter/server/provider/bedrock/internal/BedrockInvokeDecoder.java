package dev.llmrouter.server.provider.bedrock.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.UpstreamErrors;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import dev.llmrouter.server.provider.sse.SseEvent;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Reads a Claude answer through InvokeModel, which is Anthropic's Messages answer: whole, the plain message; streamed
 * (InvokeModelWithResponseStream), Bedrock's event-stream framing ({@link BedrockFrames}) of `chunk` events whose
 * payload `{"bytes": ...}` is one Anthropic stream event's JSON in base64, each handed to the Messages decoder as the
 * server-sent event it stands for. Errors are Bedrock's, not Anthropic's.
 */
public final class BedrockInvokeDecoder implements UpstreamHttpCall.Decoder {

  private final String provider;
  private final UpstreamHttpCall.Decoder messages;
  private final BedrockFrames frames;

  /** @param messages the Messages decoder of the answer, which reads each Anthropic event */
  public BedrockInvokeDecoder(String provider, UpstreamHttpCall.Decoder messages) {
    this.provider = provider;
    this.messages = messages;
    this.frames = new BedrockFrames(provider, this::onFrame);
  }

  @Override
  public void onJson(JsonNode body) {
    messages.onJson(body);
  }

  @Override
  public boolean readsChunks(String contentType) {
    return contentType.startsWith(BedrockFrames.MEDIA_TYPE);
  }

  @Override
  public void onChunk(Buffer chunk) {
    frames.feed(chunk);
  }

  /** Bedrock speaks no server-sent events. */
  @Override
  public void onEvent(SseEvent event) {
    throw UpstreamErrors.malformed(provider, "Bedrock sent server-sent events, which InvokeModel never does");
  }

  // The Messages decoder knows whether its `message_stop` came; a frame is never cut (the framing is whole).
  @Override
  public void onStreamEnd(boolean cutMidEvent) {
    messages.onStreamEnd(false);
  }

  // `chunk` is the only event type InvokeModelWithResponseStream documents; its errors come as exception frames.
  private void onFrame(String eventType, JsonNode payload) {
    if (!eventType.equals("chunk")) {
      return;
    }
    String event;
    try {
      event = new String(Base64.getDecoder().decode(payload.path("bytes").asText("")), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException notBase64) {
      throw UpstreamErrors.malformed(provider, "a chunk's bytes are not base64: " + notBase64.getMessage());
    }
    messages.onEvent(new SseEvent("message", event, ""));
  }

  /** Bedrock's HTTP errors ({@link BedrockFrames#httpError}). */
  @Override
  public CallError error(int httpStatus, MultiMap headers, Buffer body) {
    return BedrockFrames.httpError(provider, httpStatus, headers, body);
  }
}
