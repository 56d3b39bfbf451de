package dev.llmrouter.cassettes;

import static dev.llmrouter.cassettes.Fixtures.message;
import static dev.llmrouter.cassettes.Fixtures.userRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MatchRuleTest {

  private static final MatchRule DATE = MatchRule.replace("cassettes.match.0", "*",
      Pattern.compile("\\d{4}-\\d{2}-\\d{2}"), "<date>");

  @Test
  void aReplaceRuleChangesTheTextPartsOfEveryMessageAndNothingElse() {
    ChatRequest request = userRequest("Today is 2025-06-01.").toBuilder()
        .setModel("openai/model-2025-06-01")
        .addMessages(message(Role.ROLE_ASSISTANT, "Noted: 2025-06-01"))
        .addTools(Tool.newBuilder().setName("calendar").setDescription("Events after 2025-01-01"))
        .build();

    CanonicalRequest normalized = CanonicalRequest.of(request).normalizedBy(List.of(DATE));

    assertEquals("Today is <date>.", normalized.normalizedJson().at("/messages/0/parts/0/text").asText());
    assertEquals("Noted: <date>", normalized.normalizedJson().at("/messages/1/parts/0/text").asText());
    assertEquals("openai/model-2025-06-01", normalized.normalizedJson().path("model").asText());
    assertEquals("Events after 2025-01-01", normalized.normalizedJson().at("/tools/0/description").asText());
    assertEquals("Today is 2025-06-01.", normalized.json().at("/messages/0/parts/0/text").asText(), "kept as asked");
    assertEquals(List.of(DATE), normalized.appliedRules());
    assertEquals(CanonicalRequest.keyOf(normalized.normalizedJson()), normalized.key());
    assertEquals(normalized.key(), CanonicalRequest.of(userRequest("Today is 1999-12-31.").toBuilder()
        .setModel("openai/model-2025-06-01").addMessages(message(Role.ROLE_ASSISTANT, "Noted: 2000-01-01"))
        .addTools(Tool.newBuilder().setName("calendar").setDescription("Events after 2025-01-01")).build())
        .normalizedBy(List.of(DATE)).key());
  }

  @Test
  void theWithTextIsTakenAsItIs() {
    MatchRule dollars = MatchRule.replace("r", "*", Pattern.compile("(\\d+) USD"), "$1 <amount>");
    assertEquals("Pay $1 <amount>.", CanonicalRequest.of(userRequest("Pay 12 USD.")).normalizedBy(List.of(dollars))
        .normalizedJson().at("/messages/0/parts/0/text").asText());
  }

  @Test
  void aRuleThatChangesNothingLeavesTheRequestAndItsKeyAsTheyWere() {
    CanonicalRequest request = CanonicalRequest.of(userRequest("No date here."));
    assertSame(request, request.normalizedBy(List.of(DATE)));
    assertEquals(List.of(), request.normalizedBy(List.of(DATE)).appliedRules());
  }

  @Test
  void anIgnoreRuleRemovesItsFieldsEverywhereAPathLeads() {
    ChatRequest request = userRequest("Hi").toBuilder()
        .setSettings(GenerationSettings.newBuilder().setTemperature(0.3).setMaxOutputTokens(100)
            .setProviderOptions(Struct.newBuilder().putFields("user", Value.newBuilder().setStringValue("u-1")
                .build())))
        .addTools(Tool.newBuilder().setName("a").setDescription("first"))
        .addTools(Tool.newBuilder().setName("b").setDescription("second"))
        .build();
    MatchRule ignore = MatchRule.ignore("r", "*", List.of("settings.temperature", "settings.providerOptions.user",
        "tools.description", "settings.seed"));

    CanonicalRequest normalized = CanonicalRequest.of(request).normalizedBy(List.of(ignore));

    assertEquals("{\"max_output_tokens\":100}", normalized.normalizedJson().path("settings").toString(),
        "provider_options left empty is left out");
    assertEquals("[{\"name\":\"a\"},{\"name\":\"b\"}]", normalized.normalizedJson().path("tools").toString());
    assertNotEquals(CanonicalRequest.of(request).key(), normalized.key());
  }

  @Test
  void aRequestWhoseOnlySettingIsIgnoredKeysAsOneWithoutSettings() {
    MatchRule ignore = MatchRule.ignore("r", "*", List.of("settings.temperature"));
    ChatRequest warm = userRequest("Hi").toBuilder().setSettings(GenerationSettings.newBuilder().setTemperature(0.7))
        .build();
    assertEquals(CanonicalRequest.of(userRequest("Hi")).key(),
        CanonicalRequest.of(warm).normalizedBy(List.of(ignore)).key());
  }

  @Test
  void aFieldPathThatIsNoFieldOfARequestIsRefusedWithTheFieldsThereAre() {
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> MatchRule.checkFieldPath("messages.contents"));
    assertEquals("'messages.contents': messages has no field 'contents'; its fields are role, parts, tool_calls, "
        + "tool_call_id, citations", unknown.getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> MatchRule.checkFieldPath("settings..seed"))
        .getMessage().contains("it has an empty name"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> MatchRule.ignore("r", "*", List.of()))
        .getMessage().contains("ignore lists no field"));
  }

  @Test
  void aScopeGlobStarMatchesAnyCharactersSlashesIncluded() {
    MatchRule billing = MatchRule.replace("r", "billing/*", Pattern.compile("x"), "y");
    MatchRule anyTest = MatchRule.replace("r", "*Test/test?", Pattern.compile("x"), "y");
    assertTrue(DATE.appliesTo("default") && DATE.appliesTo("a/b/c"));
    assertTrue(billing.appliesTo("billing/invoices") && billing.appliesTo("billing/a/b"));
    assertTrue(!billing.appliesTo("billing") && !billing.appliesTo("shop/billing/x"));
    assertTrue(anyTest.appliesTo("pkg.InvoiceTest/test1") && !anyTest.appliesTo("pkg.InvoiceTest/test12"));
  }

  @Test
  void aCallGetsTheRulesOfItsScopeThenThoseOfTheSetItNames() {
    MatchRule billing = MatchRule.replace("billing", "billing/*", Pattern.compile("x"), "y");
    MatchRule set = MatchRule.replace("set", "*", Pattern.compile("z"), "w");
    MatchRules rules = new MatchRules(List.of(DATE, billing), Map.of("letters", List.of(set)));
    assertEquals(List.of(DATE), rules.forCall("default", Optional.empty()));
    assertEquals(List.of(DATE, billing, set), rules.forCall("billing/x", Optional.of("letters")));
  }
}
