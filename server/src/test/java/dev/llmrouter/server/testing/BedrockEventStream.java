package dev.llmrouter.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.http.HttpServerRequest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.eventstream.HeaderValue;
import software.amazon.awssdk.eventstream.Message;
import software.amazon.awssdk.eventstream.MessageDecoder;

/**
 * AWS event streams (`application/vnd.amazon.eventstream`, Bedrock's ConverseStream framing) on the test side, both
 * ways through the AWS SDK's own codec: frames written as Bedrock writes them, and a recorded body read back.
 */
public final class BedrockEventStream {

  /** The content type of a streamed Converse answer. */
  public static final String CONTENT_TYPE = "application/vnd.amazon.eventstream";

  /** One frame: an `event` or an `exception`, its type, and its payload (JSON, unless a test says otherwise). */
  public record Frame(String messageType, String type, String payload) {

    public JsonNode json() {
      return OpenAiWire.read(payload);
    }
  }

  private BedrockEventStream() {
  }

  /** The bytes of an event stream with these frames, each with its headers, checksums and JSON payload. */
  public static byte[] encode(List<Frame> frames) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Frame frame : frames) {
      Map<String, HeaderValue> headers = new LinkedHashMap<>();
      headers.put(frame.messageType().equals("exception") ? ":exception-type" : ":event-type",
          HeaderValue.fromString(frame.type()));
      headers.put(":content-type", HeaderValue.fromString("application/json"));
      headers.put(":message-type", HeaderValue.fromString(frame.messageType()));
      new Message(headers, frame.payload().getBytes(StandardCharsets.UTF_8)).encode(out);
    }
    return out.toByteArray();
  }

  /** An `event` frame of {@code type} with a payload given as JSON text. */
  public static Frame event(String type, String payloadJson) {
    return new Frame("event", type, payloadJson);
  }

  /** The frames of a recorded event stream. */
  public static List<Frame> decode(byte[] body) {
    List<Frame> frames = new ArrayList<>();
    new MessageDecoder(message -> {
      String messageType = header(message, ":message-type");
      String type = header(message, messageType.equals("exception") ? ":exception-type" : ":event-type");
      frames.add(new Frame(messageType, type, new String(message.getPayload(), StandardCharsets.UTF_8)));
    }).feed(body);
    return frames;
  }

  private static String header(Message message, String name) {
    HeaderValue value = message.getHeaders().get(name);
    return value == null ? "" : value.getString();
  }

  /** Answers with a streamed Converse text in these pieces, as Bedrock frames it. */
  public static void answerText(HttpServerRequest r, String... pieces) {
    List<Frame> frames = new ArrayList<>();
    frames.add(event("messageStart", "{\"role\":\"assistant\"}"));
    for (String piece : pieces) {
      frames.add(event("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"" + piece + "\"}}"));
    }
    frames.add(event("contentBlockStop", "{\"contentBlockIndex\":0}"));
    frames.add(event("messageStop", "{\"stopReason\":\"end_turn\"}"));
    frames.add(event("metadata", "{\"usage\":{\"inputTokens\":5,\"outputTokens\":3,\"totalTokens\":8},"
        + "\"metrics\":{\"latencyMs\":100}}"));
    r.response().putHeader("content-type", CONTENT_TYPE).end(io.vertx.core.buffer.Buffer.buffer(encode(frames)));
  }
}
