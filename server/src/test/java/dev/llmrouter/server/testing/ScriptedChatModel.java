package dev.llmrouter.server.testing;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.function.Consumer;

/**
 * A {@link MockUpstream} behaviour that speaks OpenAI Chat Completions as a small, predictable model, for tests of
 * conversations: a request whose first message is the {@link #SUMMARY_PROMPT} is answered with a summary naming how
 * many user turns its transcript holds; a user message mentioning the weather, when a tool is offered, with a call of
 * that tool (`call_weather_<n>`, n the messages so far); anything else by echoing the last message ("You said: ...").
 * It reports 10 input tokens per message and 5 output tokens; it streams when asked (one chunk of text, then the
 * finish and usage chunks). The {@link #STALLING_PROMPT} is never answered, until the call is dropped.
 */
public final class ScriptedChatModel implements Consumer<HttpServerRequest> {

  /** The compaction prompt the tests configure (`conversations.compaction.prompt`). */
  public static final String SUMMARY_PROMPT = "Summarise the turns below.";
  /** A user message never answered: for tests of calls still running. */
  public static final String STALLING_PROMPT = "Take your time.";

  private final MockUpstream upstream;

  private ScriptedChatModel(MockUpstream upstream) {
    this.upstream = upstream;
  }

  /** Has {@code upstream} answer as this model. */
  public static MockUpstream answer(MockUpstream upstream) {
    return upstream.answer(new ScriptedChatModel(upstream));
  }

  @Override
  public void accept(HttpServerRequest request) {
    JsonObject body = new JsonObject(upstream.lastRequest().body());
    JsonArray messages = body.getJsonArray("messages");
    JsonObject last = messages.getJsonObject(messages.size() - 1);
    String lastText = text(last);
    if (lastText.equals(STALLING_PROMPT)) {
      return;
    }
    JsonObject message = new JsonObject().put("role", "assistant");
    String finish = "stop";
    if (text(messages.getJsonObject(0)).equals(SUMMARY_PROMPT)) {
      message.put("content", "Summary of " + (lastText.split("\\[user]", -1).length - 1) + " user turns.");
    } else if (body.containsKey("tools") && last.getString("role").equals("user") && lastText.contains("weather")) {
      message.putNull("content").put("tool_calls", new JsonArray().add(new JsonObject()
          .put("id", "call_weather_" + messages.size()).put("type", "function").put("function", new JsonObject()
              .put("name", "get_weather").put("arguments", "{\"city\":\"Paris\"}"))));
      finish = "tool_calls";
    } else {
      message.put("content", (last.getString("role").equals("tool") ? "Tool said: " : "You said: ") + lastText);
    }
    JsonObject usage = new JsonObject().put("prompt_tokens", 10 * messages.size()).put("completion_tokens", 5)
        .put("total_tokens", 10 * messages.size() + 5);
    if (!body.getBoolean("stream", false)) {
      request.response().putHeader("content-type", "application/json").end(new JsonObject()
          .put("id", "chatcmpl-scripted").put("object", "chat.completion").put("created", 1700000000)
          .put("model", body.getString("model")).put("choices", new JsonArray().add(new JsonObject()
              .put("index", 0).put("message", message).put("finish_reason", finish)))
          .put("usage", usage).encode());
      return;
    }
    JsonObject delta = message.copy();
    if (delta.containsKey("tool_calls")) {
      delta.getJsonArray("tool_calls").getJsonObject(0).put("index", 0);
    }
    request.response().putHeader("content-type", "text/event-stream").end(
        sse(chunk(body, new JsonArray().add(new JsonObject().put("index", 0).put("delta", delta)
            .putNull("finish_reason"))))
            + sse(chunk(body, new JsonArray().add(new JsonObject().put("index", 0).put("delta", new JsonObject())
            .put("finish_reason", finish))))
            + sse(chunk(body, new JsonArray()).put("usage", usage))
            + "data: [DONE]\n\n");
  }

  // The message's text: a plain string, or its text parts.
  private static String text(JsonObject message) {
    Object content = message.getValue("content");
    if (content instanceof String text) {
      return text;
    }
    if (content == null) {
      return "";
    }
    StringBuilder text = new StringBuilder();
    ((JsonArray) content).stream().map(JsonObject.class::cast).filter(part -> "text".equals(part.getString("type")))
        .forEach(part -> text.append(part.getString("text")));
    return text.toString();
  }

  private static JsonObject chunk(JsonObject request, JsonArray choices) {
    return new JsonObject().put("id", "chatcmpl-scripted").put("object", "chat.completion.chunk")
        .put("created", 1700000000).put("model", request.getString("model")).put("choices", choices);
  }

  private static String sse(JsonObject data) {
    return "data: " + data.encode() + "\n\n";
  }
}
