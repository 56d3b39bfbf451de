package dev.llmrouter.server.api;

import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.pipeline.CallMetadata;
import dev.llmrouter.server.pipeline.CallOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * What every RPC that runs the pipeline does around it: the call's options from its metadata, the trace id (and the
 * call id) sent back, the caller's cancel passed on, and a failed answer ended with its status.
 */
final class PipelineRpc {

  private PipelineRpc() {
  }

  /**
   * Starts one model call, and sends its id back so that a caller can link a later call to it (x-parent-call-id) and
   * find it in the log.
   *
   * @return empty when the request was refused: the call has ended with the refusal's status
   */
  static <A> Optional<AnswerStream<A>> startCall(GrpcServerRequest<?, ?> call, CallMetadata metadata, boolean stream,
      Caller caller, Function<CallOptions, AnswerStream<A>> starter) {
    return start(call, metadata, stream, caller, options -> {
      call.response().headers().set(CallMetadata.CALL_ID_HEADER, options.call().callId());
      return starter.apply(options);
    });
  }

  /**
   * Starts an answer that may take several model calls, each with an id of its own.
   *
   * @return empty when the request was refused: the call has ended with the refusal's status
   */
  static <A> Optional<AnswerStream<A>> start(GrpcServerRequest<?, ?> call, CallMetadata metadata, boolean stream,
      Caller caller, Function<CallOptions, AnswerStream<A>> starter) {
    AnswerStream<A> answer;
    try {
      CallOptions options = metadata.optionsOf(call.headers(), stream, call.timeout(), caller);
      call.response().headers().set(CallMetadata.TRACE_ID_HEADER, options.call().traceId());
      answer = starter.apply(options);
    } catch (CallError e) {
      GrpcErrors.end(call.response(), e);
      return Optional.empty();
    }
    call.errorHandler(error -> answer.cancel());
    answer.exceptionHandler(failure -> GrpcErrors.end(call.response(), failure));
    return Optional.of(answer);
  }

  /** Writes the answer's messages as they come, pausing it while the response's queue is full; ends with the last. */
  static <A> void stream(AnswerStream<A> answer, GrpcServerResponse<?, A> response, Predicate<A> last) {
    answer.handler(message -> {
      if (last.test(message)) {
        response.end(message);
        return;
      }
      response.write(message);
      if (response.writeQueueFull()) {
        answer.pause();
        response.drainHandler(v -> answer.resume());
      }
    });
  }
}
