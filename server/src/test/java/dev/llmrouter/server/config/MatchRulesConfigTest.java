package dev.llmrouter.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.llmrouter.cassettes.MatchRule;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** `cassettes.match` and `cassettes.match_sets` as the config gives them, and each mistake named with its line. */
class MatchRulesConfigTest {

  private static RouterConfig parse(String yaml) {
    return ConfigLoader.parse(yaml, Map.<String, String>of()::get);
  }

  private static String error(String yaml) {
    return assertThrows(ConfigException.class, () -> parse(yaml)).getMessage();
  }

  @Test
  void theRulesOfTheIssueAreReadInOrderEachNamedWhereItIsDefined() {
    CassetteConfig cassettes = parse("""
        cassettes:
          match:
            - { scope: "*", replace: '\\d{4}-\\d{2}-\\d{2}', with: "<date>" }
            - { scope: "billing/*", replace: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', with: "<uuid>" }
            - { scope: "*", ignore: [ "settings.temperature", "metadata" ] }
          match_sets:
            paths:
              - { replace: '/tmp/[^ ]+', with: "<tmp>" }
        """).cassettes();

    assertEquals(List.of(
            "cassettes.match.0 (line 3): replace '\\d{4}-\\d{2}-\\d{2}' with '<date>'",
            "cassettes.match.1 (line 4): replace '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' with "
                + "'<uuid>' in scopes billing/*",
            "cassettes.match.2 (line 5): ignore settings.temperature, metadata"),
        cassettes.match().rules().stream().map(MatchRule::toString).toList());
    assertEquals(List.of("cassettes.match_sets.paths.0 (line 8): replace '/tmp/[^ ]+' with '<tmp>'"),
        cassettes.match().sets().get("paths").stream().map(MatchRule::toString).toList());
    assertEquals(3, cassettes.match().forCall("billing/invoices", Optional.empty()).size());
    assertEquals(3, cassettes.match().forCall("default", Optional.of("paths")).size(), "the set's rule added");
  }

  @Test
  void anInvalidRegularExpressionOrFieldPathStopsTheConfigNamingItsLine() {
    assertEquals("""
        invalid config:
          cassettes.match.0.replace (line 3): is not a valid regular expression: Unclosed counted closure near index 4 of '\\d{4-'
          cassettes.match.1.ignore.1 (line 4): is not a field of a request: 'settings.temprature': settings has no field 'temprature'; its fields are temperature, top_p, max_output_tokens, stop_sequences, seed, presence_penalty, frequency_penalty, reasoning_effort, provider_options
          cassettes.match.2.ignore.0 (line 5): is not a field of a request: 'model.name': model is a value, with no fields below it
          cassettes.match.3 (line 6): give either replace (with `with`) or ignore, not both: make them two rules
          cassettes.match.4 (line 7): needs replace: REGEX with with: TEXT, or ignore: [FIELD PATHS]
          cassettes.match.5 (line 8): replace needs with: the text each match becomes, like "<date>"
          cassettes.match_sets.bad name (line 10): a set name is 1 to 64 letters, digits, '.', '_' or '-' (it is sent as x-cassette-match), not 'bad name'""",
        error("""
            cassettes:
              match:
                - { replace: '\\d{4-', with: "<date>" }
                - { ignore: [ metadata, settings.temprature ] }
                - { ignore: [ model.name ] }
                - { replace: 'x', with: y, ignore: [ metadata ] }
                - { scope: "*" }
                - { replace: 'x' }
              match_sets:
                "bad name": []
            """));
  }

  @Test
  void fieldPathsTakeTheApisJsonNamesAndAnyKeyBelowAStructOrAMap() {
    CassetteConfig cassettes = parse("""
        cassettes:
          match:
            - { ignore: [ settings.maxOutputTokens, settings.provider_options.user, tools.description, metadata.run ] }
        """).cassettes();
    assertEquals("cassettes.match.0 (line 3): ignore settings.maxOutputTokens, settings.provider_options.user, "
        + "tools.description, metadata.run", cassettes.match().rules().get(0).toString());
  }
}
