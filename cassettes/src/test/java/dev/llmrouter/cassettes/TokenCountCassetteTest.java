package dev.llmrouter.cassettes;

import static dev.llmrouter.cassettes.Fixtures.userRequest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.TokenCountMethod;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Count calls in cassettes: the chat request's canonical form with a kind of its own (so a count never answers the
 * chat call of the same request, nor the other way round), `skip_context_check` out of every key, and the count kept
 * as its protobuf JSON under `token_count`.
 */
class TokenCountCassetteTest {

  private static final Path PATH = Path.of("cassettes", "default", "0123456789abcdef.json");

  @Test
  void aCountHasAKeyOfItsOwnKind() {
    ChatRequest request = userRequest("Hello");
    CanonicalRequest count = CanonicalTokenCountRequest.of(request);
    assertEquals("count_tokens", count.json().path("kind").asText());
    assertNotEquals(CanonicalRequest.of(request).key(), count.key());
    assertNotEquals(count.key(), CanonicalTokenCountRequest.of(userRequest("Hello!")).key());
  }

  @Test
  void skipContextCheckIsInNoKey() {
    ChatRequest request = userRequest("Hello");
    ChatRequest skipping = request.toBuilder().setSkipContextCheck(true).build();
    assertEquals(CanonicalRequest.of(request).key(), CanonicalRequest.of(skipping).key());
    assertEquals(CanonicalTokenCountRequest.of(request).key(), CanonicalTokenCountRequest.of(skipping).key());
  }

  @Test
  void theCountRoundTripsAndWritesTheSameBytes() throws Exception {
    Cassette cassette = countCassette(403);

    byte[] written = CassetteCodec.write(cassette);
    Cassette read = CassetteCodec.read(written, PATH);

    assertEquals(cassette.takes().get(0).tokenCount(), read.takes().get(0).tokenCount());
    assertTrue(read.takes().get(0).events().isEmpty());
    assertArrayEquals(written, CassetteCodec.write(read), "the same cassette gives the same bytes");
    assertTrue(new String(written, StandardCharsets.UTF_8).contains("""
              "token_count": {
                "input_tokens": 403,
                "method": "TOKEN_COUNT_METHOD_PROVIDER",
        """), new String(written, StandardCharsets.UTF_8));
  }

  @Test
  void aCountThatIsNoCountIsCorruptNamingWhere() {
    String file = new String(CassetteCodec.write(countCassette(7)), StandardCharsets.UTF_8)
        .replace("\"input_tokens\": 7", "\"input_tokens\": \"seven\"");
    CorruptCassetteException e = assertThrows(CorruptCassetteException.class,
        () -> CassetteCodec.read(file.getBytes(StandardCharsets.UTF_8), PATH));
    assertTrue(e.getMessage().contains("\"takes[0].token_count\" is not a valid token count"), e.getMessage());
  }

  @Test
  void aDiffNamesAChangedCount(@TempDir Path before, @TempDir Path after) throws Exception {
    new CassetteStore(before, 1 << 20, Redactor.defaults()).write("default", countCassette(14));
    new CassetteStore(after, 1 << 20, Redactor.defaults()).write("default", countCassette(15));
    List<String> lines = CassetteDiff.between(new CassetteStore(before, 1 << 20, Redactor.defaults()),
        new CassetteStore(after, 1 << 20, Redactor.defaults())).differences().get(0).details();
    assertTrue(lines.stream().anyMatch(line -> line.contains("the token count: 14 -> 15")), lines.toString());
  }

  private static Cassette countCassette(int tokens) {
    return Cassette.of(CanonicalTokenCountRequest.of(userRequest("Hello")),
        new Cassette.ServedBy("anthropic", "claude-haiku-4-5"), List.of(Cassette.Take.of(CountTokensResponse
            .newBuilder().setInputTokens(tokens).setMethod(TokenCountMethod.TOKEN_COUNT_METHOD_PROVIDER)
            .setModel("claude-haiku-4-5").setProvider("anthropic").build())));
  }
}
