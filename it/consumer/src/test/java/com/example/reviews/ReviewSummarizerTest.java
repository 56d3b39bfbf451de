package com.example.reviews;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.client.ChatRequests;
import dev.llmrouter.client.LlmRouterClient;
import dev.llmrouter.client.Messages;
import dev.llmrouter.client.junit.LlmRouterExtension;
import dev.llmrouter.client.junit.RouterAddress;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * ReviewSummarizer's tests, with a router of their own started by {@link LlmRouterExtension} (registered in code:
 * its config takes a variable). `mvn test -Dllmrouter.mode=record` records each method's calls into
 * {@code target/cassettes/ReviewSummarizerTest/<method>/}, `mvn test` replays them. A project of its own keeps its
 * cassettes in {@code src/test/cassettes} and commits them; this build records afresh each time.
 */
class ReviewSummarizerTest {

  static final String REVIEW = "The pasta was cold, but the waiter was lovely and apologised twice.";
  static final String SUMMARY = "Cold food, kind service.";
  static final String QUESTION = "Which city hosts the Louvre?";
  static final String ANSWER = "Paris.";
  static final boolean RECORDING = "record".equals(System.getProperty(LlmRouterExtension.MODE_PROPERTY));

  static final LocalOpenAi OPENAI = LocalOpenAi.startWhenRecording(Map.of(REVIEW, SUMMARY, QUESTION, ANSWER));

  @RegisterExtension
  static final LlmRouterExtension ROUTER = LlmRouterExtension.builder()
      .cassettes("target/cassettes")
      .config("src/test/llm-router.yaml")
      .environment("UPSTREAM_URL", OPENAI.baseUrl())
      .environment("OPENAI_API_KEY", LocalOpenAi.KEY) // recording from OpenAI itself takes your key from the environment
      .build();

  @AfterAll
  static void stopOpenAi() {
    OPENAI.close();
    if (RECORDING) {
      assertEquals(3, OPENAI.requests(), "one upstream call per test while recording");
    }
  }

  @Test
  void summarizesAReview(LlmRouterClient router) {
    assertEquals(SUMMARY, new ReviewSummarizer(router).summarize(REVIEW));
  }

  // A service that builds its own gRPC channel adds the extension's interceptor, which sends the test's scope.
  @Test
  void answersOnItsOwnChannel(RouterAddress router, ClientInterceptor cassetteScope) {
    ManagedChannel channel = Grpc.newChannelBuilder(router.target(), InsecureChannelCredentials.create()).build();
    try {
      assertEquals(ANSWER, ChatServiceGrpc.newBlockingStub(ClientInterceptors.intercept(channel, cassetteScope))
          .chat(ChatRequests.of("openai/gpt-4o-mini", Messages.user(QUESTION))).getMessage().getParts(0).getText());
    } finally {
      channel.shutdownNow();
    }
  }

  // A service on a provider SDK calls the router's HTTP API at the SDK's base URL, the scope as a default header.
  @Test
  void answersOverTheOpenAiHttpApi(RouterAddress router) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(router.openAiBaseUrl() + "/chat/completions"))
        .header("content-type", "application/json")
        .header("x-cassette-scope", "ReviewSummarizerTest/answersOverTheOpenAiHttpApi")
        .POST(HttpRequest.BodyPublishers.ofString("""
            {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "%s"}]}""".formatted(QUESTION)))
        .build();
    HttpResponse<String> response = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
        .send(request, HttpResponse.BodyHandlers.ofString());

    assertEquals(200, response.statusCode(), response.body());
    assertTrue(response.body().contains(ANSWER), response.body());
    assertEquals(RECORDING ? "recorded" : "hit", response.headers().firstValue("x-cassette-outcome").orElse(""));
  }
}
