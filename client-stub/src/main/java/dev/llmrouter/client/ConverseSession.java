package dev.llmrouter.client;

import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.Interrupt;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.ToolResults;
import io.grpc.stub.StreamObserver;
import java.util.List;

/**
 * The client's side of a {@code Converse} stream, opened by {@link LlmRouterClient#converse}: send user turns, tool
 * results and interrupts; the session's events go to the handler given there. Thread-safe.
 */
public final class ConverseSession implements Cancellable, AutoCloseable {

  private final StreamObserver<ConverseRequest> requests;
  private final Cancellable call;
  private boolean closed;

  ConverseSession(StreamObserver<ConverseRequest> requests, Cancellable call) {
    this.requests = requests;
    this.call = call;
  }

  /** Sends a user turn made of this text. */
  public ConverseSession sendUser(String text) {
    return sendUser(Messages.user(text));
  }

  /** Sends a user turn, for example one with an image ({@link Messages#user(String, byte[], String)}). */
  public ConverseSession sendUser(Message user) {
    return send(ConverseRequest.newBuilder().setUser(user).build());
  }

  /** Answers the tool calls the server asked for, with one {@link Messages#toolResult} per call. */
  public ConverseSession sendToolResults(Message... results) {
    return send(ConverseRequest.newBuilder().setToolResults(ToolResults.newBuilder().addAllResults(List.of(results)))
        .build());
  }

  /** Stops the running turn; its partial answer stays in the history. */
  public ConverseSession interrupt() {
    return send(ConverseRequest.newBuilder().setInterrupt(Interrupt.getDefaultInstance()).build());
  }

  /** Ends the session from the client's side: no more turns. The server ends the stream, and the handler is told. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      requests.onCompleted();
    }
  }

  /** Abandons the session at once: the running turn stops, and the handler gets {@code CANCELLED}. */
  @Override
  public void cancel() {
    call.cancel();
  }

  synchronized ConverseSession send(ConverseRequest request) {
    if (closed) {
      throw new IllegalStateException("the session is closed");
    }
    requests.onNext(request);
    return this;
  }
}
