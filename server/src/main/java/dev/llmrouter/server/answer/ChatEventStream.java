package dev.llmrouter.server.answer;

import dev.llmrouter.api.v1.ChatDone;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.FinishReason;

/**
 * The events of one chat answer: a start, deltas and usage, ended by a `done` event holding the complete response,
 * which {@link #complete} folds from the events emitted before it.
 */
public final class ChatEventStream extends AnswerStream<ChatEvent> {

  private final ResponseAssembler assembler = new ResponseAssembler();

  public ChatEventStream() {
    super(ChatEvent::hasDone);
  }

  @Override
  protected void emitted(ChatEvent event) {
    assembler.accept(event);
  }

  /** Ends the stream with a `done` event holding the response folded from every event emitted so far. */
  public void complete(FinishReason finishReason) {
    emit(ChatEvent.newBuilder().setDone(ChatDone.newBuilder().setResponse(assembler.build(finishReason))).build());
  }
}
