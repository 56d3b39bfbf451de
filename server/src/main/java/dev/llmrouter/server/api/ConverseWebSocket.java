package dev.llmrouter.server.api;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.server.answer.CallError;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * A WebSocket of the admin listener as a {@link ConverseStream}, for browsers, which cannot hold a gRPC
 * bidirectional stream: each text frame carries one `ConverseRequest`, each frame sent back one `ConverseEvent`, as
 * proto3 JSON. What gRPC ends with a status, the socket closes with a code and a reason starting with the status's
 * name: 1007 for a frame that is not a ConverseRequest in JSON, 1003 for a binary frame, 1009 for a message over
 * `max_message_bytes`, 1008 for a refusal (no key, a first frame that is not `start`, no session to
 * resume...), 1013 when the router is draining or a quota is spent, 1011 for the rest. None of these ends the
 * session: like a dropped connection, it stays resumable. A client that closes with 1000 (normal closure) ends it.
 */
public final class ConverseWebSocket implements ConverseStream {

  /** The longest close reason a WebSocket close frame carries (RFC 6455 section 5.5: 125 bytes with the code). */
  private static final int MAX_REASON_BYTES = 123;
  private static final short NORMAL_CLOSURE = 1000;
  private static final short UNSUPPORTED_DATA = 1003;
  private static final short INVALID_PAYLOAD = 1007;
  private static final short MESSAGE_TOO_BIG = 1009;
  private static final short POLICY_VIOLATION = 1008;
  private static final short INTERNAL_ERROR = 1011;
  private static final short TRY_AGAIN_LATER = 1013;
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  private final ServerWebSocket socket;
  private final MultiMap headers;
  private final long maxMessageBytes;

  /**
   * @param headers the call metadata ({@link #metadataOf})
   * @param maxMessageBytes the largest request, as for gRPC ({@link #transportLimit} lets larger ones in, to say so)
   */
  public ConverseWebSocket(ServerWebSocket socket, MultiMap headers, long maxMessageBytes) {
    this.socket = socket;
    this.headers = headers;
    this.maxMessageBytes = maxMessageBytes;
  }

  /**
   * The frame and message size the listener lets in for requests of at most {@code maxMessageBytes}: twice that, so
   * that a message over the limit gets 1009 and a reason here. Beyond it Vert.x drops the connection without a close
   * frame (1006), which leaves the session resumable all the same.
   */
  public static int transportLimit(long maxMessageBytes) {
    return (int) Math.min(Integer.MAX_VALUE, 2 * maxMessageBytes);
  }

  /**
   * The call metadata of a WebSocket handshake: its headers, plus its query parameters named `x-...` (a browser
   * cannot set headers on a WebSocket: `?x-cassette-scope=demo`). A key never comes from the query, which logs keep.
   */
  public static MultiMap metadataOf(HttpServerRequest handshake) {
    MultiMap metadata = MultiMap.caseInsensitiveMultiMap().addAll(handshake.headers());
    for (Map.Entry<String, String> parameter : handshake.params()) {
      if (parameter.getKey().toLowerCase(Locale.ROOT).startsWith("x-")) {
        metadata.add(parameter.getKey(), parameter.getValue());
      }
    }
    return metadata;
  }

  @Override
  public MultiMap headers() {
    return headers;
  }

  @Override
  public String remoteAddress() {
    SocketAddress address = socket.remoteAddress();
    return address == null ? "unknown" : address.hostAddress() != null ? address.hostAddress() : address.toString();
  }

  @Override
  public void handlers(Handler<ConverseRequest> message, Runnable dropped, Runnable finished) {
    socket.textMessageHandler(text -> {
      long bytes = text.length() <= maxMessageBytes / 3 ? 0 : text.getBytes(StandardCharsets.UTF_8).length;
      if (bytes > maxMessageBytes) {
        close(MESSAGE_TOO_BIG, "RESOURCE_EXHAUSTED: a message of " + bytes + " bytes, over max_message_bytes ("
            + maxMessageBytes + ")");
        return;
      }
      ConverseRequest.Builder request = ConverseRequest.newBuilder();
      try {
        PARSER.merge(text, request);
      } catch (InvalidProtocolBufferException | RuntimeException invalid) {
        close(INVALID_PAYLOAD, "INVALID_ARGUMENT: not a ConverseRequest in proto3 JSON: " + invalid.getMessage());
        return;
      }
      message.handle(request.build());
    });
    socket.binaryMessageHandler(binary -> close(UNSUPPORTED_DATA,
        "INVALID_ARGUMENT: send each ConverseRequest as proto3 JSON in a text frame"));
    socket.exceptionHandler(error -> dropped.run());
    // The close frame's code says why the client left: 1000 means it is done with the session.
    socket.closeHandler(v -> {
      Short code = socket.closeStatusCode();
      if (code != null && code == NORMAL_CLOSURE) {
        finished.run();
      } else {
        dropped.run();
      }
    });
  }

  @Override
  public void header(String name, String value) {
    // The handshake's response has gone: a WebSocket has no response headers to add.
  }

  @Override
  public void write(ConverseEvent event) {
    if (socket.isClosed()) {
      return;
    }
    try {
      socket.writeTextMessage(PRINTER.print(event));
    } catch (InvalidProtocolBufferException unprintable) {
      fail(unprintable); // only a message with an unknown Any type; none has one
    }
  }

  @Override
  public boolean writeQueueFull() {
    return socket.writeQueueFull();
  }

  @Override
  public void drainHandler(Runnable drained) {
    socket.drainHandler(v -> drained.run());
  }

  @Override
  public void pause() {
    socket.pause();
  }

  @Override
  public void resume() {
    socket.resume();
  }

  @Override
  public void end() {
    close(NORMAL_CLOSURE, "the session has ended");
  }

  @Override
  public void fail(Throwable failure) {
    CallError error = CallError.of(failure);
    short code = switch (error.status()) {
      case UNAVAILABLE, RESOURCE_EXHAUSTED -> TRY_AGAIN_LATER;
      case INTERNAL, UNKNOWN, DATA_LOSS -> INTERNAL_ERROR;
      default -> POLICY_VIOLATION;
    };
    close(code, error.status().name() + ": " + error.getMessage());
  }

  private void close(short code, String reason) {
    if (!socket.isClosed()) {
      socket.close(code, bounded(reason));
    }
  }

  /** The reason cut to what a close frame holds, on a character boundary. */
  static String bounded(String reason) {
    if (reason.getBytes(StandardCharsets.UTF_8).length <= MAX_REASON_BYTES) {
      return reason;
    }
    StringBuilder cut = new StringBuilder();
    int bytes = 3; // the "..." that says the reason goes on
    for (int i = 0; i < reason.length(); i = reason.offsetByCodePoints(i, 1)) {
      String next = new String(Character.toChars(reason.codePointAt(i)));
      bytes += next.getBytes(StandardCharsets.UTF_8).length;
      if (bytes > MAX_REASON_BYTES) {
        break;
      }
      cut.append(next);
    }
    return cut + "...";
  }
}
