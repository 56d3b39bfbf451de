package dev.llmrouter.server.provider;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.Embedding;
import dev.llmrouter.cassettes.Float32Base64;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.sse.SseEvent;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

/**
 * What every adapter's embedding answer shares: one JSON body (an event stream is no embedding answer), and in it one
 * vector per input, in the order of the inputs, all of one size and none empty. Anything less is a malformed answer
 * ({@link UpstreamErrors#malformed}): it is neither passed on nor recorded. HTTP errors are read as the host's chat
 * errors are.
 */
public abstract class EmbeddingDecoder implements UpstreamHttpCall.Decoder {

  protected final String provider;
  private final int inputs;
  private final AnswerStream<EmbedResponse> answer;
  private final UpstreamHttpCall.Decoder errors;

  /** @param errors reads the host's HTTP errors (its chat decoder: an error answer is read, nothing emitted) */
  protected EmbeddingDecoder(String provider, EmbedRequest request, AnswerStream<EmbedResponse> answer,
      UpstreamHttpCall.Decoder errors) {
    this.provider = provider;
    this.inputs = request.getInputsCount();
    this.answer = answer;
    this.errors = errors;
  }

  /** The answer in a host's JSON body: its vectors in the order of the inputs, the model and the usage. */
  protected abstract EmbedResponse read(JsonNode body);

  @Override
  public final void onJson(JsonNode body) {
    EmbedResponse response = read(body);
    if (response.getEmbeddingsCount() != inputs) {
      throw UpstreamErrors.malformed(provider, response.getEmbeddingsCount() + " vectors for " + inputs + " inputs");
    }
    int size = response.getEmbeddings(0).getValuesCount();
    for (Embedding embedding : response.getEmbeddingsList()) {
      if (embedding.getValuesCount() == 0 || embedding.getValuesCount() != size) {
        throw UpstreamErrors.malformed(provider, "vectors of " + size + " and " + embedding.getValuesCount()
            + " values in one answer");
      }
    }
    answer.emit(response);
  }

  @Override
  public final void onEvent(SseEvent event) {
    throw UpstreamErrors.malformed(provider, "an embedding answer came as an event stream");
  }

  @Override
  public final void onStreamEnd(boolean cutMidEvent) {
    answer.fail(UpstreamErrors.malformed(provider, "an embedding answer came as an empty event stream"));
  }

  @Override
  public final CallError error(int httpStatus, MultiMap headers, Buffer body) {
    return errors.error(httpStatus, headers, body);
  }

  /** A vector sent as a JSON array of numbers, or as base64 of little-endian 32-bit floats. */
  protected Embedding vector(JsonNode values) {
    if (values.isTextual()) {
      try {
        return Float32Base64.decode(values.textValue());
      } catch (IllegalArgumentException e) {
        throw UpstreamErrors.malformed(provider, "a base64 vector that does not decode: " + e.getMessage());
      }
    }
    if (!values.isArray()) {
      throw UpstreamErrors.malformed(provider, "a vector that is neither an array nor base64: "
          + UpstreamErrors.abbreviate(values.toString()));
    }
    Embedding.Builder embedding = Embedding.newBuilder();
    for (JsonNode value : values) {
      if (!value.isNumber()) {
        throw UpstreamErrors.malformed(provider, "a vector holds " + UpstreamErrors.abbreviate(value.toString()));
      }
      embedding.addValues(value.floatValue());
    }
    return embedding.build();
  }
}
