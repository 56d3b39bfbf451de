package dev.llmrouter.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Raw HTTP/1.1 calls to the router's HTTP ingress (java.net.http, off the event loop), for the byte-level rules the
 * provider SDKs hide: exact status, headers and bytes, and each server-sent event as it was framed.
 */
public final class IngressClient {

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  private final URI base;

  public IngressClient(int port) {
    this.base = URI.create("http://127.0.0.1:" + port);
  }

  /** One answer: its status, headers and whole body. */
  public record Reply(int status, java.net.http.HttpHeaders headers, String body) {

    public String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    public JsonNode json() {
      return OpenAiWire.read(body);
    }

    /** The server-sent events of the body, in order; comments (keep-alives) are left out. */
    public List<ServerSentEvent> events() {
      List<ServerSentEvent> events = new ArrayList<>();
      for (String block : body.split("\n\n")) {
        String event = null;
        StringBuilder data = null;
        for (String line : block.split("\n")) {
          if (line.startsWith("event: ")) {
            event = line.substring("event: ".length());
          } else if (line.startsWith("data: ")) {
            data = data == null ? new StringBuilder() : data.append('\n');
            data.append(line.substring("data: ".length()));
          }
        }
        if (data != null) {
          events.add(new ServerSentEvent(event, data.toString()));
        }
      }
      return events;
    }
  }

  /** One server-sent event: its name (null when it has none) and its data. */
  public record ServerSentEvent(String event, String data) {

    public JsonNode json() {
      return OpenAiWire.read(data);
    }
  }

  /** POSTs a JSON body; {@code headers} are name, value pairs. */
  public Reply post(String path, String body, String... headers) {
    return send(HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofString(body))
        .header("content-type", "application/json"), headers);
  }

  public Reply get(String path, String... headers) {
    return send(HttpRequest.newBuilder(base.resolve(path)).GET(), headers);
  }

  private Reply send(HttpRequest.Builder request, String... headers) {
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    try {
      HttpResponse<String> response = http.send(request.timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new Reply(response.statusCode(), response.headers(), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
