package com.example.reviews;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local stand-in for OpenAI's Chat Completions API, for recording without a key or the network: it answers a
 * request whose last message contains one of its questions with that question's answer. Not started when replaying:
 * its URL then leads nowhere, so that a call reaching it would fail.
 */
final class LocalOpenAi implements AutoCloseable {

  /** The key it takes: the router sends it, as it would send yours to OpenAI. */
  static final String KEY = "sk-local-stand-in";

  private static final String ANSWER = """
      {"id": "chatcmpl-local", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
       "choices": [{"index": 0, "message": {"role": "assistant", "content": "%s"}, "finish_reason": "stop"}],
       "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}}""";

  private final HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();

  private LocalOpenAi(HttpServer server) {
    this.server = server;
  }

  /** Started only when the tests record ({@code -Dllmrouter.mode=record}). */
  static LocalOpenAi startWhenRecording(Map<String, String> answers) {
    if (!"record".equals(System.getProperty("llmrouter.mode"))) {
      return new LocalOpenAi(null);
    }
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      LocalOpenAi openAi = new LocalOpenAi(server);
      server.createContext("/v1/chat/completions", exchange -> openAi.answer(exchange, answers));
      server.start();
      return openAi;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Its base URL, which the router's config takes as UPSTREAM_URL. */
  String baseUrl() {
    return server == null ? "http://127.0.0.1:1/v1" : "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  int requests() {
    return requests.get();
  }

  private void answer(HttpExchange exchange, Map<String, String> answers) throws IOException {
    requests.incrementAndGet();
    if (!("Bearer " + KEY).equals(exchange.getRequestHeaders().getFirst("authorization"))) {
      exchange.sendResponseHeaders(401, -1);
      exchange.close();
      return;
    }
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    String answer = answers.entrySet().stream().filter(qa -> body.contains(qa.getKey())).map(Map.Entry::getValue)
        .findFirst().orElse("I do not know.");
    byte[] response = ANSWER.formatted(answer).getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("content-type", "application/json");
    exchange.sendResponseHeaders(200, response.length);
    exchange.getResponseBody().write(response);
    exchange.close();
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
    }
  }
}
