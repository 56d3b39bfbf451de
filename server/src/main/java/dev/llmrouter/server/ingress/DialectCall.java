package dev.llmrouter.server.ingress;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import java.util.function.Consumer;

/**
 * One call read by a {@link Dialect}: the neutral request, and how its answer is written back in the dialect.
 *
 * @param request the request as the pipeline takes it (so an SDK call and the same gRPC call share a cassette)
 * @param stream whether the caller asked for a stream
 * @param serverSentEvents how the stream is framed: server-sent events, or (Gemini without `alt=sse`) one JSON array
 * @param writer the answer in the dialect: whole, or frame by frame
 */
public record DialectCall(ChatRequest request, boolean stream, boolean serverSentEvents, Writer writer) {

  /** A call streamed as server-sent events when it streams, as every dialect but one does. */
  public DialectCall(ChatRequest request, boolean stream, Writer writer) {
    this(request, stream, true, writer);
  }

  /** How one call's answer is written in a dialect. */
  public interface Writer {

    /** The whole answer, for a call that does not stream. */
    ObjectNode answer(ChatResponse response);

    /** The frames one event becomes (none, one or several), in order. Called on the call's event loop, in order. */
    void event(ChatEvent event, Consumer<Frame> out);

    /** The frames that tell the caller the stream failed after it started, from the dialect's error body. */
    void failure(ObjectNode errorBody, Consumer<Frame> out);
  }

  /**
   * One frame of a stream: an SSE event (its name, or null for none, and its data), or an element of a JSON-array
   * stream (the data alone).
   */
  public record Frame(String event, String data) {

    public static Frame data(String data) {
      return new Frame(null, data);
    }
  }
}
