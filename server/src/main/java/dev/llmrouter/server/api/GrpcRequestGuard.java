package dev.llmrouter.server.api;

import dev.llmrouter.api.v1.ChatServiceGrpcService;
import dev.llmrouter.api.v1.EmbeddingServiceGrpcService;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.pipeline.RunningCalls;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.StreamResetException;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import io.vertx.core.internal.http.HttpServerRequestWrapper;
import io.vertx.grpc.common.GrpcError;
import io.vertx.grpc.common.GrpcStatus;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/**
 * Reads the envelope of every gRPC request before Vert.x's gRPC server does, and ends a call whose envelope is wrong
 * with a status and one log line, where Vert.x 5.0.7 would reset the stream, throw "Handle me" from its deframer or
 * wait forever (see `Http2GrpcMessageDeframer#next` and `GrpcReadStreamBase#decodeMessage` in eclipse-vertx/vertx-grpc,
 * still so on its main branch):
 * <ul>
 *   <li>a `grpc-encoding` other than identity or gzip: UNIMPLEMENTED with `grpc-accept-encoding`, as the gRPC
 *   compression spec asks;
 *   <li>a message flagged compressed on a call without `grpc-encoding`, a flags byte other than 0 or 1, a request
 *   that ends inside a message, a gzip message that does not inflate: INTERNAL;
 *   <li>a message over {@code max_message_bytes}, before or after inflating: RESOURCE_EXHAUSTED naming the limit.
 * </ul>
 * Messages go on whole and uncompressed, so the server behind never sees a partial or compressed one. While the router
 * drains, a new `ChatService` or `EmbeddingService` call is refused here (as {@link WhileDraining} says), before its
 * message is read: UNAVAILABLE, reason DRAINING, with HTTP status 503, which balancers (nginx's `grpc_next_upstream
 * http_503`) retry on another replica.
 */
public final class GrpcRequestGuard implements Handler<HttpServerRequest> {

  private static final System.Logger LOG = System.getLogger("llmrouter");
  private static final int HEADER_BYTES = 5;
  /** gRPC clients read a 503 with a gRPC content type by its grpc-status; balancers see an unavailable replica. */
  private static final int DRAINING_HTTP_STATUS = 503;
  private static final String CHAT_SERVICE_PATH = "/" + ChatServiceGrpcService.SERVICE_NAME.fullyQualifiedName() + "/";
  private static final String EMBEDDING_SERVICE_PATH =
      "/" + EmbeddingServiceGrpcService.SERVICE_NAME.fullyQualifiedName() + "/";

  /** Which new calls a guard refuses while the router drains. */
  public enum WhileDraining {
    /**
     * On the main listener, whose HTTP/2 connections go away in two steps: the calls over HTTP/1.x
     * ({@link RunningCalls#refusesNewCall}).
     */
    REFUSE_HTTP1,
    /** On the admin listener, which takes calls until the router closes: every call. */
    REFUSE_ALL
  }

  private final Handler<HttpServerRequest> grpc;
  private final long maxMessageBytes;
  private final RunningCalls running;
  private final WhileDraining whileDraining;

  /**
   * @param grpc the gRPC server, handed the requests whose envelope is right
   * @param running whether the router takes new calls
   * @param whileDraining which new calls are refused while it drains
   */
  public GrpcRequestGuard(Handler<HttpServerRequest> grpc, long maxMessageBytes, RunningCalls running,
      WhileDraining whileDraining) {
    this.grpc = grpc;
    this.maxMessageBytes = maxMessageBytes;
    this.running = running;
    this.whileDraining = whileDraining;
  }

  @Override
  public void handle(HttpServerRequest request) {
    String contentType = request.getHeader(HttpHeaders.CONTENT_TYPE);
    boolean refused = whileDraining == WhileDraining.REFUSE_ALL ? running.draining()
        : running.refusesNewCall(request.version());
    if (refused && contentType != null && contentType.startsWith("application/grpc")
        && (request.path().startsWith(CHAT_SERVICE_PATH) || request.path().startsWith(EMBEDDING_SERVICE_PATH))) {
      end(request, running.drainingRefusal(), DRAINING_HTTP_STATUS); // expected while draining: not logged one by one
      return;
    }
    // gRPC-Web text is base64 as a whole; what is not gRPC at all gets Vert.x's 415.
    if (contentType == null || !contentType.startsWith("application/grpc")
        || contentType.startsWith("application/grpc-web-text")) {
      grpc.handle(request);
      return;
    }
    String encoding = request.getHeader("grpc-encoding");
    if (encoding != null && !encoding.equals("identity") && !encoding.equals("gzip")) {
      request.response().putHeader("grpc-accept-encoding", "gzip");
      refuse(request, GrpcStatus.UNIMPLEMENTED, "grpc-encoding " + CallError.quote(encoding)
          + " is not supported: send identity or gzip");
      return;
    }
    grpc.handle(new EnvelopeCheck((HttpServerRequestInternal) request, "gzip".equals(encoding)));
  }

