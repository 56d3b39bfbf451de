package dev.llmrouter.server.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.util.JsonFormat;
import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.ProviderWire;
import dev.llmrouter.server.testing.RouterWithUpstream;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden files of the exact JSON each adapter sends upstream for a fixed set of requests (system prompt, multi-turn
 * with tool calls and results, images, structured output, thinking, every setting), switched by the adapter's
 * declared capabilities; the settings a model cannot honour are dropped (`dropUnsupportedSettings`), so a golden
 * shows what is sent of them. Rewrite them after an intended change with `-Dllmrouter.golden.rewrite=true`.
 */
class RequestGoldenTest {

  private static final Path GOLDEN = Path.of("src/test/resources/golden");
  private static final boolean REWRITE = Boolean.getBoolean("llmrouter.golden.rewrite");
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final String PNG = Base64.getEncoder().encodeToString(new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2});

  /** One fixed request and the capability it needs. */
  record Case(String name, Predicate<Capabilities> needs, String requestJson) {
    @Override
    public String toString() {
      return name;
    }
  }

  static final List<Case> CASES = List.of(
      new Case("system-prompt", c -> true, """
          {"messages": [{"role": "ROLE_SYSTEM", "parts": [{"text": "You answer in one sentence."}]},
                        {"role": "ROLE_USER", "parts": [{"text": "Why is the sky blue?"}]}]}
          """),
      new Case("multi-turn-tools", Capabilities::getTools, """
          {"messages": [
             {"role": "ROLE_USER", "parts": [{"text": "Weather in Paris and Rome?"}]},
             {"role": "ROLE_ASSISTANT", "parts": [{"text": "Let me check."}], "toolCalls": [
                {"id": "call_a", "name": "get_weather", "argumentsJson": "{\\"city\\":\\"Paris\\"}"},
                {"id": "call_b", "name": "get_weather", "argumentsJson": "{\\"city\\":\\"Rome\\"}"}]},
             {"role": "ROLE_TOOL", "toolCallId": "call_a", "parts": [{"text": "18C, sunny"}]},
             {"role": "ROLE_TOOL", "toolCallId": "call_b", "parts": [{"text": "24C, cloudy"}]},
             {"role": "ROLE_USER", "parts": [{"text": "Which is warmer?"}]}],
           "tools": [{"name": "get_weather", "description": "Current weather for a city.",
                      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
           "toolChoice": {"mode": "TOOL_CHOICE_MODE_AUTO"}, "parallelToolCalls": true,
           "dropUnsupportedSettings": true}
          """),
      new Case("images", Capabilities::getVision, """
          {"messages": [{"role": "ROLE_USER", "parts": [{"text": "Compare these."},
             {"image": {"data": "%s", "mimeType": "image/png"}},
             {"image": {"url": "https://example.com/cat.jpg"}}]}]}
          """.formatted(PNG)),
      new Case("structured-output", Capabilities::getStructuredOutput, """
          {"messages": [{"role": "ROLE_USER", "parts": [{"text": "Largest city of Japan?"}]}],
           "responseFormat": {"type": "RESPONSE_FORMAT_TYPE_JSON_SCHEMA", "schemaName": "city", "strict": true,
             "schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                        "additionalProperties": false}}}
          """),
      new Case("thinking", Capabilities::getReasoning, """
          {"messages": [
             {"role": "ROLE_USER", "parts": [{"text": "Is 91 prime?"}]},
             {"role": "ROLE_ASSISTANT", "parts": [
                {"reasoning": {"text": "91 = 7 x 13.", "signature": "sig-%1$s", "provider": "%2$s"}},
                {"text": "No: 91 = 7 x 13."}]},
             {"role": "ROLE_USER", "parts": [{"text": "And 97?"}]}],
           "settings": {"reasoningEffort": "REASONING_EFFORT_HIGH", "maxOutputTokens": 2048}}
          """),
      new Case("every-setting", c -> true, """
          {"messages": [{"role": "ROLE_USER", "parts": [{"text": "Name a colour."}]}],
           "settings": {"temperature": 0.7, "topP": 0.9, "maxOutputTokens": 64, "stopSequences": ["END"], "seed": 42,
                        "presencePenalty": 0.5, "frequencyPenalty": -0.5,
                        "providerOptions": {"user": "golden-test"}},
           "dropUnsupportedSettings": true}
          """));

  private static RouterWithUpstream setup;

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("cassettes: { mode: \"off\" }\n"
        // Adapters are tested here, not resilience: one attempt, and no circuit opened by the error cases.
        + "retry: { max_attempts: 1 }\ncircuit_breaker: { failure_threshold: 1000 }\nproviders:\n"
        + ProviderConformanceTest.WIRES.stream().map(w -> "  - { name: %1$s, type: %1$s, base_url: \"%2$s\", "
            .formatted(w.type(), "%1$s") + "api_key: \"${TEST_API_KEY}\", models: [golden-model]"
            + (w.requiredSettings().isEmpty() ? "" : ", " + w.requiredSettings()) + " }\n")
            .collect(Collectors.joining()));
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  static Stream<Arguments> goldens() {
    return ProviderConformanceTest.WIRES.stream().flatMap(wire -> CASES.stream().map(c -> Arguments.of(wire, c)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("goldens")
  void theAdapterSendsTheGoldenRequest(ProviderWire wire, Case goldenCase) throws IOException {
    Capabilities capabilities = setup.router().models().listModels(ListModelsRequest.newBuilder()
        .setProvider(wire.type()).build()).getModelsList().stream().map(Model::getCapabilities).findFirst().orElseThrow();
    assumeTrue(goldenCase.needs().test(capabilities), wire.type() + " does not declare what " + goldenCase + " needs");
    setup.upstream().reply(500, "application/json", "{\"error\":{\"message\":\"golden test: not answered\"}}");
    setup.upstream().received().clear();
    ChatRequest.Builder request = ChatRequest.newBuilder().setModel(wire.type() + "/golden-model");
    // Reasoning tagged as the model's own (the type, or the type and publisher on Vertex AI): it goes back upstream.
    JsonFormat.parser().merge(goldenCase.requestJson().replace("%1$s", wire.type())
        .replace("%2$s", ProviderTypes.reasoningSigner(wire.type(), "golden-model")), request);
    // The upstream's 500 comes back as UNAVAILABLE; any other failure is the router refusing the request.
    StatusRuntimeException failure = assertThrows(StatusRuntimeException.class,
        () -> setup.router().chat().chat(request.build()));
    assertEquals(Status.Code.UNAVAILABLE, failure.getStatus().getCode(), failure::toString);
    assertEquals(1, setup.upstream().received().size(), "one request reached the upstream");
    MockUpstream.Received sent = setup.upstream().lastRequest();
    ObjectNode actual = JSON.createObjectNode().put("path", sent.uri());
    actual.set("body", JSON.readTree(sent.body()));
    String actualText = JSON.writeValueAsString(actual) + "\n";
    Path file = GOLDEN.resolve(wire.type()).resolve(goldenCase.name() + ".json");
    if (REWRITE) {
      Files.createDirectories(file.getParent());
      Files.writeString(file, actualText);
    }
    assertTrue(Files.exists(file), () -> "no golden file " + file + ": create it with mvn -pl server -am test "
        + "-Dtest=RequestGoldenTest -Dsurefire.failIfNoSpecifiedTests=false -Dllmrouter.golden.rewrite=true, "
        + "then review and commit it");
    JsonNode golden = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
    assertEquals(JSON.writeValueAsString(golden) + "\n", actualText, file + " differs");
  }
}
