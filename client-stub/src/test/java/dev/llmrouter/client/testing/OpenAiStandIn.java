package dev.llmrouter.client.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small OpenAI Chat Completions stand-in on a free loopback port: it answers each prompt (the last message's
 * text) from a table, as one JSON object, or as server-sent chunks of one word each when the request streams.
 */
public final class OpenAiStandIn implements AutoCloseable {

  /** A prompt never answered (streamed: one word, then nothing) until the call is dropped: for cancel tests. */
  public static final String STALLING_PROMPT = "Take your time.";

  private final HttpServer server;
  private final Map<String, String> answers;
  private final AtomicInteger requests = new AtomicInteger();
  private final List<CompletableFuture<Void>> stalledAnswers = new CopyOnWriteArrayList<>();

  private OpenAiStandIn(Vertx vertx, Map<String, String> answers) {
    this.answers = answers;
    this.server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      requests.incrementAndGet();
      answer(request, body.toJsonObject());
    }));
  }

  /** Starts a stand-in that answers the prompts of this table, and the {@link #STALLING_PROMPT}. */
  public static OpenAiStandIn start(Vertx vertx, Map<String, String> answers) {
    OpenAiStandIn upstream = new OpenAiStandIn(vertx, answers);
    Await.await(upstream.server.listen(0, "127.0.0.1"));
    return upstream;
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort() + "/v1";
  }

  /** How many requests reached the stand-in. */
  public int requests() {
    return requests.get();
  }

  /** Waits until the router has dropped every call with the {@link #STALLING_PROMPT} so far. */
  public boolean awaitStalledAnswersClosed(Duration timeout) {
    try {
      CompletableFuture.allOf(stalledAnswers.toArray(CompletableFuture[]::new))
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  @Override
  public void close() {
    Await.await(server.close());
  }

  private void answer(HttpServerRequest request, JsonObject body) {
    JsonArray messages = body.getJsonArray("messages");
    String prompt = text(messages.getJsonObject(messages.size() - 1));
    boolean stream = body.getBoolean("stream", false);
    HttpServerResponse response = request.response();
    if (prompt.equals(STALLING_PROMPT)) {
      CompletableFuture<Void> closed = new CompletableFuture<>();
      stalledAnswers.add(closed);
      response.closeHandler(v -> closed.complete(null));
      if (stream) {
        response.setChunked(true).putHeader("content-type", "text/event-stream")
            .write(sse(chunk(body, choice(new JsonObject().put("content", "Well, "), null))));
      }
      return;
    }
    String answer = answers.getOrDefault(prompt, "I do not know.");
    if (!stream) {
      response.putHeader("content-type", "application/json").end(new JsonObject()
          .put("id", "chatcmpl-stand-in").put("object", "chat.completion").put("created", 1700000000)
          .put("model", body.getString("model"))
          .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
              .put("message", new JsonObject().put("role", "assistant").put("content", answer))
              .put("finish_reason", "stop")))
          .put("usage", usage()).encode());
      return;
    }
    response.setChunked(true).putHeader("content-type", "text/event-stream");
    for (String word : answer.split("(?<= )")) {
      response.write(sse(chunk(body, choice(new JsonObject().put("content", word), null))));
    }
    response.write(sse(chunk(body, choice(new JsonObject(), "stop"))));
    response.write(sse(chunk(body, new JsonArray()).put("usage", usage()))); // the usage chunk: no choices
    response.end("data: [DONE]\n\n");
  }

  // The message's text: a plain string, or the first text part of a content array.
  private static String text(JsonObject message) {
    Object content = message.getValue("content");
    if (content instanceof String text) {
      return text;
    }
    return ((JsonArray) content).stream().map(JsonObject.class::cast).filter(part -> part.getString("type")
        .equals("text")).findFirst().map(part -> part.getString("text")).orElse("");
  }

  private static JsonObject chunk(JsonObject request, JsonArray choices) {
    return new JsonObject().put("id", "chatcmpl-stand-in").put("object", "chat.completion.chunk")
        .put("created", 1700000000).put("model", request.getString("model")).put("choices", choices);
  }

  private static JsonArray choice(JsonObject delta, String finishReason) {
    return new JsonArray().add(new JsonObject().put("index", 0).put("delta", delta).put("finish_reason", finishReason));
  }

  private static String sse(JsonObject data) {
    return "data: " + data.encode() + "\n\n";
  }

  private static JsonObject usage() {
    return new JsonObject().put("prompt_tokens", 9).put("completion_tokens", 4).put("total_tokens", 13);
  }
}
