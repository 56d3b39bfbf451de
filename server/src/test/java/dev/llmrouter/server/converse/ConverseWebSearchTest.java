package dev.llmrouter.server.converse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmrouter.api.v1.Citation;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.TurnCompleted;
import dev.llmrouter.api.v1.WebSearch;
import dev.llmrouter.server.testing.AnthropicWire;
import dev.llmrouter.server.testing.Conversation;
import dev.llmrouter.server.testing.MockUpstream;
import dev.llmrouter.server.testing.RunningRouter;
import dev.llmrouter.server.testing.WireExchange;
import io.grpc.Status;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Web search in a `Converse` session (`start.web_search`), against this project's own Anthropic search sample: every
 * model call of the session searches, the citations reach the client as they stream and stay in the turn's message,
 * and the turn's usage counts the searches.
 */
class ConverseWebSearchTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private Vertx vertx;
  private MockUpstream upstream;
  private RunningRouter router;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = MockUpstream.start(vertx);
    router = RunningRouter.start(vertx, "cassettes: { mode: \"off\" }\nproviders:\n"
        + new AnthropicWire().providersYaml(upstream.baseUrl())
        + "  - { name: openai, type: openai, base_url: \"" + upstream.baseUrl() + "/v1\", api_key: "
        + "\"${TEST_API_KEY}\" }\n");
  }

  @AfterEach
  void stop() throws Exception {
    router.close();
    upstream.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private static ConverseRequest searching(String model) {
    return ConverseRequest.newBuilder().setStart(ConverseStart.newBuilder().setModel(model)
        .setWebSearch(WebSearch.newBuilder().addAllowedDomains("wikipedia.org"))).build();
  }

  @Test
  void aSearchingSessionStreamsTheCitationsKeepsThemInTheTurnAndCountsTheSearches() throws Exception {
    WireExchange sample = WireExchange.own("websearch-anthropic").get(0);
    upstream.replay(sample);
    Conversation c = Conversation.open(router).send(searching("anthropic/" + sample.request().path("model")
        .asText()));
    c.until(ConverseEvent::hasSessionStarted);
    c.user("How tall is the Eiffel Tower?");
    TurnCompleted turn = c.until(ConverseEvent::hasTurnCompleted).getTurnCompleted();

    List<Citation> streamed = c.all.stream().filter(ConverseEvent::hasCitation).map(ConverseEvent::getCitation)
        .toList();
    assertFalse(streamed.isEmpty(), "the sample cites its sources");
    assertEquals(turn.getMessage().getCitationsList(), streamed, "the turn's message keeps the streamed citations");
    String text = c.all.stream().filter(ConverseEvent::hasTextDelta).map(e -> e.getTextDelta().getText())
        .reduce("", String::concat);
    for (Citation citation : streamed) {
      assertTrue(citation.getEndIndex() <= text.codePointCount(0, text.length()), citation.toString());
    }
    assertEquals(1, turn.getUsage().getWebSearches(), "the sample's one search");

    JsonNode sent = JSON.readTree(upstream.lastRequest().body());
    assertEquals("web_search", sent.path("tools").path(0).path("name").asText(), sent.toString());
    assertEquals("wikipedia.org", sent.path("tools").path(0).path("allowed_domains").path(0).asText());

    c.user("And its weight?");
    TurnCompleted second = c.until(ConverseEvent::hasTurnCompleted).getTurnCompleted();
    assertEquals(1, second.getUsage().getWebSearches(), "each turn counts its own searches");
    JsonNode history = JSON.readTree(upstream.lastRequest().body()).path("messages");
    assertEquals(List.of("user", "assistant", "user"), List.of(history.path(0).path("role").asText(),
        history.path(1).path("role").asText(), history.path(2).path("role").asText()),
        "the second call carries the first answer");
    c.requests.onCompleted();
    assertEquals(Status.Code.OK, c.closed.get(5, TimeUnit.SECONDS).getCode());
  }

  @Test
  void aModelThatCannotSearchFailsTheTurnBeforeAnyUpstreamRequest() throws Exception {
    Conversation c = Conversation.open(router).send(searching("openai/gpt-4o-mini"));
    c.until(ConverseEvent::hasSessionStarted);
    c.user("How tall is the Eiffel Tower?");
    ConverseEvent error = c.until(ConverseEvent::hasTurnError);
    assertEquals(Status.Code.INVALID_ARGUMENT.value(), error.getTurnError().getCode());
    assertTrue(error.getTurnError().getMessage().contains("cannot honour web_search with model gpt-4o-mini"),
        error::toString);
    assertTrue(upstream.received().isEmpty());
    c.requests.onCompleted();
  }
}
