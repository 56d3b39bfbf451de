package dev.llmrouter.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One recorded provider exchange: the request a client sent and the response bytes the provider answered. Read from
 * the shared conformance corpus (real traffic, `../shared/conformance/`, never copied here) or from this project's
 * own wire samples (`src/test/resources/wire/`), which use the same file shape.
 */
public record WireExchange(String name, String endpoint, JsonNode request, int status, Map<String, String> headers,
    String body, String bodyBase64) {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String toString() {
    return name;
  }

  /** An exchange with a text body. */
  public WireExchange(String name, String endpoint, JsonNode request, int status, Map<String, String> headers,
      String body) {
    this(name, endpoint, request, status, headers, body, "");
  }

  /** The response body's bytes: the text body, or a binary one (`response.body_base64`, Bedrock's event streams). */
  public byte[] bodyBytes() {
    return bodyBase64.isEmpty() ? body.getBytes(StandardCharsets.UTF_8) : Base64.getDecoder().decode(bodyBase64);
  }

  /** The folder the exchange was read from (`openai-chat`, `mistral`...): the host that answered it. */
  public String folder() {
    return name.split("/")[1];
  }

  /** The path and query of the endpoint, for example `/openai/deployments/gpt-4o/chat/completions?api-version=...`. */
  public String pathAndQuery() {
    return endpoint.substring(endpoint.indexOf(' ') + 1);
  }

  /** The path part of the endpoint, for example `/v1/chat/completions`. */
  public String path() {
    String path = endpoint.substring(endpoint.indexOf(' ') + 1);
    int query = path.indexOf('?');
    return query < 0 ? path : path.substring(0, query);
  }

  /** The shared corpus folder, or empty when this checkout has no `../shared` beside it. */
  public static Optional<Path> sharedCorpus() {
    String override = System.getenv("LLMROUTER_CONFORMANCE_DIR");
    if (override != null) {
      return Optional.of(Path.of(override)).filter(Files::isDirectory);
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("shared/conformance");
      if (Files.isDirectory(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** The shared corpus exchanges of one provider folder (`openai-chat`, `groq`...); none when it is absent. */
  public static List<WireExchange> shared(String folder) {
    return sharedCorpus().map(root -> readAll(root.resolve(folder), "shared/" + folder)).orElse(List.of());
  }

  /** This project's own samples of one provider folder; none when it has no such folder. */
  public static List<WireExchange> own(String folder) {
    try {
      java.net.URL dir = WireExchange.class.getResource("/wire/" + folder);
      return dir == null ? List.of() : readAll(resourceFolder(dir.toURI()), "own/" + folder);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A folder of resources: in the server's test-jar when read from another module, through the jar's file system. */
  private static Path resourceFolder(URI folder) throws IOException {
    if (folder.getScheme().equals("jar")) {
      try {
        FileSystems.newFileSystem(folder, Map.of()); // left open: later reads of the jar share it
      } catch (FileSystemAlreadyExistsException opened) {
        // opened by an earlier read
      }
    }
    return Path.of(folder);
  }

  private static List<WireExchange> readAll(Path dir, String label) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      List<WireExchange> exchanges = new ArrayList<>();
      for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
        JsonNode node = JSON.readTree(Files.readString(file));
        JsonNode response = node.path("response");
        Map<String, String> headers = new LinkedHashMap<>();
        response.path("headers").fields().forEachRemaining(h -> {
          if (!h.getValue().isNull()) {
            headers.put(h.getKey(), h.getValue().asText());
          }
        });
        String bodyBase64 = response.path("body_base64").asText("");
        // A recording that lost its content type (`null`) is served with the one its body shows: the corpus's only
        // binary bodies are AWS event streams (INDEX.md); a text body goes without one, as JSON.
        if (!bodyBase64.isEmpty() && response.path("headers").path("content-type").isNull()) {
          headers.put("content-type", "application/vnd.amazon.eventstream");
        }
        exchanges.add(new WireExchange(label + "/" + file.getFileName(), node.path("endpoint").asText(),
            node.path("request"), response.path("status").asInt(), headers, response.path("body").asText(),
            bodyBase64));
      }
      return exchanges;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
