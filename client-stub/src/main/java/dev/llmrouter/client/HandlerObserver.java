package dev.llmrouter.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

/** Adapts an {@link EventHandler} to grpc-java's response observer, and keeps the call to cancel it. */
final class HandlerObserver<Req, E> implements ClientResponseObserver<Req, E>, Cancellable {

  private final EventHandler<E> handler;
  private volatile ClientCallStreamObserver<Req> call;

  HandlerObserver(EventHandler<E> handler) {
    this.handler = handler;
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<Req> call) {
    this.call = call;
  }

  @Override
  public void onNext(E event) {
    handler.onEvent(event);
  }

  @Override
  public void onError(Throwable error) {
    handler.onError(error instanceof StatusRuntimeException status ? status
        : Status.fromThrowable(error).asRuntimeException(Status.trailersFromThrowable(error)));
  }

  @Override
  public void onCompleted() {
    handler.onDone();
  }

  @Override
  public void cancel() {
    call.cancel("cancelled by the caller", null);
  }
}
