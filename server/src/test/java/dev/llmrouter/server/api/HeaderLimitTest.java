package dev.llmrouter.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.testing.RouterWithUpstream;
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
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Request headers over the limit, from a client that ignores the limit the router announces (gRPC libraries refuse to
 * send them): the stream is refused, the connection and its other streams go on. Raw HTTP/2 frames, written with
 * Netty's frame codec over a plain socket.
 */
class HeaderLimitTest {

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.oneProvider("openai");
    setup.upstream().reply(200, "application/json", "{\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":"
        + "[{\"index\":0,\"message\":{\"content\":\"seen\"},\"finish_reason\":\"stop\"}]}");
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  /** A frame the router sent: the response headers (or trailers) of a stream, or the end of the connection. */
  private record Frame(int streamId, Http2Headers headers, boolean goAway) {
  }

  @Test
  void headersOverTheLimitRefuseTheirStreamAndTheConnectionGoesOn() throws Exception {
    EmbeddedChannel frames = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
    ChannelHandlerContext ctx = frames.pipeline().firstContext();
    // Writes whatever size of headers it is given, as a client ignoring SETTINGS_MAX_HEADER_LIST_SIZE would.
    DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter(Http2HeadersEncoder.NEVER_SENSITIVE, true);
    BlockingQueue<Frame> received = new LinkedBlockingQueue<>();
    try (Socket socket = new Socket("127.0.0.1", setup.router().port())) {
      OutputStream out = socket.getOutputStream();
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      writer.writeSettings(ctx, new Http2Settings(), ctx.newPromise());
      send(frames, out);
      Thread reader = readFrames(socket.getInputStream(), ctx, received);

      byte[] message = ChatRequest.newBuilder().setModel("openai/gpt-4o-mini").addMessages(Message.newBuilder()
          .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hello"))).build().toByteArray();
      ByteBuf body = Unpooled.buffer().writeByte(0).writeInt(message.length).writeBytes(message);
      Http2Headers oversized = chatHeaders().add("x-padding", "p".repeat(RouterServer.MAX_HEADER_BYTES + 1024));
      writer.writeHeaders(ctx, 1, oversized, 0, false, ctx.newPromise());
      writer.writeData(ctx, 1, body.retainedDuplicate(), 0, true, ctx.newPromise());
      writer.writeHeaders(ctx, 3, chatHeaders(), 0, false, ctx.newPromise());
      writer.writeData(ctx, 3, body, 0, true, ctx.newPromise());
      send(frames, out);

      Frame refused = next(received, 1);
      assertEquals("431", refused.headers().status().toString(), refused::toString);
      Frame answered = next(received, 3);
      assertEquals("200", answered.headers().status().toString(), answered::toString);
      Frame trailers = next(received, 3);
      assertEquals("0", trailers.headers().get("grpc-status").toString(), trailers::toString);
      reader.interrupt();
    }
  }

  private static Http2Headers chatHeaders() {
    return new DefaultHttp2Headers().method("POST").scheme("http").authority("127.0.0.1")
        .path("/llmrouter.v1.ChatService/Chat").add("content-type", "application/grpc").add("te", "trailers");
  }

  /** The next frame of this stream (a GOAWAY fails the test). */
  private static Frame next(BlockingQueue<Frame> received, int streamId) throws InterruptedException {
    while (true) {
      Frame frame = received.poll(10, TimeUnit.SECONDS);
      assertNotNull(frame, "no frame for stream " + streamId + " within 10 s");
      assertEquals(false, frame.goAway(), "the router ended the connection");
      if (frame.streamId() == streamId) {
        return frame;
      }
    }
  }

  private static void send(EmbeddedChannel frames, OutputStream out) throws Exception {
    frames.flushOutbound();
    for (ByteBuf buf = frames.readOutbound(); buf != null; buf = frames.readOutbound()) {
      byte[] bytes = new byte[buf.readableBytes()];
      buf.readBytes(bytes);
      buf.release();
      out.write(bytes);
    }
    out.flush();
  }

  private static Thread readFrames(InputStream in, ChannelHandlerContext ctx, BlockingQueue<Frame> received) {
    DefaultHttp2FrameReader reader = new DefaultHttp2FrameReader();
    Http2FrameAdapter listener = new Http2FrameAdapter() {
      @Override
      public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
          boolean endStream) {
        received.add(new Frame(streamId, headers, false));
      }

      @Override
      public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int dependency,
          short weight, boolean exclusive, int padding, boolean endStream) {
        received.add(new Frame(streamId, headers, false));
      }

      @Override
      public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debugData) {
        received.add(new Frame(0, new DefaultHttp2Headers(), true));
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
        // the socket closed at the end of the test
      }
    }, "raw-http2-reader");
    thread.setDaemon(true);
    thread.start();
    return thread;
  }
}
