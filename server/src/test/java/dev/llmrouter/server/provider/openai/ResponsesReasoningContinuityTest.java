package dev.llmrouter.server.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Reasoning;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.OpenAiWire;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.TwoUpstreams;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * OpenAI's encrypted reasoning across the turns of a conversation through `openai-responses` deployments: it comes
 * back tagged with the deployment and key that produced it, goes back to that deployment with that key (though the
 * deployment's keys otherwise take turns), and is left out, the visible history kept, when a fallback or the caller
 * sends the conversation to another deployment or key.
 */
class ResponsesReasoningContinuityTest {

  /** Turn one, streamed: reasoning (encrypted anew in the final Response, as OpenAI does), then a function call. */
  private static final String REASONING_THEN_CALL = """
      event: response.created
      data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","created_at":1755000100,"status":"in_progress","model":"gpt-5-2025-08-07","output":[],"usage":null}}

      event: response.output_item.done
      data: {"type":"response.output_item.done","sequence_number":1,"output_index":0,"item":{"id":"rs_1","type":"reasoning","encrypted_content":"gAAAAB-streamed-item","summary":[]}}

      event: response.output_item.added
      data: {"type":"response.output_item.added","sequence_number":2,"output_index":1,"item":{"id":"fc_1","type":"function_call","status":"in_progress","arguments":"","call_id":"call_oslo","name":"get_weather"}}

      event: response.function_call_arguments.delta
      data: {"type":"response.function_call_arguments.delta","sequence_number":3,"item_id":"fc_1","output_index":1,"delta":"{\\"city\\":\\"Oslo\\"}"}

      event: response.output_item.done
      data: {"type":"response.output_item.done","sequence_number":4,"output_index":1,"item":{"id":"fc_1","type":"function_call","status":"completed","arguments":"{\\"city\\":\\"Oslo\\"}","call_id":"call_oslo","name":"get_weather"}}

      event: response.completed
      data: {"type":"response.completed","sequence_number":5,"response":{"id":"resp_1","object":"response","created_at":1755000100,"status":"completed","model":"gpt-5-2025-08-07","output":[{"id":"rs_1","type":"reasoning","encrypted_content":"gAAAAB-turn-one","summary":[]},{"id":"fc_1","type":"function_call","status":"completed","arguments":"{\\"city\\":\\"Oslo\\"}","call_id":"call_oslo","name":"get_weather"}],"usage":{"input_tokens":40,"input_tokens_details":{"cached_tokens":0},"output_tokens":90,"output_tokens_details":{"reasoning_tokens":64},"total_tokens":130}}}

      """;

  /** Turn two, whole: the answer in words. */
  private static final String ANSWER = """
      {"id": "resp_2", "object": "response", "created_at": 1755000101, "status": "completed", "model": "gpt-5-2025-08-07",
       "output": [{"id": "msg_2", "type": "message", "status": "completed", "role": "assistant",
                   "content": [{"type": "output_text", "annotations": [], "text": "7C and rain in Oslo."}]}],
       "usage": {"input_tokens": 160, "input_tokens_details": {"cached_tokens": 128}, "output_tokens": 9,
                 "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 169}}
      """;

  private static TwoUpstreams setup;

  @BeforeAll
  static void start() {
    setup = TwoUpstreams.start("""
        cassettes: { mode: "off" }
        retry: { max_attempts: 1 }
        providers:
          - { name: oair-a, type: openai-responses, base_url: "%1$s/v1", api_keys: ["${TEST_API_KEY}", "${TEST_API_KEY_2}"] }
          - { name: oair-b, type: openai-responses, base_url: "%2$s/v1", api_key: "${TEST_API_KEY}" }
        models:
          - alias: reasoner
            strategy: fallback
            targets: [{ model: oair-a/gpt-5 }, { model: oair-b/gpt-5 }]
        """);
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  @BeforeEach
  void forgetRequests() {
    setup.forgetRequests();
  }

  @Test
  void theEncryptedReasoningGoesBackToTheDeploymentAndKeyThatProducedIt() {
    ChatRequest first = ask("reasoner");
    ChatResponse turnOne = turnOne(first);
    String keyOfTurnOne = setup.a().lastRequest().headers().get("authorization");
    Reasoning reasoning = turnOne.getMessage().getParts(0).getReasoning();
    assertEquals("gAAAAB-turn-one", reasoning.getSignature(), "the final Response's encrypted content");
    assertEquals("openai-responses", reasoning.getProvider());
    assertEquals("oair-a", reasoning.getDeployment());
    assertEquals(keyOfTurnOne.equals("Bearer " + RunningRouter.TEST_KEY) ? "TEST_API_KEY" : "TEST_API_KEY_2",
        reasoning.getCredential());
    JsonNode sentFirst = OpenAiWire.read(setup.a().lastRequest().body());
    assertFalse(sentFirst.path("store").asBoolean(true), "stateless");
    assertEquals("reasoning.encrypted_content", sentFirst.at("/include/0").asText());

    setup.a().reply(200, "application/json", ANSWER);
    ChatResponse turnTwo = setup.router().chat().chat(withToolResult(first, turnOne));

    assertEquals("7C and rain in Oslo.", turnTwo.getMessage().getParts(0).getText());
    MockUpstream.Received sent = setup.a().lastRequest();
    // The deployment's two keys take turns; this conversation stays with the key its reasoning came from.
    assertEquals(keyOfTurnOne, sent.headers().get("authorization"));
    assertEquals(List.of("user", "reasoning", "function_call", "function_call_output"), kinds(sent));
    JsonNode input = OpenAiWire.read(sent.body()).path("input");
    assertEquals("gAAAAB-turn-one", input.at("/1/encrypted_content").asText());
    assertEquals(0, input.at("/1/summary").size());
    assertTrue(input.path(1).path("id").isMissingNode(), "no item id: nothing is stored on OpenAI's side");
    assertEquals(turnOne.getMessage().getToolCalls(0).getId(), input.at("/2/call_id").asText());
    assertEquals(input.at("/2/call_id"), input.at("/3/call_id"));
  }

  @Test
  void aFallbackToAnotherDeploymentDropsTheEncryptedReasoningAndKeepsTheVisibleHistory() {
    ChatRequest first = ask("reasoner");
    ChatResponse turnOne = turnOne(first);
    setup.forgetRequests();

    setup.a().reply(503, "application/json", "{\"error\": {\"message\": \"The engine is currently overloaded.\", "
        + "\"type\": \"server_error\", \"param\": null, \"code\": null}}");
    setup.b().reply(200, "application/json", ANSWER);
    ChatResponse turnTwo = setup.router().chat().chat(withToolResult(first, turnOne));

    assertEquals("7C and rain in Oslo.", turnTwo.getMessage().getParts(0).getText());
    assertEquals("oair-b", turnTwo.getOrigin().getDeployment());
    assertEquals(List.of("user", "reasoning", "function_call", "function_call_output"), kinds(setup.a().lastRequest()),
        "the deployment that produced the reasoning was sent it");
    assertEquals(List.of("user", "function_call", "function_call_output"), kinds(setup.b().lastRequest()),
        "the other one gets the visible history only");
  }

  @Test
  void reasoningOfAKeyTheDeploymentNoLongerHasIsLeftOut() {
    Message earlierTurn = Message.newBuilder().setRole(Role.ROLE_ASSISTANT)
        .addParts(Part.newBuilder().setReasoning(Reasoning.newBuilder().setSignature("gAAAAB-retired-key")
            .setProvider("openai-responses").setDeployment("oair-b").setCredential("RETIRED_API_KEY")))
        .addParts(Part.newBuilder().setText("Hello!")).build();
    ChatRequest request = ask("oair-b/gpt-5").toBuilder().addMessages(earlierTurn)
        .addMessages(user("Thanks.")).build();
    setup.b().reply(200, "application/json", ANSWER);

    setup.router().chat().chat(request);

    assertEquals(List.of("user", "assistant", "user"), kinds(setup.b().lastRequest()));
  }

  /** Streams turn one from upstream a and returns its complete response. */
  private static ChatResponse turnOne(ChatRequest first) {
    setup.a().reply(200, "text/event-stream", REASONING_THEN_CALL);
    List<ChatEvent> events = new ArrayList<>();
    setup.router().chat().streamChat(first).forEachRemaining(events::add);
    ChatResponse response = events.get(events.size() - 1).getDone().getResponse();
    assertEquals("oair-a", response.getOrigin().getDeployment());
    return response;
  }

  private static ChatRequest ask(String model) {
    return ChatRequest.newBuilder().setModel(model).addMessages(user("Weather in Oslo?"))
        .addTools(Tool.newBuilder().setName("get_weather").setDescription("Current weather for a city.")
            .setParameters(ProtoJson.toStruct(OpenAiWire.read("{\"type\": \"object\", \"properties\": "
                + "{\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}"))))
        .build();
  }

  /** The conversation after turn one: its answer, then the result of the function it called. */
  private static ChatRequest withToolResult(ChatRequest first, ChatResponse turnOne) {
    return first.toBuilder().addMessages(turnOne.getMessage()).addMessages(Message.newBuilder()
        .setRole(Role.ROLE_TOOL).setToolCallId(turnOne.getMessage().getToolCalls(0).getId())
        .addParts(Part.newBuilder().setText("7C, rain"))).build();
  }

  private static Message user(String text) {
    return Message.newBuilder().setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText(text)).build();
  }

  /** The kind of each input item an upstream received: its type, or the role of a message. */
  private static List<String> kinds(MockUpstream.Received sent) {
    return StreamSupport.stream(OpenAiWire.read(sent.body()).path("input").spliterator(), false)
        .map(item -> item.path("type").asText(item.path("role").asText())).toList();
  }
}
