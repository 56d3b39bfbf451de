package dev.llmrouter.cassettes;

import static dev.llmrouter.cassettes.Fixtures.message;
import static dev.llmrouter.cassettes.Fixtures.userRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Document;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.ToolCall;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class CanonicalRequestTest {

  @Test
  void canonicalFormIsSortedCompactJsonAndTheKeyIsItsSha256() throws Exception {
    ChatRequest request = ChatRequest.newBuilder()
        .setModel("openai/gpt-4o-mini")
        .addMessages(message(Role.ROLE_SYSTEM, "Be brief."))
        .addMessages(message(Role.ROLE_USER, "Hi"))
        .setSettings(GenerationSettings.newBuilder().setTemperature(0.2).setMaxOutputTokens(100))
        .build();

    CanonicalRequest canonical = CanonicalRequest.of(request);

    String expected = "{\"messages\":[{\"parts\":[{\"text\":\"Be brief.\"}],\"role\":\"ROLE_SYSTEM\"},"
        + "{\"parts\":[{\"text\":\"Hi\"}],\"role\":\"ROLE_USER\"}],\"model\":\"openai/gpt-4o-mini\","
        + "\"settings\":{\"max_output_tokens\":100,\"temperature\":0.2}}";
    assertEquals(expected, Json.compactString(canonical.json()));
    String sha256 = HexFormat.of().formatHex(
        MessageDigest.getInstance("SHA-256").digest(expected.getBytes(StandardCharsets.UTF_8)));
    assertEquals(sha256, canonical.key());
    assertEquals(sha256.substring(0, 16), canonical.shortKey());
  }

  @Test
  void metadataIsNotInTheKey() {
    ChatRequest plain = userRequest("Hi");
    ChatRequest tagged = plain.toBuilder().putMetadata("trace-id", "abc123").putMetadata("user", "ann").build();

    assertEquals(CanonicalRequest.of(plain).key(), CanonicalRequest.of(tagged).key());
    assertFalse(CanonicalRequest.of(tagged).json().has("metadata"));
  }

  @Test
  void toolCallIdsAreRenumberedByFirstAppearance() {
    ChatRequest fromOpenAi = weatherConversation("call_Xy12", "call_Zz99");
    ChatRequest fromAnthropic = weatherConversation("toolu_01A", "toolu_01B");

    CanonicalRequest canonical = CanonicalRequest.of(fromOpenAi);
    assertEquals(canonical.key(), CanonicalRequest.of(fromAnthropic).key());
    var messages = canonical.json().get("messages");
    assertEquals("call_1", messages.get(1).get("tool_calls").get(0).get("id").textValue());
    assertEquals("call_2", messages.get(1).get("tool_calls").get(1).get("id").textValue());
    assertEquals("call_2", messages.get(2).get("tool_call_id").textValue());
    assertEquals("call_1", messages.get(3).get("tool_call_id").textValue());
  }

  @Test
  void answeringTheOtherCallIsADifferentRequest() {
    ChatRequest answersInOrder = weatherConversation("a", "b");
    ChatRequest swapped = answersInOrder.toBuilder()
        .setMessages(2, answersInOrder.getMessages(2).toBuilder().setToolCallId("a"))
        .setMessages(3, answersInOrder.getMessages(3).toBuilder().setToolCallId("b"))
        .build();

    assertNotEquals(CanonicalRequest.of(answersInOrder).key(), CanonicalRequest.of(swapped).key());
  }

  @Test
  void numbersHaveOneFormAndKeyOrderDoesNotMatter() throws Exception {
    ChatRequest integral = parse("{\"model\": \"m\", \"settings\": {\"temperature\": 1,"
        + " \"provider_options\": {\"b\": {\"y\": 2, \"x\": 0.5}, \"a\": 3}}}");
    ChatRequest decimal = parse("{\"settings\": {\"provider_options\": {\"a\": 3.0, \"b\": {\"x\": 0.50,"
        + " \"y\": 2.0}}, \"temperature\": 1.0}, \"model\": \"m\"}");

    CanonicalRequest canonical = CanonicalRequest.of(integral);
    assertEquals(canonical.key(), CanonicalRequest.of(decimal).key());
    assertEquals("{\"model\":\"m\",\"settings\":{\"provider_options\":{\"a\":3,\"b\":{\"x\":0.5,\"y\":2}},"
        + "\"temperature\":1}}", Json.compactString(canonical.json()));
  }

  @Test
  void structKeysInsertedInAnotherOrderGiveTheSameKey() {
    Struct ab = Struct.newBuilder().putFields("a", number(1)).putFields("b", number(2)).build();
    Struct ba = Struct.newBuilder().putFields("b", number(2)).putFields("a", number(1)).build();

    assertEquals(CanonicalRequest.of(withProviderOptions(ab)).key(),
        CanonicalRequest.of(withProviderOptions(ba)).key());
  }

  @Test
  void binaryPartsAreReplacedByTheSha256OfTheirBytes() throws Exception {
    byte[] png = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
    byte[] pdf = "%PDF-1.7 tiny".getBytes(StandardCharsets.US_ASCII);
    ChatRequest request = ChatRequest.newBuilder().setModel("m").addMessages(Message.newBuilder()
            .setRole(Role.ROLE_USER)
            .addParts(Part.newBuilder().setImage(Image.newBuilder()
                .setData(ByteString.copyFrom(png)).setMimeType("image/png")))
            .addParts(Part.newBuilder().setDocument(Document.newBuilder()
                .setData(ByteString.copyFrom(pdf)).setMimeType("application/pdf"))))
        .build();

    CanonicalRequest canonical = CanonicalRequest.of(request);
    var parts = canonical.json().get("messages").get(0).get("parts");
    assertEquals("sha256:" + sha256(png), parts.get(0).get("image").get("data").textValue());
    assertEquals("sha256:" + sha256(pdf), parts.get(1).get("document").get("data").textValue());
    assertFalse(Json.compactString(canonical.json()).contains(Base64.getEncoder().encodeToString(png)));

    png[6] = 4;
    ChatRequest otherImage = request.toBuilder().setMessages(0, request.getMessages(0).toBuilder()
        .setParts(0, Part.newBuilder().setImage(Image.newBuilder()
            .setData(ByteString.copyFrom(png)).setMimeType("image/png")))).build();
    assertNotEquals(canonical.key(), CanonicalRequest.of(otherImage).key());
  }

  @Test
  void everythingButMetadataCounts() {
    String key = CanonicalRequest.of(userRequest("Hi")).key();

    assertNotEquals(key, CanonicalRequest.of(userRequest("Hi").toBuilder().setModel("OpenAI/gpt-4o-mini")
        .build()).key());
    assertNotEquals(key, CanonicalRequest.of(userRequest("Hi").toBuilder().setParallelToolCalls(false)
        .build()).key());
    assertNotEquals(key, CanonicalRequest.of(userRequest("Hi ")).key());
  }

  @Test
  void theOptInToDropUnsupportedSettingsIsInTheKeyOnlyWhenSet() {
    ChatRequest plain = userRequest("Hi");

    assertEquals(CanonicalRequest.of(plain).key(),
        CanonicalRequest.of(plain.toBuilder().setDropUnsupportedSettings(false).build()).key());
    CanonicalRequest dropping = CanonicalRequest.of(plain.toBuilder().setDropUnsupportedSettings(true).build());
    assertNotEquals(CanonicalRequest.of(plain).key(), dropping.key());
    assertTrue(dropping.json().path("drop_unsupported_settings").asBoolean());
  }

  @Test
  void jsonIsACopy() {
    CanonicalRequest canonical = CanonicalRequest.of(userRequest("Hi"));

    canonical.json().put("model", "changed");

    assertEquals("openai/gpt-4o-mini", canonical.json().get("model").textValue());
    assertTrue(CanonicalRequest.isKey(canonical.key()));
  }

  @Test
  void theKeyIsRecomputedFromTheRequestStoredInACassette() throws Exception {
    ChatRequest request = weatherConversation("call_a", "call_b").toBuilder()
        .setSettings(GenerationSettings.newBuilder().setTemperature(0.7).setTopP(1.0).setSeed(42))
        .build();
    Cassette cassette = Fixtures.cassette(request, Fixtures.answer("Sunny."));

    Cassette readBack = CassetteCodec.read(CassetteCodec.write(cassette), null);

    assertEquals(cassette.key(), CanonicalRequest.keyOf(readBack.request()));
  }

  /** User asks, assistant calls two tools, both results come back in reverse order. */
  private static ChatRequest weatherConversation(String firstId, String secondId) {
    return ChatRequest.newBuilder()
        .setModel("openai/gpt-4o-mini")
        .addMessages(message(Role.ROLE_USER, "Weather in Paris and Rome?"))
        .addMessages(Message.newBuilder().setRole(Role.ROLE_ASSISTANT)
            .addToolCalls(ToolCall.newBuilder().setId(firstId).setName("weather")
                .setArgumentsJson("{\"city\":\"Paris\"}"))
            .addToolCalls(ToolCall.newBuilder().setId(secondId).setName("weather")
                .setArgumentsJson("{\"city\":\"Rome\"}")))
        .addMessages(message(Role.ROLE_TOOL, "24C").toBuilder().setToolCallId(secondId))
        .addMessages(message(Role.ROLE_TOOL, "18C").toBuilder().setToolCallId(firstId))
        .build();
  }

  private static ChatRequest parse(String json) throws Exception {
    ChatRequest.Builder builder = ChatRequest.newBuilder();
    JsonFormat.parser().merge(json, builder);
    return builder.build();
  }

  private static ChatRequest withProviderOptions(Struct options) {
    return userRequest("Hi").toBuilder()
        .setSettings(GenerationSettings.newBuilder().setProviderOptions(options)).build();
  }

  private static Value number(double value) {
    return Value.newBuilder().setNumberValue(value).build();
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
