package dev.llmrouter.server.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.ManualClock;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.TwoUpstreams;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.IOException;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a 200 answer can hide, served through the real router in record mode: an error the provider reports inside
 * it (mapped by the status or type it names, a caller error never retried nor sent elsewhere), or a degenerate answer
 * (no start, no content, no finish reason: a malformed answer, retried while nothing reached the caller). Neither is
 * ever written as a cassette.
 */
class AnswerFailuresTest {

  private static final String SSE = "text/event-stream";
  private static final String JSON = "application/json";
  private static final String ANTHROPIC_START = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":"
      + "{\"id\":\"msg_1\",\"model\":\"claude-haiku-4-5\",\"content\":[],\"usage\":{\"input_tokens\":3}}}\n\n";
  private static final String OPENAI_TEXT_CHUNK = "data: {\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":"
      + "[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n";

  private static Path cassettes;
  private static RouterWithUpstream setup;
  private static final ManualClock CLOCK = new ManualClock();

  @BeforeAll
  static void start() throws IOException {
    cassettes = Files.createTempDirectory("llmrouter-cassettes");
    setup = RouterWithUpstream.start("""
        cassettes: { dir: "%s", mode: record }
        retry: { max_attempts: 2, initial_backoff: 1ms, max_backoff: 2ms }
        circuit_breaker: { failure_threshold: 1000 }
        providers:
          - { name: openai, type: openai, base_url: "%%1$s/v1", api_key: "${TEST_API_KEY}" }
          - { name: openai-b, type: openai, base_url: "%%1$s/b/v1", api_key: "${TEST_API_KEY}" }
          - { name: anthropic, type: anthropic, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
          - { name: gemini, type: gemini, base_url: "%%1$s", api_key: "${TEST_API_KEY}" }
        models:
          - alias: either
            targets: [{ model: openai/m }, { model: openai-b/m }]
        """.formatted(cassettes), CLOCK);
  }

  @AfterAll
  static void stop() throws Exception {
    setup.close();
    try (Stream<Path> files = Files.walk(cassettes)) {
      files.sorted((x, y) -> y.compareTo(x)).forEach(file -> file.toFile().delete());
    }
  }

  @BeforeEach
  void forgetRequestsAndRecordings() throws IOException {
    CLOCK.advance(Duration.ofDays(1)); // a 429 inside an answer leaves its deployment rate-limited: not for the next row
    setup.upstream().received().clear();
    try (Stream<Path> files = Files.walk(cassettes)) {
      files.filter(Files::isRegularFile).forEach(file -> file.toFile().delete());
    }
  }

