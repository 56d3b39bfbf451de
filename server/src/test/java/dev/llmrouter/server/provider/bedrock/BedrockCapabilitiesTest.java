package dev.llmrouter.server.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ResponseFormat;
import dev.llmrouter.api.v1.ResponseFormatType;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.testing.RouterWithUpstream;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What ListModels says each Bedrock model takes is what Bedrock does: a prefill for the Claude models before 4.6, a
 * JSON schema for the Claude models from 4.5, no schema-less JSON, embeddings for the Titan and Cohere embedding
 * models only (and on Vertex AI, a prefill for Claude before 4.6 as well); what a model lacks is refused with
 * INVALID_ARGUMENT naming the provider and the model, before anything is sent. The prefill and the schema going out
 * and their answers coming back are conformance exchanges (`wire/bedrock/nonstream-prefill.json`,
 * `nonstream-structured-output.json`).
 */
class BedrockCapabilitiesTest {

  private static final String HAIKU_4_5 = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
  private static final String SONNET_4_6 = "us.anthropic.claude-sonnet-4-6";
  private static final String SONNET_3_5 = "anthropic.claude-3-5-sonnet-20240620-v1:0";
  private static final String NOVA = "us.amazon.nova-lite-v1:0";
  private static final String TITAN = "amazon.titan-embed-text-v2:0";

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("""
        cassettes: { mode: "off" }
        providers:
          - { name: bedrock, type: bedrock, region: us-east-1, base_url: "%1$s", models: [%2$s] }
          - { name: bedrock-invoke, type: bedrock, region: us-east-1, bedrock_api: invoke, base_url: "%1$s", models: [%2$s] }
          - { name: vertex, type: vertex, project: p, location: global, base_url: "%1$s", access_token: "${TEST_API_KEY}", models: ["claude-sonnet-4-5@20250929", "claude-sonnet-4-6", text-embedding-005] }
        """.replace("%2$s", String.join(", ", "\"" + HAIKU_4_5 + "\"", "\"" + SONNET_4_6 + "\"",
        "\"" + SONNET_3_5 + "\"", "\"" + NOVA + "\"", "\"" + TITAN + "\"")));
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  @Test
  void listModelsSaysWhatEachModelTakes() {
    Map<String, Capabilities> listed = setup.router().models().listModels(ListModelsRequest.getDefaultInstance())
        .getModelsList().stream().collect(Collectors.toMap(Model::getName, Model::getCapabilities));
    Map<String, List<Boolean>> prefillSchemaJsonObjectEmbeddings = Map.of(
        "bedrock/" + HAIKU_4_5, List.of(true, true, false, false),
        "bedrock/" + SONNET_4_6, List.of(false, true, false, false),
        "bedrock/" + SONNET_3_5, List.of(true, false, false, false),
        "bedrock/" + NOVA, List.of(false, false, false, false),
        "bedrock/" + TITAN, List.of(false, false, false, true),
        "vertex/claude-sonnet-4-5@20250929", List.of(true, true, false, false),
        "vertex/claude-sonnet-4-6", List.of(false, true, false, false));
    prefillSchemaJsonObjectEmbeddings.forEach((model, expected) -> {
      Capabilities capabilities = listed.get(model);
      assertEquals(expected, List.of(capabilities.getPrefill(), capabilities.getStructuredOutput(),
          capabilities.getJsonObject(), capabilities.getEmbeddings()), model);
    });
    assertTrue(listed.get("vertex/text-embedding-005").getEmbeddings());
  }

  /**
   * Through InvokeModel a Claude model takes what Anthropic's Messages API takes (a switch for parallel tool calls,
   * which Converse lacks), save the web search tool, which Bedrock does not run; prefill and schema as on Converse.
   */
  @Test
  void onInvokeModelAClaudeModelTakesWhatTheMessagesApiTakesButWebSearch() {
    Map<String, Capabilities> listed = setup.router().models().listModels(ListModelsRequest.getDefaultInstance())
        .getModelsList().stream().collect(Collectors.toMap(Model::getName, Model::getCapabilities));
    Map<String, List<Boolean>> prefillSchemaParallelToolCallsWebSearch = Map.of(
        "bedrock-invoke/" + HAIKU_4_5, List.of(true, true, true, false),
        "bedrock-invoke/" + SONNET_4_6, List.of(false, true, true, false),
        "bedrock-invoke/" + SONNET_3_5, List.of(true, false, true, false),
        "bedrock/" + HAIKU_4_5, List.of(true, true, false, false));
    prefillSchemaParallelToolCallsWebSearch.forEach((model, expected) -> {
      Capabilities capabilities = listed.get(model);
      assertEquals(expected, List.of(capabilities.getPrefill(), capabilities.getStructuredOutput(),
          capabilities.getSettingsList().contains("parallel_tool_calls"), capabilities.getWebSearch()), model);
    });
  }

  @Test
  void whatAModelLacksIsRefusedNamingItBeforeAnythingIsSent() {
    Struct schema = Struct.newBuilder().build();
    Map<ChatRequest, String> refusals = Map.of(
        prefill(NOVA), "bedrock cannot honour prefill with model " + NOVA,
        prefill(SONNET_4_6), "bedrock cannot honour prefill with model " + SONNET_4_6,
        withFormat(NOVA, ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA, schema),
        "bedrock cannot honour response_format with model " + NOVA,
        withFormat(SONNET_3_5, ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA, schema),
        "bedrock cannot honour response_format with model " + SONNET_3_5,
        withFormat(HAIKU_4_5, ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_OBJECT, schema),
        "bedrock cannot honour response_format with model " + HAIKU_4_5);
    int sentBefore = setup.upstream().received().size();
    refusals.forEach((request, refusal) -> {
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
          () -> setup.router().chat().chat(request));
      assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
      assertTrue(refused.getStatus().getDescription().startsWith(refusal), refused.getStatus().getDescription());
    });
    assertEquals(sentBefore, setup.upstream().received().size(), "nothing is sent upstream");
  }

  private static ChatRequest ask(String model) {
    return ChatRequest.newBuilder().setModel("bedrock/" + model).addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Where is the Eiffel Tower?"))).build();
  }

  private static ChatRequest prefill(String model) {
    return ask(model).toBuilder().addMessages(Message.newBuilder().setRole(Role.ROLE_ASSISTANT)
        .addParts(Part.newBuilder().setText("{"))).build();
  }

  private static ChatRequest withFormat(String model, ResponseFormatType type, Struct schema) {
    ResponseFormat.Builder format = ResponseFormat.newBuilder().setType(type);
    if (type == ResponseFormatType.RESPONSE_FORMAT_TYPE_JSON_SCHEMA) {
      format.setSchema(schema);
    }
    return ask(model).toBuilder().setResponseFormat(format).build();
  }
}
