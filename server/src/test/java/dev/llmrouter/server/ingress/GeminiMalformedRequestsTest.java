package dev.llmrouter.server.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmrouter.server.testing.RouterWithUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Requests the Gemini dialect must refuse before anything goes upstream: each gets a Google-shaped 4xx whose message
 * names the field or the problem, the upstream receives nothing, and nothing is recorded though the router records
 * every call.
 */
class GeminiMalformedRequestsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CALL = "/v1beta/models/gemini/gemini-2.5-flash:generateContent";
  private static final String USER = "{\"role\": \"user\", \"parts\": [{\"text\": \"Hi\"}]}";
  private static final String ASK = "{\"contents\": [" + USER + "]%s}";

  @TempDir
  static Path cassettes;
  private static RouterWithUpstream setup;
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() {
    setup = RouterWithUpstream.start("""
        max_message_bytes: 262144
        cassettes: { dir: "%s", mode: record }
        providers:
          - { name: gemini, type: gemini, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
        """.formatted(cassettes));
    setup.upstream().reply(200, "application/json", """
        {"candidates": [{"content": {"parts": [{"text": "Hello."}], "role": "model"}, "finishReason": "STOP"}]}""");
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
  }

  private static Arguments refused(String body, String named) {
    return Arguments.of(CALL, body, 400, named);
  }

  private static Arguments withContents(String contents, String named) {
    return refused("{\"contents\": " + contents + "}", named);
  }

  static Stream<Arguments> malformed() {
    String png = "{\"inlineData\": {\"mimeType\": \"image/png\", \"data\": \"iVBORw0KGgo=\"}}";
    return Stream.of(
        refused("{not json", "body"),
        refused("[]", "body"),
        refused("", "body"),
        refused("{}", "contents"),
        withContents("{}", "contents"),
        withContents("[]", "contents"),
        withContents("[{\"role\": \"assistant\", \"parts\": [{\"text\": \"Hi\"}]}]", "contents[0].role"),
        withContents("[{\"role\": \"user\"}]", "contents[0].parts"),
        withContents("[{\"role\": \"user\", \"parts\": \"Hi\"}]", "contents[0].parts"),
        withContents("[{\"role\": \"user\", \"parts\": [{}]}]", "contents[0].parts[0]"),
        withContents("[{\"role\": \"user\", \"parts\": [{\"text\": 5}]}]", "contents[0].parts[0].text"),
        withContents("[{\"role\": \"user\", \"parts\": [{\"text\": \"Hi\", " + png.substring(1) + "]}]",
            "contents[0].parts[0]"),
        withContents("[{\"role\": \"user\", \"parts\": [{\"executableCode\": {\"code\": \"1+1\"}}]}]",
            "contents[0].parts[0].executableCode"),
        withContents("[{\"role\": \"user\", \"parts\": [{\"inlineData\": {\"mimeType\": \"image/png\", "
            + "\"data\": \"%%%\"}}]}]", "contents[0].parts[0].inlineData.data"),
        withContents("[{\"role\": \"user\", \"parts\": [{\"inlineData\": {\"mimeType\": \"audio/mp3\", "
            + "\"data\": \"AAAA\"}}]}]", "contents[0].parts[0].inlineData.mimeType"),
        withContents("[{\"role\": \"user\", \"parts\": [{\"fileData\": {\"fileUri\": \"gs://bucket/cat.png\"}}]}]",
            "contents[0].parts[0].fileData.fileUri"),
        withContents("[{\"role\": \"user\", \"parts\": [{\"text\": \"Hi\", \"thought\": true}]}]",
            "contents[0].parts[0].thought"),
        withContents("[{\"role\": \"user\", \"parts\": [{\"functionResponse\": {\"name\": \"weather\", "
            + "\"response\": {\"result\": \"24C\"}}}]}]", "contents[0].parts[0].functionResponse"),
        withContents("[" + USER + ", {\"role\": \"model\", \"parts\": [{\"functionCall\": {\"name\": \"weather\", "
            + "\"args\": {}}}]}, {\"role\": \"user\", \"parts\": [{\"functionResponse\": {\"name\": \"time\", "
            + "\"response\": {\"result\": \"noon\"}}}]}]", "contents[2].parts[0].functionResponse"),
        withContents("[" + USER + ", {\"role\": \"model\", \"parts\": [{\"functionCall\": {\"id\": \"a\", "
            + "\"name\": \"weather\", \"args\": {}}}]}, {\"role\": \"user\", \"parts\": [{\"functionResponse\": "
            + "{\"id\": \"z\", \"name\": \"weather\", \"response\": {}}}]}]", "contents[2].parts[0].functionResponse"),
        withContents("[{\"role\": \"user\", \"parts\": [{\"functionCall\": {\"name\": \"weather\", \"args\": {}}}]}]",
            "contents[0].parts[0].functionCall"),
        withContents("[" + USER + ", {\"role\": \"model\", \"parts\": [" + png + "]}]",
            "contents[1].parts[0].inlineData"),
        withContents("[" + USER + ", {\"role\": \"model\", \"parts\": [{\"functionCall\": {\"name\": \"weather\", "
            + "\"args\": \"city=Paris\"}}]}]", "contents[1].parts[0].functionCall.args"),
        refused(ASK.formatted(", \"generationConfig\": {\"temperature\": \"hot\"}"), "generationConfig.temperature"),
        refused(ASK.formatted(", \"generationConfig\": {\"maxOutputTokens\": 1.5}"),
            "generationConfig.maxOutputTokens"),
        refused(ASK.formatted(", \"generationConfig\": {\"seed\": \"lucky\"}"), "generationConfig.seed"),
        refused(ASK.formatted(", \"generationConfig\": {\"candidateCount\": 2}"), "generationConfig.candidateCount"),
        refused(ASK.formatted(", \"generationConfig\": {\"responseMimeType\": \"text/x.enum\"}"),
            "generationConfig.responseMimeType"),
        refused(ASK.formatted(", \"generationConfig\": {\"responseModalities\": [\"IMAGE\"]}"),
            "generationConfig.responseModalities"),
        refused(ASK.formatted(", \"generationConfig\": {\"responseLogprobs\": true}"),
            "generationConfig.responseLogprobs"),
        refused(ASK.formatted(", \"generationConfig\": {\"temperature\": 1}, \"generation_config\": "
            + "{\"temperature\": 1}"), "given twice"),
        refused(ASK.formatted(", \"tools\": [{\"googleSearch\": {}}]"), "tools[0].googleSearch"),
        refused(ASK.formatted(", \"tools\": [{\"codeExecution\": {}}]"), "tools[0].codeExecution"),
        refused(ASK.formatted(", \"tools\": [{\"functionDeclarations\": [{\"description\": \"no name\"}]}]"),
            "tools[0].functionDeclarations[0].name"),
        refused(ASK.formatted(", \"toolConfig\": {\"functionCallingConfig\": {\"mode\": \"SOMETIMES\"}}"),
            "toolConfig.functionCallingConfig.mode"),
        refused(ASK.formatted(", \"toolConfig\": {\"functionCallingConfig\": {\"mode\": \"AUTO\", "
            + "\"allowedFunctionNames\": [\"weather\"]}}"), "toolConfig.functionCallingConfig.allowedFunctionNames"),
        refused(ASK.formatted(", \"cachedContent\": \"cachedContents/abc\""), "cachedContent"),
        refused(ASK.formatted(", \"systemInstruction\": {\"parts\": [" + png + "]}"),
            "systemInstruction.parts[0].inlineData"),
        refused(ASK.formatted(", \"frobnicate\": true"), "frobnicate"),
        Arguments.of(CALL.replace(":generateContent", ":streamGenerateContent?alt=proto"), ASK.formatted(""), 400,
            "alt"),
        Arguments.of(CALL.replace("gemini/gemini-2.5-flash", "nobody/x"), ASK.formatted(""), 404, "nobody/x"),
        Arguments.of(CALL, ASK.formatted(", \"labels\": {\"padding\": \"" + "x".repeat(300_000) + "\"}"), 413,
            "max_message_bytes"));
  }

  @ParameterizedTest(name = "{3}: {1}")
  @MethodSource("malformed")
  void aMalformedRequestIsRefusedNamingTheProblemAndNothingGoesUpstreamOrOnDisk(String path, String body,
      int status, String named) throws Exception {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + setup.router().port() + path))
        .header("content-type", "application/json").header("x-goog-api-key", "AIza-caller")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(status, response.statusCode(), response.body());
    JsonNode error = JSON.readTree(response.body()).get("error");
    assertEquals(status, error.get("code").asInt());
    assertTrue(error.get("message").asText().contains(named), () -> named + " not named in " + error);
    assertTrue(setup.upstream().received().isEmpty(), "nothing goes upstream");
    try (Stream<Path> files = Files.walk(cassettes)) {
      assertEquals(List.of(cassettes), files.toList(), "nothing is recorded");
    }
  }
}
