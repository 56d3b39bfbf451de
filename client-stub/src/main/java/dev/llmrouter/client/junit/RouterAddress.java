package dev.llmrouter.client.junit;

/**
 * Where the router {@link LlmRouterExtension} started listens: its gRPC target, and the base URLs the provider SDKs
 * take for its HTTP ingress, which shares the gRPC port. Resolved as a parameter of test and lifecycle methods.
 *
 * @param host the host it listens on, a name or an address (an IPv6 address without brackets)
 */
public record RouterAddress(String host, int port) {

  /** {@code host:port}, for {@code LlmRouterClient.builder().target(...)} or a grpc-java channel. */
  public String target() {
    return authority();
  }

  /** The base URL of the OpenAI SDKs ({@code OPENAI_BASE_URL}): {@code http://host:port/v1}. */
  public String openAiBaseUrl() {
    return baseUrl() + "/v1";
  }

  /** The base URL of the Anthropic SDKs ({@code ANTHROPIC_BASE_URL}): {@code http://host:port}. */
  public String anthropicBaseUrl() {
    return baseUrl();
  }

  /** The base URL of the Gemini SDKs ({@code GOOGLE_GEMINI_BASE_URL}): {@code http://host:port}. */
  public String geminiBaseUrl() {
    return baseUrl();
  }

  private String baseUrl() {
    return "http://" + authority();
  }

  private String authority() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
