package dev.llmrouter.server.ingress;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.server.answer.CallError;
import java.util.function.Consumer;

/** One call read by a {@link Dialect}: the neutral request, and how its answer is written back in the dialect. */
public interface DialectCall {

  /** The request as the pipeline takes it (so an SDK call and the same gRPC call share a cassette). */
  ChatRequest request();

  /** Whether the caller asked for a stream. */
  boolean stream();

  /** How the stream is framed: server-sent events, or (Gemini without `alt=sse`) one JSON array. */
  default boolean serverSentEvents() {
    return true;
  }

  /** The whole answer, for a call that does not stream. */
  ObjectNode answer(ChatResponse response);

  /** The frames one event becomes (none, one or several), in order. Called on the call's event loop, in order. */
  void event(ChatEvent event, Consumer<Frame> out);

  /** The frames that tell the caller the stream failed after it started: never a silent end. */
  void failure(CallError error, int httpStatus, ObjectNode errorBody, Consumer<Frame> out);

  /**
   * One frame of a stream: an SSE event (its name, or null for none, and its data), or an element of a JSON-array
   * stream (the data alone).
   */
  record Frame(String event, String data) {

    public static Frame data(String data) {
      return new Frame(null, data);
    }
  }
}