  /** Rows: what the upstream sends after HTTP 200, the status and upstream status it stands for, its message. */
  static Stream<Arguments> errorsInsideAnswers() {
    return Stream.of(
        Arguments.of("Groq's error event, 400", "either", SSE, "event: error\ndata: {\"error\":{\"message\":"
            + "\"Failed to call a function.\",\"type\":\"invalid_request_error\",\"code\":\"tool_use_failed\","
            + "\"failed_generation\":\"{}\",\"status_code\":400}}\n\n",
            Status.Code.INVALID_ARGUMENT, "400", "Failed to call a function."),
        Arguments.of("Groq's error event, 429", "either", SSE, "event: error\ndata: {\"error\":{\"message\":"
            + "\"Rate limit reached\",\"code\":\"rate_limit_exceeded\",\"status_code\":429}}\n\n",
            Status.Code.RESOURCE_EXHAUSTED, "429", "Rate limit reached"),
        Arguments.of("OpenRouter's error beside choices, 400, then [DONE]", "either", SSE,
            "data: {\"id\":\"gen-1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},"
                + "\"finish_reason\":\"error\"}],\"error\":{\"code\":400,\"message\":\"Invalid tool schema\"}}\n\n"
                + "data: [DONE]\n\n",
            Status.Code.INVALID_ARGUMENT, "400", "Invalid tool schema"),
        Arguments.of("OpenRouter's error beside choices, 502", "either", SSE,
            "data: {\"id\":\"gen-1\",\"model\":\"m\",\"choices\":[],\"error\":{\"code\":502,\"message\":"
                + "\"Provider returned error\"}}\n\ndata: [DONE]\n\n",
            Status.Code.UNAVAILABLE, "502", "Provider returned error"),
        Arguments.of("an error event in plain text", "either", SSE, "event: error\ndata: upstream went away\n\n",
            Status.Code.UNAVAILABLE, "500", "upstream went away"),
        Arguments.of("Anthropic's invalid_request_error", "anthropic/claude-haiku-4-5", SSE, ANTHROPIC_START
            + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":"
            + "\"tools.0: bad schema\"}}\n\n", Status.Code.INVALID_ARGUMENT, "400", "tools.0: bad schema"),
        Arguments.of("Anthropic's rate_limit_error", "anthropic/claude-haiku-4-5", SSE, ANTHROPIC_START
            + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":"
            + "\"Slow down\"}}\n\n", Status.Code.RESOURCE_EXHAUSTED, "429", "Slow down"),
        Arguments.of("Anthropic's overloaded_error", "anthropic/claude-haiku-4-5", SSE, ANTHROPIC_START
            + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
            + "\"Overloaded\"}}\n\n", Status.Code.UNAVAILABLE, "529", "Overloaded"),
        Arguments.of("Gemini's error chunk, 400", "gemini/gemini-2.5-flash", SSE, "data: {\"error\":{\"code\":400,"
            + "\"message\":\"Request contains an invalid argument.\",\"status\":\"INVALID_ARGUMENT\"}}\n\n",
            Status.Code.INVALID_ARGUMENT, "400", "Request contains an invalid argument."),
        Arguments.of("Gemini's error chunk, 503", "gemini/gemini-2.5-flash", SSE, "data: {\"error\":{\"code\":503,"
            + "\"message\":\"The model is overloaded.\",\"status\":\"UNAVAILABLE\"}}\n\n",
            Status.Code.UNAVAILABLE, "503", "The model is overloaded."));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("errorsInsideAnswers")
  void anErrorInsideAnAnswerIsMappedByItsOwnStatusAndQuoted(String row, String model, String contentType,
      String body, Status.Code expected, String upstreamStatus, String message) throws Exception {
    setup.upstream().reply(200, contentType, body);
    List<ChatEvent> events = new ArrayList<>();
    StatusRuntimeException error = expected == Status.Code.RESOURCE_EXHAUSTED
        ? streamIntoPastTheRateLimit(events, model) : streamInto(events, model);

    assertEquals(expected, error.getStatus().getCode(), error.getMessage());
    String description = error.getStatus().getDescription();
    assertTrue(description.contains(message), "the provider's message is quoted: " + description);
    assertFalse(description.contains("HTTP"), "the upstream answered 200, whatever it reported: " + description);
    assertEquals(upstreamStatus, errorInfo(error).getMetadataOrThrow("upstream_status"));
    boolean callerError = expected == Status.Code.INVALID_ARGUMENT;
    assertEquals(callerError, setup.upstream().received().size() == 1,
        "a caller error is sent once, an upstream failure again or elsewhere: " + setup.upstream().received().size());
    assertTrue(events.isEmpty(), "nothing reached the caller: " + events);
    assertNothingRecorded();
  }

  /** Rows: a degenerate answer, what it lacks, and whether content reached the caller before it ended. */
  static Stream<Arguments> degenerateAnswers() {
    return Stream.of(
        Arguments.of("OpenAI {}", "openai/m", JSON, "{}", "a start (no id or model), content, a finish reason", false),
        Arguments.of("OpenAI choices []", "openai/m", JSON, "{\"id\":\"c\",\"model\":\"m\",\"choices\":[]}",
            "content, a finish reason", false),
        Arguments.of("OpenAI empty content, stop", "openai/m", JSON, "{\"id\":\"c\",\"model\":\"m\",\"choices\":"
            + "[{\"index\":0,\"message\":{\"content\":\"\"},\"finish_reason\":\"stop\"}]}", "content", false),
        Arguments.of("OpenAI stream of only [DONE]", "openai/m", SSE, "data: [DONE]\n\n",
            "a start (no id or model), content, a finish reason", false),
        Arguments.of("OpenAI role chunk then [DONE]", "openai/m", SSE, "data: {\"id\":\"c\",\"model\":\"m\","
            + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}\n\n"
            + "data: [DONE]\n\n", "content, a finish reason", false),
        Arguments.of("OpenAI text then [DONE], no finish reason", "openai/m", SSE,
            OPENAI_TEXT_CHUNK + "data: [DONE]\n\n", "a finish reason", true),
        Arguments.of("Anthropic {}", "anthropic/claude-haiku-4-5", JSON, "{}",
            "a start (no id or model), content, a finish reason", false),
        Arguments.of("Anthropic start then stop", "anthropic/claude-haiku-4-5", SSE, ANTHROPIC_START
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", "content, a finish reason", false),
        Arguments.of("Gemini {}", "gemini/gemini-2.5-flash", JSON, "{}",
            "a start (no id or model), content, a finish reason", false),
        Arguments.of("Gemini STOP without parts", "gemini/gemini-2.5-flash", JSON, "{\"candidates\":"
            + "[{\"finishReason\":\"STOP\"}],\"responseId\":\"r\",\"modelVersion\":\"gemini-2.5-flash\"}",
            "content", false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("degenerateAnswers")
  void aDegenerateAnswerIsMalformedRetriedWhileNothingWasSentAndNeverRecorded(String row, String model,
      String contentType, String body, String missing, boolean contentSent) throws Exception {
    setup.upstream().reply(200, contentType, body);
    List<ChatEvent> events = new ArrayList<>();
    StatusRuntimeException error = streamInto(events, model);

    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode(), error.getMessage());
    assertEquals("UPSTREAM_MALFORMED_RESPONSE", errorInfo(error).getReason());
    String provider = model.substring(0, model.indexOf('/'));
    assertTrue(error.getStatus().getDescription().endsWith(provider + " sent a malformed answer: the answer ended "
        + "without " + missing), error.getStatus().getDescription());
    assertFalse(events.stream().anyMatch(ChatEvent::hasDone), "never a clean end: " + events);
    assertEquals(contentSent, !events.isEmpty(), "events: " + events);
    assertEquals(contentSent ? 1 : 2, setup.upstream().received().size(),
        "retried (max_attempts 2) unless content had reached the caller");
    assertNothingRecorded();
  }

  @Test
  void aWholeAnswerIsRecorded() throws IOException {
    setup.upstream().reply(200, JSON, TwoUpstreams.OK_JSON);
    assertEquals("fine", setup.router().chat().chat(TwoUpstreams.ask("openai/m")).getMessage().getParts(0).getText());
    try (Stream<Path> files = Files.walk(cassettes)) {
      assertEquals(1, files.filter(Files::isRegularFile).count(), "this setup records what it should");
    }
  }

  private static StatusRuntimeException streamInto(List<ChatEvent> events, String model) {
    try {
      setup.router().chat().streamChat(TwoUpstreams.ask(model)).forEachRemaining(events::add);
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("the call succeeded: " + events);
  }

  /** A rate-limited call is tried again once its deployment's window has passed: the clock moves while it waits. */
  private static StatusRuntimeException streamIntoPastTheRateLimit(List<ChatEvent> events, String model)
      throws Exception {
    CompletableFuture<StatusRuntimeException> call = CompletableFuture.supplyAsync(() -> streamInto(events, model));
    // Moved on at every look: whenever the 429 sets the window, the next look is past it.
    assertTrue(Await.until(Duration.ofSeconds(10), () -> {
      CLOCK.advance(Duration.ofDays(1));
      return call.isDone();
    }));
    return call.get();
  }

  private static void assertNothingRecorded() throws IOException {
    try (Stream<Path> files = Files.walk(cassettes)) {
      assertEquals(List.of(), files.filter(Files::isRegularFile).toList(), "no cassette is written");
    }
  }

  private static ErrorInfo errorInfo(StatusRuntimeException error) throws InvalidProtocolBufferException {
    for (var detail : StatusProto.fromThrowable(error).getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        return detail.unpack(ErrorInfo.class);
      }
    }
    throw new AssertionError("no ErrorInfo in " + error);
  }
}
