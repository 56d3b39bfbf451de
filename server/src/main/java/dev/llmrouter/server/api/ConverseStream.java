package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;

/**
 * One Converse stream as {@link ConverseService} drives it, whatever carries it: a gRPC call
 * ({@link GrpcConverseStream}) or a WebSocket of the admin listener ({@link ConverseWebSocket}). Both reach the same
 * sessions, resume and keys through one code path.
 */
public interface ConverseStream {

  /** The call metadata: the key, the cassette scope and the other `x-*` headers. */
  MultiMap headers();

  /** The client's address, by which wrong keys are counted. */
  String remoteAddress();

  /**
   * Starts reading. {@code message} gets each request, decoded; {@code dropped} runs when the client went away or
   * sent something that does not decode (the stream has ended then: its session stays resumable); {@code finished}
   * runs when the client says it sends no more (a gRPC half-close, a WebSocket closed with 1000), which ends the
   * session.
   */
  void handlers(Handler<ConverseRequest> message, Runnable dropped, Runnable finished);

  /** A response header, where the transport has them (sent with the first event). */
  void header(String name, String value);

  void write(ConverseEvent event);

  boolean writeQueueFull();

  /** Runs {@code drained} once, when the write queue has room again. */
  void drainHandler(Runnable drained);

  /** Stops reading the client's messages until {@link #resume}. */
  void pause();

  void resume();

  /** Ends the stream normally; nothing happens when it has ended already. */
  void end();

  /** Ends the stream with the failure's status and message; nothing happens when it has ended already. */
  void fail(Throwable failure);
}
