package dev.llmrouter.server.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.RouterWithUpstream;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A Gemini stream has no `[DONE]`: only its end after a finish reason completes the answer. */
class GeminiStreamEndTest {

  private static final String CHUNK = "data: {\"candidates\": [{\"content\": {\"role\": \"model\", \"parts\": "
      + "[{\"text\": \"Hel\"}]}}], \"responseId\": \"r\", \"modelVersion\": \"gemini-2.5-flash\"}\n\n";
  private static final String LAST_CHUNK_CUT = "data: {\"candidates\": [{\"content\": {\"role\": \"model\", "
      + "\"parts\": [{\"text\": \"lo\"}]}, \"finishReason\": \"STOP\"}]}";

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.oneProvider("gemini");
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"no finish reason", "cut inside the last event"})
  void aStreamThatStopsEarlyFailsUnavailable(String how) {
    String body = how.equals("no finish reason") ? CHUNK : CHUNK + LAST_CHUNK_CUT;
    setup.upstream().reply(200, "text/event-stream", body);
    ChatRequest request = ChatRequest.newBuilder().setModel("gemini/gemini-2.5-flash").addMessages(Message
        .newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hello"))).build();

    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> setup.router().chat().streamChat(request).forEachRemaining(e -> { }));
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode(), error.getMessage());
    assertEquals(Status.Code.UNAVAILABLE, assertThrows(StatusRuntimeException.class,
        () -> setup.router().chat().chat(request)).getStatus().getCode());
  }
}
