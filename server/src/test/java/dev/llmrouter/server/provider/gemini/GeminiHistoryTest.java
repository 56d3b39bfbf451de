package dev.llmrouter.server.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Histories sent to Gemini: tool results are named through their tool call ids whatever provider made the calls, a
 * reasoning signature from another provider is dropped, and Gemini's own signature from an earlier turn goes back.
 */
class GeminiHistoryTest {

  private static final String TOOLS = """
      "tools": [{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
                {"name": "get_time", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
      """;

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.oneProvider("gemini");
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  @Test
  void anotherProvidersTurnIsSentWithNamesMatchedByIdAndItsSignatureDropped() throws Exception {
    setup.upstream().reply(200, "application/json", """
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Paris is 18C at 09:14."}]},
                         "finishReason": "STOP"}], "responseId": "r2", "modelVersion": "gemini-2.5-flash"}
        """);
    setup.router().chat().chat(request("""
        {"model": "gemini/gemini-2.5-flash", %s, "messages": [
          {"role": "ROLE_USER", "parts": [{"text": "Weather and time in Paris?"}]},
          {"role": "ROLE_ASSISTANT", "parts": [
             {"reasoning": {"text": "Two tools.", "signature": "anthropic-sig-EqQBCkgIARAB", "provider": "anthropic"}},
             {"text": "Checking."}],
           "toolCalls": [{"id": "call_abc", "name": "get_weather", "argumentsJson": "{\\"city\\":\\"Paris\\"}"},
                         {"id": "call_def", "name": "get_time", "argumentsJson": "{\\"city\\":\\"Paris\\"}"}]},
          {"role": "ROLE_TOOL", "toolCallId": "call_def", "parts": [{"text": "09:14"}]},
          {"role": "ROLE_TOOL", "toolCallId": "call_abc", "parts": [{"text": "{\\"temp_c\\": 18}"}]},
          {"role": "ROLE_USER", "parts": [{"text": "Summarise."}]}]}
        """.formatted(TOOLS)));

    String sent = setup.upstream().lastRequest().body();
    assertFalse(sent.contains("anthropic-sig"), "a foreign signature is dropped: " + sent);
    assertFalse(sent.contains("thoughtSignature"), sent);
    assertEquals(OpenAiWire.read("""
        [{"role": "user", "parts": [{"text": "Weather and time in Paris?"}]},
         {"role": "model", "parts": [{"text": "Checking."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
            {"functionCall": {"name": "get_time", "args": {"city": "Paris"}}}]},
         {"role": "user", "parts": [
            {"functionResponse": {"name": "get_time", "response": {"result": "09:14"}}},
            {"functionResponse": {"name": "get_weather", "response": {"result": {"temp_c": 18}}}}]},
         {"role": "user", "parts": [{"text": "Summarise."}]}]
        """), OpenAiWire.read(sent).path("contents"));
  }

  @Test
  void geminisOwnSignatureFromThePreviousTurnGoesBackOnItsFunctionCall() throws Exception {
    setup.upstream().reply(200, "application/json", """
        {"candidates": [{"content": {"role": "model", "parts": [
           {"functionCall": {"name": "get_time", "args": {"city": "Rome"}}, "thoughtSignature": "gemini-sig-CiQB"},
           {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}]}, "finishReason": "STOP"}],
         "responseId": "r1", "modelVersion": "gemini-2.5-flash"}
        """);
    ChatRequest first = request("""
        {"model": "gemini/gemini-2.5-flash", %s,
         "messages": [{"role": "ROLE_USER", "parts": [{"text": "Time and weather in Rome?"}]}]}
        """.formatted(TOOLS));
    ChatResponse calls = setup.router().chat().chat(first);
    assertEquals(FinishReason.FINISH_REASON_TOOL_CALLS, calls.getFinishReason());
    assertEquals("call_0", calls.getMessage().getToolCalls(0).getId());

    ChatRequest second = first.toBuilder().addMessages(calls.getMessage())
        .addMessages(toolResult(calls.getMessage().getToolCalls(1).getId(), "21C"))
        .addMessages(toolResult(calls.getMessage().getToolCalls(0).getId(), "16:40")).build();
    setup.router().chat().chat(second);

    JsonNode contents = OpenAiWire.read(setup.upstream().lastRequest().body()).path("contents");
    assertEquals(OpenAiWire.read("""
        {"role": "model", "parts": [
           {"functionCall": {"name": "get_time", "args": {"city": "Rome"}}, "thoughtSignature": "gemini-sig-CiQB"},
           {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}]}
        """), contents.get(1));
    assertEquals(OpenAiWire.read("""
        {"role": "user", "parts": [
           {"functionResponse": {"name": "get_weather", "response": {"result": "21C"}}},
           {"functionResponse": {"name": "get_time", "response": {"result": "16:40"}}}]}
        """), contents.get(2));
  }

  private static Message toolResult(String toolCallId, String text) {
    return Message.newBuilder().setRole(Role.ROLE_TOOL).setToolCallId(toolCallId)
        .addParts(Part.newBuilder().setText(text)).build();
  }

  private static ChatRequest request(String json) throws InvalidProtocolBufferException {
    ChatRequest.Builder request = ChatRequest.newBuilder();
    JsonFormat.parser().merge(json, request);
    return request.build();
  }
}
