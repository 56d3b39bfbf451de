package dev.llmrouter.client;

import dev.llmrouter.api.v1.ChatEvent;
import io.grpc.Context;
import java.util.Iterator;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The events of one {@code StreamChat} call, read one at a time: {@code start} first, {@code done} last. A failure
 * is thrown by {@link #hasNext()} or {@link #next()} as a {@link io.grpc.StatusRuntimeException}. Closing the stream
 * before its end cancels the call.
 */
public final class ChatEventStream implements Iterator<ChatEvent>, AutoCloseable {

  private final Context.CancellableContext call;
  private final Iterator<ChatEvent> events;

  ChatEventStream(Context.CancellableContext call, Iterator<ChatEvent> events) {
    this.call = call;
    this.events = events;
  }

  @Override
  public boolean hasNext() {
    return events.hasNext();
  }

  @Override
  public ChatEvent next() {
    return events.next();
  }

  /** The remaining events as a {@link Stream}; closing it closes this. */
  public Stream<ChatEvent> stream() {
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED | Spliterator.NONNULL),
        false).onClose(this::close);
  }

  @Override
  public void close() {
    call.cancel(null);
  }
}
