package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Settings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * An HTTP/2 client connection written frame by frame with Netty's frame codec over a plain socket: it sends what the
 * test says when the test says it, and answers nothing by itself (no PING answer, no flow control), so a test can be a
 * client that a library never is (one ignoring a limit, or one whose stream crosses the server's GOAWAY).
 */
public final class RawHttp2Connection implements AutoCloseable {

  /** A frame the server sent, of {@code type} (HEADERS, DATA, RST_STREAM, GOAWAY or PING; others are not kept). */
  public record Frame(Type type, int streamId, Http2Headers headers, boolean endStream, long code, int lastStreamId,
      long pingData) {

    public enum Type { HEADERS, DATA, RST_STREAM, GOAWAY, PING }
  }

  private static final long WAIT_SECONDS = 10;

  private final Socket socket;
  private final OutputStream out;
  private final EmbeddedChannel frames = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
  private final ChannelHandlerContext ctx = frames.pipeline().firstContext();
  // Writes whatever size of headers it is given, as a client ignoring SETTINGS_MAX_HEADER_LIST_SIZE would.
  private final DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter(Http2HeadersEncoder.NEVER_SENSITIVE, true);
  private final BlockingQueue<Frame> received = new LinkedBlockingQueue<>();

  private RawHttp2Connection(Socket socket) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
  }

  /** Opens a connection to {@code 127.0.0.1:port} (cleartext, prior knowledge) and sends the preface and SETTINGS. */
  public static RawHttp2Connection open(int port) {
    try {
      RawHttp2Connection connection = new RawHttp2Connection(new Socket("127.0.0.1", port));
      connection.out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      connection.writer.writeSettings(connection.ctx, new Http2Settings(), connection.ctx.newPromise());
      connection.send();
      connection.readFrames(connection.socket.getInputStream());
      return connection;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The request headers of a gRPC call to {@code path} (`/package.Service/Method`). */
  public static Http2Headers grpcHeaders(String path) {
    return new DefaultHttp2Headers().method("POST").scheme("http").authority("127.0.0.1").path(path)
        .add("content-type", "application/grpc").add("te", "trailers");
  }

  /** A gRPC call on stream {@code streamId}: its headers, then {@code message} in one DATA frame that ends it. */
  public RawHttp2Connection grpcCall(int streamId, Http2Headers headers, byte[] message) {
    writer.writeHeaders(ctx, streamId, headers, 0, false, ctx.newPromise());
    writer.writeData(ctx, streamId, Unpooled.buffer().writeByte(0).writeInt(message.length).writeBytes(message), 0,
        true, ctx.newPromise());
    send();
    return this;
  }

  /** Answers a PING the server sent. */
  public RawHttp2Connection answerPing(long data) {
    writer.writePing(ctx, true, data, ctx.newPromise());
    send();
    return this;
  }

  /** The next frame the server sent that is {@code wanted} (those before it are dropped); fails after 10 s. */
  public Frame next(Predicate<Frame> wanted) throws InterruptedException {
    while (true) {
      Frame frame = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertNotNull(frame, "no frame wanted within " + WAIT_SECONDS + " s");
      if (wanted.test(frame)) {
        return frame;
      }
    }
  }

  /** The next frame of stream {@code streamId}, or the next GOAWAY. */
  public Frame nextOf(int streamId) throws InterruptedException {
    return next(frame -> frame.streamId() == streamId || frame.type() == Frame.Type.GOAWAY);
  }

  @Override
  public void close() throws IOException {
    socket.close();
    frames.finishAndReleaseAll();
  }

  private void send() {
    frames.flushOutbound();
    try {
      for (ByteBuf buf = frames.readOutbound(); buf != null; buf = frames.readOutbound()) {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        buf.release();
        out.write(bytes);
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void readFrames(InputStream in) {
    DefaultHttp2FrameReader reader = new DefaultHttp2FrameReader();
    Http2FrameAdapter listener = new Http2FrameAdapter() {
      @Override
      public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
          boolean endStream) {
        received.add(new Frame(Frame.Type.HEADERS, streamId, headers, endStream, 0, 0, 0));
      }

      @Override
      public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int dependency,
          short weight, boolean exclusive, int padding, boolean endStream) {
        onHeadersRead(c, streamId, headers, padding, endStream);
      }

      @Override
      public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endStream) {
        received.add(new Frame(Frame.Type.DATA, streamId, null, endStream, 0, 0, 0));
        return data.readableBytes() + padding;
      }

      @Override
      public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
        received.add(new Frame(Frame.Type.RST_STREAM, streamId, null, true, errorCode, 0, 0));
      }

      @Override
      public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debugData) {
        received.add(new Frame(Frame.Type.GOAWAY, 0, null, false, errorCode, lastStreamId, 0));
      }

      @Override
      public void onPingRead(ChannelHandlerContext c, long data) {
        received.add(new Frame(Frame.Type.PING, 0, null, false, 0, 0, data));
      }
    };
    Thread thread = new Thread(() -> {
      byte[] chunk = new byte[16384];
      ByteBuf pending = Unpooled.buffer();
      try {
        for (int n = in.read(chunk); n > 0; n = in.read(chunk)) {
          pending.writeBytes(chunk, 0, n);
          reader.readFrame(ctx, pending, listener);
          pending.discardReadBytes();
        }
      } catch (Exception closed) {
        // the socket closed: by the test, or by the server
      }
    }, "raw-http2-reader");
    thread.setDaemon(true);
    thread.start();
  }
}
