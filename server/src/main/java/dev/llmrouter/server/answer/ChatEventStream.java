package dev.llmrouter.server.answer;

import dev.llmrouter.api.v1.ChatDone;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.FinishReason;
import io.vertx.core.Handler;
import io.vertx.core.streams.ReadStream;
import io.vertx.grpc.common.GrpcStatus;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The events of one answer. A producer (a provider adapter, or a cassette) writes events with {@link #emit},
 * {@link #complete} or {@link #fail}; an RPC reads them as a {@link ReadStream} with back-pressure, and may
 * {@link #cancel} the producer. Everything runs on the call's event-loop context, so no locking.
 *
 * <p>A stream ends exactly once: after its `done` event, or with a failure. Events emitted while the reader is
 * paused wait in a queue, and the producer is asked to pause its upstream until the reader resumes.
 */
public final class ChatEventStream implements ReadStream<ChatEvent> {

  /** How the producer's upstream is paused, resumed and aborted. */
  public interface Upstream {
    void pause();

    void resume();

    void cancel();
  }

  private static final Upstream NO_UPSTREAM = new Upstream() {
    @Override
    public void pause() {
    }

    @Override
    public void resume() {
    }

    @Override
    public void cancel() {
    }
  };

  private final ResponseAssembler assembler = new ResponseAssembler();
  private final ArrayDeque<ChatEvent> queue = new ArrayDeque<>();
  private Upstream upstream = NO_UPSTREAM;
  private Runnable closeHandler = () -> { };
  private UnaryOperator<ChatEvent> observeEvent = UnaryOperator.identity();
  private Consumer<CallError> observeEnd = error -> { };
  private Handler<ChatEvent> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;
  private long demand = Long.MAX_VALUE;
  private boolean upstreamPaused;
  private boolean done;
  private Throwable failure;
  private boolean closed;
  private boolean delivering;
  private String activity = "";
  private Map<String, String> traceContext = Map.of();

  // ---- producer side

  /** Connects the producer's flow control; called by the producer before it emits. */
  public void upstream(Upstream upstream) {
    this.upstream = upstream;
    if (closed) {
      upstream.cancel();
    } else if (upstreamPaused) {
      upstream.pause();
    }
  }

  /**
   * Runs once when the stream ends, fails or is cancelled (to release timers and the like); at once when it already
   * has.
   */
  public void closeHandler(Runnable handler) {
    if (isClosed()) {
      handler.run();
    } else {
      this.closeHandler = handler;
    }
  }

  /**
   * Watches the answer (for metrics, cost and the call log): {@code onEvent} sees each event as it is emitted and
   * returns the event to deliver; {@code onEnd} runs once, with null after `done`, or with the failure, or with
   * CANCELLED when the reader cancelled.
   */
  public void observe(UnaryOperator<ChatEvent> onEvent, Consumer<CallError> onEnd) {
    this.observeEvent = onEvent;
    this.observeEnd = onEnd;
  }

  /**
   * Says what the producer is doing now ("waiting for a free connection to openai"), so that an end decided outside
   * it, such as the caller's deadline, can say what it interrupted.
   */
  public void activity(String what) {
    this.activity = what;
  }

  /** What the producer said it is doing; empty when it said nothing. */
  public String activity() {
    return activity;
  }

  /**
   * The W3C trace context headers (`traceparent`, and `tracestate` when there is one) that the upstream request
   * producing these events carries, so that the provider's own traces join the caller's.
   */
  public void traceContext(Map<String, String> headers) {
    this.traceContext = headers;
  }

  /** The trace context headers of the upstream request; empty when there are none. */
  public Map<String, String> traceContext() {
    return traceContext;
  }

  /** True once the stream has ended, failed or been cancelled: the producer should stop. */
  public boolean isClosed() {
    return closed || done || failure != null;
  }

  /** Emits one event; a `done` event ends the stream. */
  public void emit(ChatEvent event) {
    if (isClosed()) {
      return;
    }
    ChatEvent observed = observeEvent.apply(event);
    assembler.accept(observed);
    queue.add(observed);
    if (observed.hasDone()) {
      done = true;
      closeHandler.run();
      observeEnd.accept(null);
    }
    drain();
  }

  /** Ends the stream with a `done` event holding the response folded from every event emitted so far. */
  public void complete(FinishReason finishReason) {
    emit(ChatEvent.newBuilder().setDone(ChatDone.newBuilder().setResponse(assembler.build(finishReason))).build());
  }

  /** Ends the stream with a failure, after the events already emitted; the upstream request is aborted. */
  public void fail(Throwable cause) {
    if (isClosed()) {
      return;
    }
    failure = cause;
    upstream.cancel();
    closeHandler.run();
    observeEnd.accept(CallError.of(cause));
    drain();
  }

  // ---- reader side

  /** Passes every event to {@code to}, transformed, with {@code to}'s flow control and cancel coming back here. */
  public void relayTo(ChatEventStream to, UnaryOperator<ChatEvent> transform) {
    exceptionHandler(to::fail);
    handler(event -> to.emit(transform.apply(event)));
    to.upstream(asUpstream());
  }

  /** This stream as the upstream of another: pausing, resuming or cancelling that one does it to this one. */
  public Upstream asUpstream() {
    ChatEventStream source = this;
    return new Upstream() {
      @Override
      public void pause() {
        source.pause();
      }

      @Override
      public void resume() {
        source.resume();
      }

      @Override
      public void cancel() {
        source.cancel();
      }
    };
  }

  /** Aborts the producer (its upstream request is closed); no more events or end are delivered. */
  public void cancel() {
    if (closed) {
      return;
    }
    boolean wasOpen = !isClosed();
    closed = true;
    queue.clear();
    upstream.cancel();
    if (wasOpen) {
      closeHandler.run();
      observeEnd.accept(new CallError(GrpcStatus.CANCELLED, "the caller cancelled the call"));
    }
  }

  @Override
  public ChatEventStream handler(Handler<ChatEvent> handler) {
    this.handler = handler;
    drain();
    return this;
  }

  @Override
  public ChatEventStream exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    drain();
    return this;
  }

  @Override
  public ChatEventStream endHandler(Handler<Void> handler) {
    this.endHandler = handler;
    drain();
    return this;
  }

  @Override
  public ChatEventStream pause() {
    demand = 0;
    return this;
  }

  @Override
  public ChatEventStream resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public ChatEventStream fetch(long amount) {
    demand = Math.min(Long.MAX_VALUE, demand + amount < 0 ? Long.MAX_VALUE : demand + amount);
    drain();
    return this;
  }

  private void drain() {
    if (delivering || handler == null) {
      return; // re-entrant calls are served by the loop below
    }
    delivering = true;
    try {
      while (!closed && demand > 0 && !queue.isEmpty()) {
        if (demand != Long.MAX_VALUE) {
          demand--;
        }
        ChatEvent event = queue.poll();
        handler.handle(event);
        if (event.hasDone() && !closed) {
          closed = true;
          if (endHandler != null) {
            endHandler.handle(null);
          }
        }
      }
      if (!closed && queue.isEmpty() && failure != null && exceptionHandler != null) {
        closed = true;
        exceptionHandler.handle(failure);
      }
      flowControlUpstream();
    } finally {
      delivering = false;
    }
  }

  private void flowControlUpstream() {
    boolean shouldPause = !closed && (demand == 0 || queue.size() > 16);
    if (shouldPause != upstreamPaused) {
      upstreamPaused = shouldPause;
      if (shouldPause) {
        upstream.pause();
      } else {
        upstream.resume();
      }
    }
  }
}
