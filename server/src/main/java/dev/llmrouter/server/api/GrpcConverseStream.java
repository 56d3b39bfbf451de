package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.ChatServiceGrpcService;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.server.GrpcServerRequest;

/** A `ChatService.Converse` gRPC call as a {@link ConverseStream}. */
final class GrpcConverseStream implements ConverseStream {

  private final GrpcServerRequest<ConverseRequest, ConverseEvent> call;

  GrpcConverseStream(GrpcServerRequest<ConverseRequest, ConverseEvent> call) {
    this.call = call;
  }

  @Override
  public MultiMap headers() {
    return call.headers();
  }

  @Override
  public String remoteAddress() {
    return GrpcAuthentication.address(call);
  }

  @Override
  public void handlers(Handler<ConverseRequest> message, Runnable dropped, Runnable finished) {
    RequestMessages.each(call, ChatServiceGrpcService.Converse, message, dropped);
    call.errorHandler(error -> dropped.run());
    call.endHandler(v -> afterFramesInFlight(finished));
  }

  /**
   * Runs {@code action} once every frame the client sent before now has been read: after a PING round trip, since
   * the client answers the PING after what it sent earlier. grpc-js cancels a call with a half-close (END_STREAM)
   * followed by RST_STREAM; waiting for the PING's answer lets that reset arrive, so a cancel is not taken for a
   * half-close, whatever the client library.
   */
  private void afterFramesInFlight(Runnable action) {
    try {
      call.connection().ping(Buffer.buffer(new byte[8])).onComplete(answered -> action.run());
    } catch (UnsupportedOperationException http1) {
      action.run(); // gRPC-Web over HTTP/1.1: no PING, and no reset to wait for
    }
  }

  @Override
  public void header(String name, String value) {
    call.response().headers().set(name, value);
  }

  @Override
  public void write(ConverseEvent event) {
    call.response().write(event);
  }

  @Override
  public boolean writeQueueFull() {
    return call.response().writeQueueFull(); // thread-safe (Vert.x locks the connection)
  }

  @Override
  public void drainHandler(Runnable drained) {
    call.response().drainHandler(v -> drained.run());
  }

  @Override
  public void pause() {
    call.pause();
  }

  @Override
  public void resume() {
    call.resume();
  }

  @Override
  public void end() {
    try {
      call.response().end();
    } catch (IllegalStateException alreadyEnded) {
      // the stream failed before the client closed it
    }
  }

  @Override
  public void fail(Throwable failure) {
    GrpcErrors.end(call.response(), failure);
  }
}
