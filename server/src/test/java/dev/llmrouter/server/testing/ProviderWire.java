package dev.llmrouter.server.testing;

import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.provider.ProviderTypes;
import java.util.List;

/**
 * What the shared conformance suite needs to know about one provider's wire format, written on the test side and
 * independently of the adapter: which recorded exchanges exist, what each recorded response says the answer is,
 * which {@link ChatRequest} makes the adapter send a recorded request, and how to check what the adapter sent.
 */
public interface ProviderWire {

  /** What the caller must receive for a recorded successful response. Unreported usage is {@code null}. */
  record Answer(String text, String refusal, String reasoning, String reasoningSignature, List<ToolCall> toolCalls,
      Usage usage, FinishReason finishReason, String id, String model) {
  }

  /** The adapter's provider type, as in config (`openai`). */
  String type();

  /** The folders of recorded exchanges: this project's own samples and the shared corpus use the same names. */
  List<String> folders();

  /**
   * Whether an exchange is a call of the endpoint the adapter speaks: the corpus also holds the provider's other
   * endpoints (token counting), which no chat request produces.
   */
  boolean speaks(WireExchange exchange);

  /** What a `providers:` entry of the type needs beside name, type, base_url and api_key, as `key: value, ...`. */
  default String requiredSettings() {
    return "";
  }

  /** The `providers:` entries this wire needs, pointing at the mock upstream's base URL. */
  String providersYaml(String baseUrl);

  /**
   * What the adapter declares the model of {@code request} (`provider/model`) can honour: its type's, unless the
   * wire's deployments of one type speak different APIs.
   */
  default Capabilities capabilitiesOf(ChatRequest request) {
    return ProviderTypes.capabilities(type(), request.getModel().substring(request.getModel().indexOf('/') + 1));
  }

  /** The configured provider name that serves an exchange (some corpora hold several hosts of one format). */
  String providerFor(WireExchange exchange);

  Answer answerOf(WireExchange exchange);

  /**
   * The HTTP status the recorded answer amounts to: its response status, unless the provider reported an error
   * inside a 200 stream (then the status that error stands for).
   */
  default int statusOf(WireExchange exchange) {
    return exchange.status();
  }

  /** The provider's own error message in a recorded error response. */
  String errorMessageOf(WireExchange exchange);

  /** The request a caller sends to make the adapter send the recorded one (any sensible request when none was). */
  ChatRequest requestFor(WireExchange exchange);

  /** Asserts the adapter's upstream request (path, credentials, body) matches the recording. */
  void assertSent(WireExchange exchange, MockUpstream.Received sent, boolean streamed);
}
