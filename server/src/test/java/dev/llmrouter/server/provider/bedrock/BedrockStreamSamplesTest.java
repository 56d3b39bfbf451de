package dev.llmrouter.server.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.server.testing.BedrockEventStream;
import dev.llmrouter.server.testing.OpenAiWire;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The project's own Bedrock stream samples keep their frames readable beside the binary body: `response.events`
 * (each `{event-type | exception-type, payload}`, or for InvokeModelWithResponseStream `{event-type: chunk, chunk}`,
 * the Anthropic event whose JSON the frame's payload carries as `{"bytes": base64}`). Their `body_base64` must be the AWS SDK's encoding of those frames,
 * which this test prints when it is not (to paste after editing the events).
 */
class BedrockStreamSamplesTest {

  @Test
  void eachStreamSampleIsTheSdkEncodingOfItsEvents() throws IOException, URISyntaxException {
    Path folder = Path.of(getClass().getResource("/wire/bedrock").toURI());
    List<String> mismatched = new ArrayList<>();
    int streams = 0;
    try (Stream<Path> files = Files.list(folder)) {
      for (Path file : files.sorted().toList()) {
        JsonNode response = OpenAiWire.read(Files.readString(file)).path("response");
        if (!response.has("events")) {
          continue;
        }
        streams++;
        List<BedrockEventStream.Frame> frames = new ArrayList<>();
        for (JsonNode event : response.path("events")) {
          boolean exception = event.has("exception-type");
          String payload = event.has("chunk") ? "{\"bytes\":\"" + Base64.getEncoder().encodeToString(
              event.path("chunk").toString().getBytes(StandardCharsets.UTF_8)) + "\"}" : event.path("payload").toString();
          frames.add(new BedrockEventStream.Frame(exception ? "exception" : "event",
              event.path(exception ? "exception-type" : "event-type").asText(), payload));
        }
        String encoded = Base64.getEncoder().encodeToString(BedrockEventStream.encode(frames));
        if (!encoded.equals(response.path("body_base64").asText())) {
          mismatched.add(file.getFileName() + ": " + encoded);
        }
      }
    }
    assertFalse(streams == 0, "the samples hold streams");
    assertEquals(List.of(), mismatched, "body_base64 to write for each");
  }
}
