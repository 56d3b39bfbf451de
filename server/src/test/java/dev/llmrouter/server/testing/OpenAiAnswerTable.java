package dev.llmrouter.server.testing;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A {@link MockUpstream} behaviour that speaks OpenAI Chat Completions: it answers each prompt (the last message's
 * text) from a table, as one JSON object, or as server-sent chunks of one word each when the request streams.
 */
public final class OpenAiAnswerTable implements Consumer<HttpServerRequest> {

  /** A prompt never answered (streamed: one word, then nothing) until the call is dropped: for cancel tests. */
  public static final String STALLING_PROMPT = "Take your time.";
  /** The answer to a prompt the table does not hold. */
  private static final String UNKNOWN = "I do not know.";

  private final MockUpstream upstream;
  private final Map<String, String> answers;

  private OpenAiAnswerTable(MockUpstream upstream, Map<String, String> answers) {
    this.upstream = upstream;
    this.answers = answers;
  }

  /** Has {@code upstream} answer the prompts of this table, and stall on the {@link #STALLING_PROMPT}. */
  public static MockUpstream answer(MockUpstream upstream, Map<String, String> answers) {
    return upstream.answer(new OpenAiAnswerTable(upstream, answers));
  }

  @Override
  public void accept(HttpServerRequest request) {
    // MockUpstream records a request just before it hands it here, on the same thread.
    JsonObject body = new JsonObject(upstream.lastRequest().body());
    JsonArray messages = body.getJsonArray("messages");
    String prompt = text(messages.getJsonObject(messages.size() - 1));
    boolean stream = body.getBoolean("stream", false);
    HttpServerResponse response = request.response();
    if (prompt.equals(STALLING_PROMPT)) {
      if (stream) {
        response.setChunked(true).putHeader("content-type", "text/event-stream")
            .write(sse(chunk(body, choice(new JsonObject().put("content", "Well, "), null))));
      }
      return;
    }
    String answer = answers.getOrDefault(prompt, UNKNOWN);
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
