package dev.llmrouter.server.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Reasoning;
import dev.llmrouter.api.v1.ReasoningEffort;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolChoice;
import dev.llmrouter.api.v1.ToolChoiceMode;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the Bedrock adapter sends for what the recorded exchanges do not show: its own signed reasoning and tool calls
 * going back on the next turn (another provider's signatures left out), reasoning effort as a thinking budget, cache
 * breakpoints as cache points, and what Converse cannot carry refused before anything is sent.
 */
class BedrockHistoryTest {

  private static final String MODEL = "bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0";
  private static final String THINKING_TOOL_ANSWER = """
      {"output": {"message": {"role": "assistant", "content": [
         {"reasoningContent": {"reasoningText": {"text": "Paris first.", "signature": "sig-bedrock-1"}}},
         {"toolUse": {"toolUseId": "tooluse_paris", "name": "get_weather", "input": {"city": "Paris"}}}]}},
       "stopReason": "tool_use", "usage": {"inputTokens": 30, "outputTokens": 20, "totalTokens": 50}}
      """;
  private static final String PLAIN_ANSWER = """
      {"output": {"message": {"role": "assistant", "content": [{"text": "Rome is warmer."}]}},
       "stopReason": "end_turn", "usage": {"inputTokens": 60, "outputTokens": 5, "totalTokens": 65}}
      """;

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("""
        cassettes: { mode: "off" }
        providers:
          - { name: bedrock, type: bedrock, region: us-east-1, base_url: "%1$s" }
        """);
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  @Test
  void bedrocksOwnReasoningAndToolCallGoBackAndAnotherProvidersSignatureDoesNot() {
    ChatRequest first = ChatRequest.newBuilder().setModel(MODEL).addMessages(user("Weather in Paris?"))
        .addTools(Tool.newBuilder().setName("get_weather").setParameters(ProtoJson.toStruct(OpenAiWire.read(
            "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}"))))
        .build();
    setup.upstream().reply(200, "application/json", THINKING_TOOL_ANSWER);
    ChatResponse answer = setup.router().chat().chat(first);
    Message foreign = Message.newBuilder().setRole(Role.ROLE_ASSISTANT).addParts(Part.newBuilder()
        .setReasoning(Reasoning.newBuilder().setText("Elsewhere.").setSignature("gemini-sig").setProvider("gemini")))
        .addParts(Part.newBuilder().setText("Noted.")).build();
    ChatRequest second = first.toBuilder().addMessages(answer.getMessage())
        .addMessages(Message.newBuilder().setRole(Role.ROLE_TOOL)
            .setToolCallId(answer.getMessage().getToolCalls(0).getId()).addParts(Part.newBuilder().setText("18C")))
        .addMessages(user("And Rome?")).addMessages(foreign).addMessages(user("Thanks.")).build();

    JsonNode sent = send(second, PLAIN_ANSWER);

    JsonNode assistant = sent.path("messages").path(1);
    assertEquals("assistant", assistant.path("role").asText());
    assertEquals("sig-bedrock-1", assistant.at("/content/0/reasoningContent/reasoningText/signature").asText());
    assertEquals("Paris first.", assistant.at("/content/0/reasoningContent/reasoningText/text").asText());
    JsonNode toolUse = assistant.at("/content/1/toolUse");
    assertEquals(answer.getMessage().getToolCalls(0).getId(), toolUse.path("toolUseId").asText());
    assertEquals("Paris", toolUse.at("/input/city").asText());
    // The tool result and the next user text share one user turn: Converse wants the roles to alternate.
    JsonNode results = sent.path("messages").path(2);
    assertEquals("user", results.path("role").asText());
    assertEquals("18C", results.at("/content/0/toolResult/content/0/text").asText());
    assertEquals("And Rome?", results.at("/content/1/text").asText());
    assertEquals(1, sent.at("/messages/3/content").size(), "only the text of the foreign turn: " + sent);
    assertFalse(sent.toString().contains("gemini-sig"), sent.toString());
    assertTrue(sent.has("toolConfig"), "Converse reads tool history only with the tools: " + sent);
  }

  @Test
  void reasoningEffortIsAThinkingBudgetOnTopOfTheAnswersTokens() {
    JsonNode sent = send(ChatRequest.newBuilder().setModel(MODEL).addMessages(user("Think."))
        .setSettings(GenerationSettings.newBuilder().setMaxOutputTokens(100)
            .setReasoningEffort(ReasoningEffort.REASONING_EFFORT_MEDIUM)).build(), PLAIN_ANSWER);
    assertEquals(8192, sent.at("/additionalModelRequestFields/thinking/budget_tokens").asInt());
    assertEquals("enabled", sent.at("/additionalModelRequestFields/thinking/type").asText());
    assertEquals(100 + 8192, sent.at("/inferenceConfig/maxTokens").asInt());
  }

  @Test
  void aCacheBreakpointIsACachePointAfterItsBlock() {
    JsonNode sent = send(ChatRequest.newBuilder().setModel(MODEL)
        .addMessages(Message.newBuilder().setRole(Role.ROLE_SYSTEM).addParts(Part.newBuilder()
            .setText("A long system prompt.").setCacheBreakpoint(true)))
        .addMessages(user("Hi")).build(), PLAIN_ANSWER);
    assertEquals("A long system prompt.", sent.at("/system/0/text").asText());
    assertEquals("default", sent.at("/system/1/cachePoint/type").asText());
  }

  @Test
  void toolChoiceNoneWithoutToolHistorySendsNoTools() {
    JsonNode sent = send(ChatRequest.newBuilder().setModel(MODEL).addMessages(user("Hi"))
        .addTools(Tool.newBuilder().setName("get_weather"))
        .setToolChoice(ToolChoice.newBuilder().setMode(ToolChoiceMode.TOOL_CHOICE_MODE_NONE)).build(), PLAIN_ANSWER);
    assertFalse(sent.has("toolConfig"), sent.toString());
  }

  @Test
  void anImageByHttpUrlIsRefusedBeforeAnythingIsSent() {
    int sentBefore = setup.upstream().received().size();
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> setup.router().chat().chat(
        ChatRequest.newBuilder().setModel(MODEL).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
            .addParts(Part.newBuilder().setImage(Image.newBuilder().setUrl("https://example.com/cat.png")
                .setMimeType("image/png")))).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    assertTrue(error.getStatus().getDescription().contains("Bedrock takes images as bytes or s3:// URLs"),
        error.getStatus().getDescription());
    assertEquals(sentBefore, setup.upstream().received().size());
  }

  private static JsonNode send(ChatRequest request, String answer) {
    setup.upstream().reply(200, "application/json", answer);
    setup.router().chat().chat(request);
    return OpenAiWire.read(setup.upstream().lastRequest().body());
  }

  private static Message user(String text) {
    return Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText(text)).build();
  }
}
