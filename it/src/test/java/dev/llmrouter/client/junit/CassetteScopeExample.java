package dev.llmrouter.client.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.client.ChatRequests;
import dev.llmrouter.client.LlmRouterClient;
import dev.llmrouter.client.Messages;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import org.junit.jupiter.api.Test;

/**
 * How a service's tests use {@link CassetteScopeExtension}: the router runs beside the tests (in CI, replaying the
 * cassettes checked in with the service, e.g. {@code java -jar llm-router.jar --mode replay --cassettes
 * src/test/cassettes}) and {@code LLMROUTER_TARGET} says where. Each test method gets its own cassette folder,
 * {@code CassetteScopeExample/<method>/}.
 *
 * <p>Not run on its own (its name does not end in Test): {@link CassetteScopeExtensionTest} runs it twice, first
 * against a router recording from a mock upstream, then against a router replaying with the upstream gone.
 */
@CassetteScoped
class CassetteScopeExample {

  static final String REVIEW = "The pasta was cold, but the waiter was lovely and apologised twice.";
  static final String SUMMARY = "Cold food, kind service.";
  static final String QUESTION = "Which city hosts the Louvre?";
  static final String ANSWER = "Paris.";

  /** The service under test: it asks a model for a one-line summary of a review. */
  static final class ReviewSummarizer {
    private final LlmRouterClient router;

    ReviewSummarizer(LlmRouterClient router) {
      this.router = router;
    }

    String summarize(String review) {
      return router.chat(ChatRequests.of("openai/gpt-4o-mini", Messages.system("Summarize in four words."),
          Messages.user(review))).getMessage().getParts(0).getText();
    }
  }

  @Test
  void summarizesAReview(LlmRouterClient router) {
    assertEquals(SUMMARY, new ReviewSummarizer(router).summarize(REVIEW));
  }

  // A service that builds its own channel adds the extension's interceptor to it.
  @Test
  void answersWithItsOwnChannel(ClientInterceptor cassetteScope) {
    ManagedChannel channel = Grpc.newChannelBuilder(System.getProperty("LLMROUTER_TARGET"),
        InsecureChannelCredentials.create()).build();
    try {
      String answer = ChatServiceGrpc.newBlockingStub(ClientInterceptors.intercept(channel, cassetteScope))
          .chat(ChatRequests.of("openai/gpt-4o-mini", Messages.user(QUESTION))).getMessage().getParts(0).getText();
      assertEquals(ANSWER, answer);
    } finally {
      channel.shutdownNow();
    }
  }
}
