package dev.llmrouter.server.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.testing.RawHttp2Connection;
import dev.llmrouter.server.testing.RawHttp2Connection.Frame;
import dev.llmrouter.server.testing.RouterWithUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Request headers over the limit, from a client that ignores the limit the router announces (gRPC libraries refuse to
 * send them): the stream is refused, the connection and its other streams go on. Raw HTTP/2 frames
 * ({@link RawHttp2Connection}).
 */
class HeaderLimitTest {

  private static final String CHAT = "/llmrouter.v1.ChatService/Chat";
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

  @Test
  void headersOverTheLimitRefuseTheirStreamAndTheConnectionGoesOn() throws Exception {
    byte[] message = ChatRequest.newBuilder().setModel("openai/gpt-4o-mini").addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hello"))).build().toByteArray();
    try (RawHttp2Connection client = RawHttp2Connection.open(setup.router().port())) {
      client.grpcCall(1, RawHttp2Connection.grpcHeaders(CHAT).add("x-padding",
          "p".repeat(RouterServer.MAX_HEADER_BYTES + 1024)), message);
      client.grpcCall(3, RawHttp2Connection.grpcHeaders(CHAT), message);

      Frame refused = headersOf(client, 1);
      assertEquals("431", refused.headers().status().toString(), refused::toString);
      Frame answered = headersOf(client, 3);
      assertEquals("200", answered.headers().status().toString(), answered::toString);
      Frame trailers = headersOf(client, 3);
      assertEquals("0", trailers.headers().get("grpc-status").toString(), trailers::toString);
    }
  }

  /** The next headers (or trailers) of this stream (a GOAWAY fails the test). */
  private static Frame headersOf(RawHttp2Connection client, int streamId) throws InterruptedException {
    Frame frame = client.next(next -> next.streamId() == streamId && next.type() == Frame.Type.HEADERS
        || next.type() == Frame.Type.GOAWAY);
    assertEquals(Frame.Type.HEADERS, frame.type(), "the router ended the connection");
    return frame;
  }
}
