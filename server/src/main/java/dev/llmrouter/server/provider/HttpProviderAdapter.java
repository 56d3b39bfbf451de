package dev.llmrouter.server.provider;

import dev.llmrouter.server.answer.AnswerStream;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

/**
 * What every HTTP adapter shares: its deployment, the deployment's pooled client, and the POST of a mapped request
 * through {@link UpstreamHttpCall}. An adapter adds only its wire format: path, headers, body and answer decoder.
 */
public abstract class HttpProviderAdapter implements ProviderAdapter {

  protected final ProviderConfig deployment;
  private final UpstreamClient client;

  protected HttpProviderAdapter(UpstreamClient client, ProviderConfig deployment) {
    this.client = client;
    this.deployment = deployment;
  }

  /** Headers with the deployment's key under {@code keyHeader} (as {@code keyPrefix + key}) when it has one. */
  protected MultiMap headersWithKey(String keyHeader, String keyPrefix) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (!deployment.apiKey().isEmpty()) {
      headers.add(keyHeader, keyPrefix + deployment.apiKey());
    }
    return headers;
  }

  /** POSTs {@code body} to {@code base_url + pathAndQuery}; the answer arrives in {@code answer} via the decoder. */
  protected void post(String pathAndQuery, MultiMap headers, String body, AnswerStream<?> answer,
      UpstreamHttpCall.Decoder decoder) {
    UpstreamHttpCall.post(client, deployment, deployment.baseUrl() + pathAndQuery, headers, Buffer.buffer(body),
        answer, decoder);
  }
}
