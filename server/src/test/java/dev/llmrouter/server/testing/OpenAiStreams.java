package dev.llmrouter.server.testing;

import io.vertx.core.http.HttpServerRequest;

/** Streamed OpenAI Chat Completions answers (server-sent chunks), for a {@link MockUpstream} a test scripts. */
public final class OpenAiStreams {

  private OpenAiStreams() {
  }

  /** One `chat.completion.chunk` event with this delta (JSON) and finish reason ({@code null} for none). */
  public static String chunk(String delta, String finish) {
    return "data: {\"id\":\"c\",\"created\":7,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":" + delta
        + ",\"finish_reason\":" + (finish == null ? "null" : "\"" + finish + "\"") + "}]}\n\n";
  }

  /** Answers with a text in these pieces, one chunk each. */
  public static void answerText(HttpServerRequest r, String... pieces) {
    StringBuilder body = new StringBuilder();
    for (String piece : pieces) {
      body.append(chunk("{\"content\":\"" + piece + "\"}", null));
    }
    r.response().putHeader("content-type", "text/event-stream")
        .end(body + chunk("{}", "stop") + "data: [DONE]\n\n");
  }

  /** Answers with one call of the tool {@code name}, with the id `call_up_<city>` and arguments {@code {"city": city}}. */
  public static void answerToolCall(HttpServerRequest r, String name, String city) {
    r.response().putHeader("content-type", "text/event-stream").end(
        chunk("{\"tool_calls\":[{\"index\":0,\"id\":\"call_up_" + city + "\",\"type\":\"function\",\"function\":"
            + "{\"name\":\"" + name + "\",\"arguments\":\"{\\\"city\\\":\\\"" + city + "\\\"}\"}}]}", null)
            + chunk("{}", "tool_calls") + "data: [DONE]\n\n");
  }
}