  /** Ends the call with a status and one log line. */
  private static void refuse(HttpServerRequest request, GrpcStatus status, String message) {
    LOG.log(System.Logger.Level.WARNING, "gRPC call " + CallError.quote(request.path()) + " refused: "
        + status.name() + " " + message);
    end(request, new CallError(status, message), 200);
  }

  /**
   * Ends the call with a status, as headers when nothing was sent yet (trailers-only, with {@code httpStatus}), as
   * trailers otherwise.
   */
  private static void end(HttpServerRequest request, CallError error, int httpStatus) {
    HttpServerResponse response = request.response();
    if (response.ended()) {
      return;
    }
    var metadata = response.headWritten() ? response.trailers() : response.setStatusCode(httpStatus)
        .putHeader(HttpHeaders.CONTENT_TYPE, request.getHeader(HttpHeaders.CONTENT_TYPE)).headers();
    metadata.set("grpc-status", String.valueOf(error.status().code));
    GrpcErrors.describe(metadata, error);
    response.end();
  }

  /** The request as the gRPC server reads it: only whole, uncompressed, well-formed messages come through. */
  private final class EnvelopeCheck extends HttpServerRequestWrapper {

    private final boolean gzip;
    private Handler<Buffer> messages;
    private Handler<Void> end;
    private Handler<Throwable> failures;
    private Buffer pending = Buffer.buffer();
    private boolean refused;

    EnvelopeCheck(HttpServerRequestInternal request, boolean gzip) {
      super(request);
      this.gzip = gzip;
    }

    @Override
    public HttpServerRequest handler(Handler<Buffer> handler) {
      messages = handler;
      delegate.handler(handler == null ? null : this::read);
      return this;
    }

    @Override
    public HttpServerRequest endHandler(Handler<Void> handler) {
      end = handler;
      delegate.endHandler(handler == null ? null : v -> ended());
      return this;
    }

    @Override
    public HttpServerRequest exceptionHandler(Handler<Throwable> handler) {
      failures = handler;
      delegate.exceptionHandler(handler);
      return this;
    }

    private void read(Buffer chunk) {
      if (refused) {
        return;
      }
      pending.appendBuffer(chunk);
      while (!refused && pending.length() >= HEADER_BYTES) {
        int flags = pending.getUnsignedByte(0);
        long length = pending.getUnsignedInt(1);
        if (flags > 1) {
          refuse(GrpcStatus.INTERNAL, "a request message's flags byte is " + flags + "; it must be 0 "
              + "(uncompressed) or 1 (compressed)");
        } else if (flags == 1 && !gzip) {
          refuse(GrpcStatus.INTERNAL, "a request message is flagged compressed, but the call declares no "
              + "grpc-encoding");
        } else if (length > maxMessageBytes) {
          refuse(GrpcStatus.RESOURCE_EXHAUSTED, tooLarge("the request message has " + length + " bytes"));
        } else if (pending.length() >= HEADER_BYTES + length) {
          int size = HEADER_BYTES + (int) length;
          Buffer message = pending.slice(0, size);
          pending = pending.getBuffer(size, pending.length());
          if (flags == 1) {
            message = inflate(message.slice(HEADER_BYTES, size));
          }
          if (message != null) {
            messages.handle(message);
          }
        } else {
          return;
        }
      }
    }

    /** The message, inflated and framed as uncompressed; null when it was refused. */
    private Buffer inflate(Buffer compressed) {
      byte[] inflated;
      try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(compressed.getBytes()))) {
        inflated = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxMessageBytes + 1));
      } catch (IOException e) {
        refuse(GrpcStatus.INTERNAL, "a request message flagged gzip does not inflate: " + e.getMessage());
        return null;
      }
      if (inflated.length > maxMessageBytes) {
        refuse(GrpcStatus.RESOURCE_EXHAUSTED, tooLarge("a request message inflates to more than "
            + maxMessageBytes + " bytes"));
        return null;
      }
      return Buffer.buffer(HEADER_BYTES + inflated.length).appendByte((byte) 0).appendInt(inflated.length)
          .appendBytes(inflated);
    }

    private String tooLarge(String what) {
      return what + "; this router accepts at most " + maxMessageBytes + " (max_message_bytes)";
    }

    private void ended() {
      if (refused) {
        return;
      }
      if (pending.length() >= HEADER_BYTES) {
        refuse(GrpcStatus.INTERNAL, "the request ended inside a message: it declared " + pending.getUnsignedInt(1)
            + " bytes and sent " + (pending.length() - HEADER_BYTES));
      } else if (pending.length() > 0) {
        refuse(GrpcStatus.INTERNAL, "the request ended inside a message header: " + pending.length() + " of its "
            + HEADER_BYTES + " bytes");
      } else if (end != null) {
        end.handle(null);
      }
    }

    private void refuse(GrpcStatus status, String message) {
      refused = true;
      pending = Buffer.buffer();
      GrpcRequestGuard.refuse(delegate, status, message);
      // The call learns that its stream is over as from a client's reset: the service stops its work.
      if (failures != null) {
        failures.handle(new StreamResetException(GrpcError.CANCELLED.http2ResetCode));
      }
    }
  }
}
