package dev.llmrouter.server.provider.bedrock.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.UpstreamErrors;
import dev.llmrouter.server.provider.UpstreamHttpCall;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import software.amazon.awssdk.eventstream.HeaderValue;
import software.amazon.awssdk.eventstream.Message;
import software.amazon.awssdk.eventstream.MessageDecoder;

/**
 * What every Bedrock answer shares, whichever API it comes from (ConverseStream, InvokeModelWithResponseStream): the
 * binary `application/vnd.amazon.eventstream` framing, decoded by the AWS SDK's own {@link MessageDecoder}, which
 * checks each frame's checksums, where an `exception` (or `error`) frame is an error inside the answer; and the HTTP
 * errors, which name their exception in the `x-amzn-ErrorType` header.
 */
public final class BedrockFrames {

  /** The media type of Bedrock's streamed answers. */
  public static final String MEDIA_TYPE = "application/vnd.amazon.eventstream";

  /** Receives the `event` frames of a stream. */
  public interface Listener {
    /** One event: its `:event-type` and its JSON payload. */
    void onEvent(String eventType, JsonNode payload);
  }

  /**
   * The HTTP status each Bedrock exception stands for, by its name lower-cased (stream frames name them in lower
   * camel case, the `x-amzn-ErrorType` header in upper): for an exception inside a streamed answer, and for the two
   * that come with a status that does not say what they mean (a quota is a 400, a model's failure a 424).
   */
  private static final Map<String, Integer> STATUS_OF_EXCEPTION = Map.ofEntries(
      Map.entry("validationexception", 400), Map.entry("accessdeniedexception", 403),
      Map.entry("expiredtokenexception", 403), Map.entry("unrecognizedclientexception", 403),
      Map.entry("resourcenotfoundexception", 404), Map.entry("modeltimeoutexception", 408),
      Map.entry("throttlingexception", 429), Map.entry("servicequotaexceededexception", 429),
      Map.entry("modelnotreadyexception", 429), Map.entry("internalserverexception", 500),
      Map.entry("modelerrorexception", 502), Map.entry("modelstreamerrorexception", 502),
      Map.entry("serviceunavailableexception", 503));

  private final String provider;
  private final Listener listener;
  private final MessageDecoder frames = new MessageDecoder(this::onFrame);

  public BedrockFrames(String provider, Listener listener) {
    this.provider = provider;
    this.listener = listener;
  }

  /** Frames a chunk's bytes; a frame whose checksum or lengths do not hold fails the answer as malformed. */
  public void feed(Buffer chunk) {
    try {
      frames.feed(chunk.getBytes());
    } catch (CallError decoded) {
      throw decoded;
    } catch (RuntimeException corrupt) {
      throw UpstreamErrors.malformed(provider, "the event stream is corrupt (" + corrupt.getMessage() + ")");
    }
  }

  /** One frame of the event stream: an event, or an exception (or error) Bedrock reports inside the answer. */
  private void onFrame(Message frame) {
    String messageType = header(frame, ":message-type");
    if (messageType.equals("exception")) {
      throw exception(header(frame, ":exception-type"), payload(frame).path("message").asText(""));
    }
    if (messageType.equals("error")) {
      throw exception(header(frame, ":error-code"), header(frame, ":error-message"));
    }
    listener.onEvent(header(frame, ":event-type"), payload(frame));
  }

  private static String header(Message frame, String name) {
    HeaderValue value = frame.getHeaders().get(name);
    return value == null ? "" : value.getString();
  }

  private JsonNode payload(Message frame) {
    try {
      return UpstreamHttpCall.parseJson(Buffer.buffer(frame.getPayload()));
    } catch (IOException e) {
      throw UpstreamErrors.malformed(provider, "an event's payload is not JSON: " + e.getMessage());
    }
  }

  /** An exception inside the answer, mapped as the status it stands for (an unknown one is Bedrock's failure). */
  private CallError exception(String type, String message) {
    return UpstreamErrors.inAnswer(provider, STATUS_OF_EXCEPTION.getOrDefault(type.toLowerCase(Locale.ROOT), 500),
        type, message);
  }

  /**
   * Bedrock's errors are `{"message": ...}`, their type only in the `x-amzn-ErrorType` header
   * (`ThrottlingException:http://internal.amazon.com/...`): mapped by the HTTP status, save the types whose status
   * says less than their name ({@link #STATUS_OF_EXCEPTION}).
   */
  public static CallError httpError(String provider, int httpStatus, MultiMap headers, Buffer body) {
    String type = headers == null ? "" : headers.get("x-amzn-errortype");
    type = type == null ? "" : type.replaceFirst(":.*", "");
    String message;
    try {
      JsonNode json = UpstreamHttpCall.parseJson(body);
      message = json.path("message").asText(json.path("Message").asText(UpstreamErrors.abbreviate(json.toString())));
      if (type.isEmpty()) {
        type = json.path("__type").asText("").replaceFirst(".*#", "");
      }
    } catch (IOException | RuntimeException notJson) {
      message = UpstreamErrors.abbreviate(body.toString());
    }
    int status = httpStatus;
    Integer standsFor = STATUS_OF_EXCEPTION.get(type.toLowerCase(Locale.ROOT));
    if (standsFor != null && (httpStatus == 400 || httpStatus == 424) && standsFor != 400) {
      status = standsFor;
      message = message + " (" + type + ", sent as HTTP " + httpStatus + ")";
    }
    return UpstreamErrors.fromHttp(provider, status, headers, message, type);
  }
}
