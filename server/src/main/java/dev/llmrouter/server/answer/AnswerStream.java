package dev.llmrouter.server.answer;

import io.vertx.core.Handler;
import io.vertx.core.streams.ReadStream;
import io.vertx.grpc.common.GrpcStatus;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The events of one answer. A producer (a provider adapter, or a cassette) writes events with {@link #emit} or
 * {@link #fail}; an RPC reads them as a {@link ReadStream} with back-pressure, and may {@link #cancel} the producer.
 * Everything runs on the call's event-loop context, so no locking. A chat answer is a {@link ChatEventStream}; an
 * answer that is one value (an embedding) is a stream of that one value ({@link #ofOne}).
 *
 * <p>A stream ends exactly once: after its last event (a chat answer's `done`), or with a failure. Events emitted
 * while the reader is paused wait in a queue, and the producer is asked to pause its upstream until the reader
 * resumes.
 *
 * @param <E> the events
 */
public class AnswerStream<E> implements ReadStream<E> {

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

  private final Predicate<E> isLast;
  private final ArrayDeque<E> queue = new ArrayDeque<>();
  private Upstream upstream = NO_UPSTREAM;
  private Runnable closeHandler = () -> { };
  private UnaryOperator<E> observeEvent = UnaryOperator.identity();
  private Consumer<CallError> observeEnd = error -> { };
  private Handler<E> handler;
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

  /** @param isLast which event ends the stream */
  protected AnswerStream(Predicate<E> isLast) {
    this.isLast = isLast;
  }

  /** An answer that ends with the event {@code isLast} tells. */
  public static <E> AnswerStream<E> of(Predicate<E> isLast) {
    return new AnswerStream<>(isLast);
  }

  /** The answer of one value: its one event ends it. */
  public static <E> AnswerStream<E> ofOne() {
    return of(event -> true);
  }

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
   * returns the event to deliver; {@code onEnd} runs once, with null after the last event, or with the failure, or with
   * CANCELLED when the reader cancelled.
   */
  public void observe(UnaryOperator<E> onEvent, Consumer<CallError> onEnd) {
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

  /** Emits one event; the last ends the stream. */
  public void emit(E event) {
    if (isClosed()) {
      return;
    }
    E observed = observeEvent.apply(event);
    emitted(observed);
    queue.add(observed);
    if (isLast.test(observed)) {
      done = true;
      closeHandler.run();
      observeEnd.accept(null);
    }
    drain();
  }

  /** Sees each event as it is emitted, after the observer: for a subclass that folds the events. */
  protected void emitted(E event) {
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
  public void relayTo(AnswerStream<E> to, UnaryOperator<E> transform) {
    exceptionHandler(to::fail);
    handler(event -> to.emit(transform.apply(event)));
    to.upstream(asUpstream());
  }

  /** This stream as the upstream of another: pausing, resuming or cancelling that one does it to this one. */
  public Upstream asUpstream() {
    AnswerStream<E> source = this;
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
  public AnswerStream<E> handler(Handler<E> handler) {
    this.handler = handler;
    drain();
    return this;
  }

  @Override
  public AnswerStream<E> exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    drain();
    return this;
  }

  @Override
  public AnswerStream<E> endHandler(Handler<Void> handler) {
    this.endHandler = handler;
    drain();
    return this;
  }

  @Override
  public AnswerStream<E> pause() {
    demand = 0;
    return this;
  }

  @Override
  public AnswerStream<E> resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public AnswerStream<E> fetch(long amount) {
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
        E event = queue.poll();
        handler.handle(event);
        if (isLast.test(event) && !closed) {
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
