package dev.llmrouter.server.provider;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.TokenCountMethod;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.sse.SseEvent;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

/**
 * Reads a count endpoint's answer: one JSON body holding the count as a whole number under one field
 * (`input_tokens`, `totalTokens`, `inputTokens`). Anything else is a malformed answer ({@link UpstreamErrors#malformed}),
 * neither passed on nor recorded. HTTP errors are read as the host's chat errors are.
 */
public final class TokenCountDecoder implements UpstreamHttpCall.Decoder {

  private final String provider;
  private final String upstreamModel;
  private final String field;
  private final AnswerStream<CountTokensResponse> answer;
  private final UpstreamHttpCall.Decoder errors;

  /**
   * @param field the field of the answer that holds the count
   * @param errors reads the host's HTTP errors (its chat decoder: an error answer is read, nothing emitted)
   */
  public TokenCountDecoder(String provider, String upstreamModel, String field,
      AnswerStream<CountTokensResponse> answer, UpstreamHttpCall.Decoder errors) {
    this.provider = provider;
    this.upstreamModel = upstreamModel;
    this.field = field;
    this.answer = answer;
    this.errors = errors;
  }

  @Override
  public void onJson(JsonNode body) {
    JsonNode count = body.path(field);
    if (!count.canConvertToInt() || !count.isIntegralNumber() || count.asInt() < 0) {
      throw UpstreamErrors.malformed(provider, "a count answer without a whole number in \"" + field + "\": "
          + UpstreamErrors.abbreviate(body.toString()));
    }
    answer.emit(CountTokensResponse.newBuilder().setInputTokens(count.asInt())
        .setMethod(TokenCountMethod.TOKEN_COUNT_METHOD_PROVIDER).setModel(upstreamModel).setProvider(provider)
        .build());
  }

  @Override
  public void onEvent(SseEvent event) {
    throw UpstreamErrors.malformed(provider, "a count answer came as an event stream");
  }

  @Override
  public void onStreamEnd(boolean cutMidEvent) {
    answer.fail(UpstreamErrors.malformed(provider, "a count answer came as an empty event stream"));
  }

  @Override
  public CallError error(int httpStatus, MultiMap headers, Buffer body) {
    return errors.error(httpStatus, headers, body);
  }
}
