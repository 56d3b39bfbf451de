package dev.llmrouter.server.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.ResponseFormatType;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.RouterWithUpstream;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

/** What the adapter refuses before calling Anthropic. */
class AnthropicAdapterTest {

  @Test
  void aJsonObjectFormatIsRefusedWithoutAnUpstreamCall() throws Exception {
    try (RouterWithUpstream setup = RouterWithUpstream.oneProvider("anthropic")) {
      ChatRequest request = ChatRequest.newBuilder().setModel("anthropic/claude-sonnet-4-5")
          .addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("JSON please")))
          .setResponseFormat(ResponseFormat.newBuilder().setType(ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_OBJECT))
          .build();

      StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
          () -> setup.router().chat().chat(request));

      assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
      assertTrue(error.getStatus().getDescription().contains("RESPONSE_FORMAT_TYPE_JSON_SCHEMA"),
          error.getStatus().getDescription());
      assertTrue(setup.upstream().received().isEmpty(), "nothing was sent upstream");
    }
  }
}
