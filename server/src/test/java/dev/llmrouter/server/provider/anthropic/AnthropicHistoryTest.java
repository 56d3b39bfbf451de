package dev.llmrouter.server.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Reasoning;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A conversation that moves between providers reaches Anthropic intact: tool calls and results keep their ids
 * whatever provider minted them, reasoning signed by another provider (or by none) is left out, and Anthropic's own
 * thinking from an earlier turn goes back with its signature.
 */
class AnthropicHistoryTest {

  private static final String PLAIN_ANSWER = """
      {"id": "msg_01History", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
       "content": [{"type": "text", "text": "Rome is warmer."}], "stop_reason": "end_turn",
       "usage": {"input_tokens": 40, "output_tokens": 5}}
      """;

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.oneProvider("anthropic");
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  @Test
  void anEarlierTurnFromAnotherProviderKeepsItsToolIdsAndLosesItsSignatures() {
    Message foreignTurn = Message.newBuilder().setRole(Role.ROLE_ASSISTANT)
        .addParts(Part.newBuilder().setReasoning(Reasoning.newBuilder().setText("Paris first.")
            .setSignature("gemini-thought-signature").setProvider("gemini")))
        .addParts(Part.newBuilder().setReasoning(Reasoning.newBuilder().setText("Untagged.")
            .setSignature("untagged-signature")))
        .addParts(text("Checking Paris."))
        .addToolCalls(ToolCall.newBuilder().setId("call_abc").setName("get_weather")
            .setArgumentsJson("{\"city\":\"Paris\"}"))
        .build();
    ChatRequest request = ChatRequest.newBuilder().setModel("anthropic/claude-sonnet-4-5")
        .addMessages(user("Weather in Paris?"))
        .addMessages(foreignTurn)
        .addMessages(Message.newBuilder().setRole(Role.ROLE_TOOL).setToolCallId("call_abc").addParts(text("18C")))
        .addMessages(user("And is Rome warmer?"))
        .build();

    JsonNode sent = send(request, PLAIN_ANSWER);

    JsonNode assistant = sent.path("messages").path(1);
    assertEquals("assistant", assistant.path("role").asText());
    assertEquals(2, assistant.path("content").size(), "only the text and the tool call: " + assistant);
    assertEquals("text", assistant.path("content").path(0).path("type").asText());
    JsonNode toolUse = assistant.path("content").path(1);
    assertEquals("tool_use", toolUse.path("type").asText());
    assertEquals("call_abc", toolUse.path("id").asText());
    assertEquals("Paris", toolUse.path("input").path("city").asText());
    JsonNode toolResult = sent.path("messages").path(2).path("content").path(0);
    assertEquals("tool_result", toolResult.path("type").asText());
    assertEquals("call_abc", toolResult.path("tool_use_id").asText());
    assertFalse(sent.toString().contains("signature"), "no foreign signature is sent: " + sent);
  }

  @Test
  void anthropicThinkingFromThePreviousTurnGoesBackWithItsSignature() {
    ChatRequest first = ChatRequest.newBuilder().setModel("anthropic/claude-sonnet-4-5").addMessages(user("Is 91 prime?"))
        .build();
    setup.upstream().reply(200, "application/json", """
        {"id": "msg_01Thinking", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
         "content": [{"type": "thinking", "thinking": "91 = 7 x 13.", "signature": "EqQBCkgIBxABGAIiQ-anthropic"},
                     {"type": "text", "text": "No: 91 = 7 x 13."}],
         "stop_reason": "end_turn", "usage": {"input_tokens": 12, "output_tokens": 30}}
        """);
    ChatResponse answer = setup.router().chat().chat(first);
    assertEquals("anthropic", answer.getMessage().getParts(0).getReasoning().getProvider());

    JsonNode sent = send(first.toBuilder().addMessages(answer.getMessage()).addMessages(user("And 97?")).build(),
        PLAIN_ANSWER);

    JsonNode thinking = sent.path("messages").path(1).path("content").path(0);
    assertEquals("thinking", thinking.path("type").asText(), sent.toString());
    assertEquals("91 = 7 x 13.", thinking.path("thinking").asText());
    assertEquals("EqQBCkgIBxABGAIiQ-anthropic", thinking.path("signature").asText());
  }

  @Test
  void redactedThinkingFromThePreviousTurnGoesBackAsItsData() {
    ChatRequest first = ChatRequest.newBuilder().setModel("anthropic/claude-sonnet-4-5").addMessages(user("Hello"))
        .build();
    setup.upstream().reply(200, "application/json", """
        {"id": "msg_01Redacted", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
         "content": [{"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix-encrypted"},
                     {"type": "text", "text": "Hello!"}],
         "stop_reason": "end_turn", "usage": {"input_tokens": 8, "output_tokens": 20}}
        """);
    ChatResponse answer = setup.router().chat().chat(first);
    assertTrue(answer.getMessage().getParts(0).getReasoning().getRedacted());

    JsonNode sent = send(first.toBuilder().addMessages(answer.getMessage()).addMessages(user("Bye")).build(),
        PLAIN_ANSWER);

    JsonNode redacted = sent.path("messages").path(1).path("content").path(0);
    assertEquals("redacted_thinking", redacted.path("type").asText(), sent.toString());
    assertEquals("EmwKAhgBEgy3va3pzix-encrypted", redacted.path("data").asText());
  }

  /** Sends {@code request} through the router and returns the body the upstream received. */
  private static JsonNode send(ChatRequest request, String upstreamAnswer) {
    setup.upstream().reply(200, "application/json", upstreamAnswer);
    setup.router().chat().chat(request);
    return OpenAiWire.read(setup.upstream().lastRequest().body());
  }

  private static Message user(String text) {
    return Message.newBuilder().setRole(Role.ROLE_USER).addParts(text(text)).build();
  }

  private static Part text(String text) {
    return Part.newBuilder().setText(text).build();
  }
}
