package dev.llmrouter.cassettes;

import static dev.llmrouter.cassettes.Fixtures.answer;
import static dev.llmrouter.cassettes.Fixtures.cassette;
import static dev.llmrouter.cassettes.Fixtures.sampleCassette;
import static dev.llmrouter.cassettes.Fixtures.textDelta;
import static dev.llmrouter.cassettes.Fixtures.userRequest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Tool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RedactorTest {

  private static final String OPENAI_KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789";
  private static final String ANTHROPIC_KEY = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz-0123456789";
  private static final String GOOGLE_KEY = "AIzaSyA1234567890abcdefghijklmnopqrstuv";

  @Test
  void noPlantedSecretReachesTheWrittenFile(@TempDir Path dir) throws Exception {
    ChatRequest request = userRequest("my key is " + OPENAI_KEY + ", keep it safe").toBuilder()
        .setSettings(GenerationSettings.newBuilder()
            .setMaxOutputTokens(100)
            .setProviderOptions(Struct.newBuilder()
                .putFields("api_key", text("hunter2-plain"))
                .putFields("max_output_tokens", Value.newBuilder().setNumberValue(50).build())))
        .build();
    List<ChatEvent> events = new ArrayList<>(answer("Use " + GOOGLE_KEY + " or " + ANTHROPIC_KEY));
    events.add(1, textDelta("send Authorization: Bearer abc.def please"));
    Cassette cassette = cassette(request, events);
    CassetteStore store = new CassetteStore(dir, 1 << 20, Redactor.defaults());

    store.write("default", cassette);

    String file = Files.readString(store.pathOf("default", cassette.key()));
    for (String secret : List.of("AbCdEfGhIjKlMnOp", "hunter2", "abc.def", "AIzaSy")) {
      assertFalse(file.contains(secret), secret + " is in\n" + file);
    }
    assertTrue(file.contains("\"text\": \"my key is [REDACTED], keep it safe\""), file);
    assertTrue(file.contains("\"text\": \"send Authorization: [REDACTED] please\""), file);
    assertTrue(file.contains("\"api_key\": \"[REDACTED]\""), file);
    assertTrue(file.contains("\"max_output_tokens\": 100"), file);
    assertTrue(file.contains("\"max_output_tokens\": 50"), file);
    assertTrue(file.contains("\"key\": \"" + cassette.key() + "\""), file);
  }

  @Test
  void secretLookingFieldsAreRedactedButTokenCountsAreNot() throws Exception {
    ObjectNode json = (ObjectNode) Json.MAPPER.readTree("""
        {"input_tokens": 5, "output_tokens": 6, "max_output_tokens": 7, "reasoning_tokens": 8,
         "cached_input_tokens": 9, "maxTokens": 10,
         "x-auth-token": "t", "Authorization": "a", "password": "p", "client_secret": "s",
         "apiKey": "k", "API-KEY": "k", "nested": {"credentials": {"secret": {"value": "v"}}},
         "token": null}""");

    ObjectNode redacted = Redactor.defaults().redact(json);

    assertEquals(Json.MAPPER.readTree("""
        {"input_tokens": 5, "output_tokens": 6, "max_output_tokens": 7, "reasoning_tokens": 8,
         "cached_input_tokens": 9, "maxTokens": 10,
         "x-auth-token": "[REDACTED]", "Authorization": "[REDACTED]", "password": "[REDACTED]",
         "client_secret": "[REDACTED]", "apiKey": "[REDACTED]", "API-KEY": "[REDACTED]",
         "nested": {"credentials": {"secret": "[REDACTED]"}}, "token": null}"""), redacted);
    assertEquals("p", json.get("password").textValue());
  }

  @Test
  void proseThatMerelyLooksLikeASecretSurvives() throws Exception {
    ObjectNode json = (ObjectNode) Json.MAPPER.readTree("""
        {"text": "the bearer of bad news; Bearer bonds. task-force sk-short"}""");

    assertEquals(json, Redactor.defaults().redact(json));
  }

  @Test
  void userRulesAddToTheDefaults() throws Exception {
    Redactor redactor = new Redactor(List.of(Pattern.compile("ghp_[A-Za-z0-9]{10,}")), List.of("X-Internal"));
    ObjectNode json = (ObjectNode) Json.MAPPER.readTree("""
        {"text": "ghp_0123456789abc and %s", "x-internal": 42, "x-internal-id": 1}""".formatted(OPENAI_KEY));

    assertEquals(Json.MAPPER.readTree("""
        {"text": "[REDACTED] and [REDACTED]", "x-internal": "[REDACTED]", "x-internal-id": 1}"""),
        redactor.redact(json));
  }

  @Test
  void aCassetteWithoutSecretsIsUnchanged() {
    Cassette cassette = sampleCassette();

    Cassette redacted = Redactor.defaults().redact(cassette);

    assertEquals(cassette, redacted);
    assertArrayEquals(CassetteCodec.write(cassette), CassetteCodec.write(redacted));
  }

  @Test
  void commonSecretsInTextAndSecretFieldsInsideJsonStringsAreRedacted() throws Exception {
    String aws = "AKIA" + "IOSFODNN7EXAMPLE";
    String github = "ghp_" + "a".repeat(36);
    ObjectNode json = (ObjectNode) Json.MAPPER.readTree("""
        {"text": "aws %s, gh %s, and password=hunter2! then slack xoxb-1234567890-abcdef",
         "argumentsJson": "{\\"city\\": \\"Paris\\", \\"token\\": \\"s3cr3t-value\\"}",
         "prose": "the password: please choose one; api key rotation is monthly"}""".formatted(aws, github));

    ObjectNode redacted = Redactor.defaults().redact(json);

    assertEquals("aws [REDACTED], gh [REDACTED], and password=[REDACTED] then slack [REDACTED]",
        redacted.get("text").textValue());
    assertEquals("{\"city\":\"Paris\",\"token\":\"[REDACTED]\"}", redacted.get("argumentsJson").textValue());
    assertEquals(json.get("prose"), redacted.get("prose"), "prose without a secret-looking value survives");
  }

  @Test
  void theMessageCheckFindsEveryRuleInAnyCaseAndLeavesTheRestAlone() {
    // One value per default rule (and a secret-named map key), each in upper, lower or mixed case where its rule allows.
    List<String> secrets = List.of("sk-" + "A".repeat(24), "AIza" + "b".repeat(35), "AKIA" + "IOSFODNN7EXAMPLE",
        "ghp_" + "a".repeat(36), "xoxb-1234567890-abc", "sk_live_" + "c".repeat(16),
        "eyJ" + "a".repeat(10) + ".eyJ" + "b".repeat(10) + "." + "c".repeat(10),
        "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----", "BEARER ab12.cd34", "PassWord=hunter2!");
    for (String secret : secrets) {
      ChatRequest request = userRequest("my key is " + secret + ", keep it");

      ChatRequest redacted = Redactor.defaults().redact(request);

      assertFalse(redacted.toString().contains(secret), secret + " survived: " + redacted);
      assertTrue(redacted.toString().contains(Redactor.REPLACEMENT), secret);
    }
    ChatRequest plain = userRequest("What is the capital of France? Ask the PASSPORT office.");
    assertTrue(plain == Redactor.defaults().redact(plain), "a message without a secret is returned as it is");
  }

  @Test
  void toolSchemasThatDefineSecretNamedPropertiesAreNotTouched(@TempDir Path dir) throws Exception {
    Struct schema = Struct.newBuilder().putFields("type", text("object")).putFields("properties", Value.newBuilder()
        .setStructValue(Struct.newBuilder()
            .putFields("api_key", Value.newBuilder().setStructValue(Struct.newBuilder()
                .putFields("type", text("string")).putFields("description", text("The caller's key"))).build())
            .putFields("token", Value.newBuilder().setStructValue(Struct.newBuilder()
                .putFields("type", text("string"))).build())).build())
        .build();
    ChatRequest request = userRequest("Call the API").toBuilder().addTools(Tool.newBuilder()
        .setName("call_api").setParameters(schema)).build();
    CanonicalRequest canonical = CanonicalRequest.of(request);
    CassetteStore store = new CassetteStore(dir, 1 << 20, Redactor.defaults());

    store.write("default", cassette(request, answer("Done.")));

    Cassette written = CassetteCodec.read(Files.readAllBytes(store.pathOf("default", canonical.key())),
        store.pathOf("default", canonical.key()));
    assertEquals(canonical.json(), written.request(), "the recorded schema is the one sent, so it re-keys");
  }

  @Test
  void anAnswerThatHadToBeRedactedIsMarkedSoItsReplayIsVisiblyNotTheLiveOne(@TempDir Path dir) throws Exception {
    CassetteStore store = new CassetteStore(dir, 1 << 20, Redactor.defaults());
    Cassette echoed = cassette(userRequest("What was my key?"), answer("Your key is " + OPENAI_KEY));
    Cassette clean = cassette(userRequest("Hi"), answer("Hello!"));

    store.write("default", echoed);
    store.write("default", clean);

    Path echoedFile = store.pathOf("default", echoed.key());
    assertTrue(Files.readString(echoedFile).contains("\"redacted\": true"));
    assertTrue(CassetteCodec.read(Files.readAllBytes(echoedFile), echoedFile).takes().get(0).redacted());
    Path cleanFile = store.pathOf("default", clean.key());
    assertFalse(Files.readString(cleanFile).contains("redacted"));
    assertFalse(CassetteCodec.read(Files.readAllBytes(cleanFile), cleanFile).takes().get(0).redacted());
  }

  private static Value text(String value) {
    return Value.newBuilder().setStringValue(value).build();
  }
}
