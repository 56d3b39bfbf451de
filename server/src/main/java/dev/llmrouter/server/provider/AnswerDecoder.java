package dev.llmrouter.server.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.Citation;
import dev.llmrouter.api.v1.ChatStart;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.ReasoningDelta;
import dev.llmrouter.api.v1.TextDelta;
import dev.llmrouter.api.v1.ToolCallDelta;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.sse.SseEvent;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What every adapter's decoder shares: the answer it writes to, and the rules of a whole answer, so that no adapter
 * passes on (or lets the cassettes record) a degenerate one.
 *
 * <ul>
 *   <li>An answer is whole when it named itself (an id or a model), said why it stopped, and holds content (text,
 *   reasoning, a refusal or a tool call) unless its finish reason explains why it holds none (length, content
 *   filter). Anything less is a malformed answer ({@link UpstreamErrors#malformed}).</li>
 *   <li>The start event and usage are held until the first content, so a degenerate answer fails before its first
 *   event reaches the caller, where the attempt can still be retried.</li>
 *   <li>An error the provider reports inside a 200 answer is mapped by the status or type it names
 *   ({@link UpstreamErrors#inAnswer}); an HTTP error body through {@link #messageOf} and {@link #codeOf}, a body
 *   that is not JSON quoted.</li>
 * </ul>
 */
public abstract class AnswerDecoder implements UpstreamHttpCall.Decoder {

  /** Finish reasons that explain an answer without content. */
  private static final Set<FinishReason> EMPTY_ALLOWED = Set.of(FinishReason.FINISH_REASON_LENGTH,
      FinishReason.FINISH_REASON_CONTENT_FILTER);

  protected final String provider;
  private final ChatEventStream answer;
  /** Why the upstream stopped, once it said so (unspecified for a reason the router does not know); null until then. */
  protected FinishReason finishReason;
  /** The answer's start, once a response named its id or model; null until then. */
  private ChatStart start;
  /** The events that wait for the first content: the start and usage. */
  private final List<ChatEvent> held = new ArrayList<>();
  private boolean hasContent;
  /** The answer's text so far, which citations' offsets count into. */
  private final StringBuilder text = new StringBuilder();
  private int textCodePoints;

  protected AnswerDecoder(String provider, ChatEventStream answer) {
    this.provider = provider;
    this.answer = answer;
  }

  /** The JSON data of a stream event; data that is not JSON fails the answer as malformed. */
  protected JsonNode json(SseEvent event) {
    try {
      return UpstreamHttpCall.parseJson(Buffer.buffer(event.data()));
    } catch (IOException e) {
      throw UpstreamErrors.malformed(provider, "a stream event is not JSON: " + UpstreamErrors.abbreviate(event.data()));
    }
  }

  /** The data of an `error` event: its JSON, or (a host that sends plain text) an error object quoting it. */
  protected JsonNode errorData(SseEvent event) {
    try {
      return UpstreamHttpCall.parseJson(Buffer.buffer(event.data()));
    } catch (IOException notJson) {
      return JsonNodeFactory.instance.objectNode().set("error", JsonNodeFactory.instance.objectNode()
          .put("message", UpstreamErrors.abbreviate(event.data())));
    }
  }

  /** Records the answer's start from the first response that names its id or model: providers repeat them. */
  protected void start(String id, String model, Timestamp created) {
    if (start == null && (!id.isEmpty() || !model.isEmpty())) {
      start = ChatStart.newBuilder().setId(id).setModel(model).setCreated(created).build();
    }
  }

  /** Emits an event of the answer; the start and usage wait until the first content. */
  protected void emit(ChatEvent event) {
    if (event.hasTextDelta()) {
      String delta = event.getTextDelta().getText();
      text.append(delta);
      textCodePoints += delta.codePointCount(0, delta.length());
    }
    if (!hasContent && !isContent(event)) {
      held.add(event);
      return;
    }
    if (!hasContent) {
      hasContent = true;
      release();
    }
    answer.emit(event);
  }

  /** Emits a tool call's delta: its id and name with the first fragment, then fragments of its arguments. */
  protected void emitToolCall(int index, String id, String name, String argumentsFragment) {
    emit(ChatEvent.newBuilder().setToolCallDelta(ToolCallDelta.newBuilder().setIndex(index).setId(id)
        .setName(name).setArgumentsDelta(argumentsFragment)).build());
  }

  /** Emits a text delta, unless it is empty. */
  protected void text(String text) {
    if (!text.isEmpty()) {
      emit(ChatEvent.newBuilder().setTextDelta(TextDelta.newBuilder().setText(text)).build());
    }
  }

  /** Emits a reasoning delta, unless it has neither text nor signature. */
  protected void reasoning(String text, String signature, boolean redacted) {
    if (!text.isEmpty() || !signature.isEmpty()) {
      emit(ChatEvent.newBuilder().setReasoningDelta(ReasoningDelta.newBuilder().setText(text)
          .setSignature(signature).setRedacted(redacted)).build());
    }
  }

  /** The length of the answer's text so far, in Unicode code points: where the next text delta starts. */
  protected int textLength() {
    return textCodePoints;
  }

  /**
   * The offset in code points of the answer's text that a provider counting UTF-8 bytes (Gemini) names; an offset
   * past the text so far is clamped to its end.
   */
  protected int codePointsAtUtf8Offset(int byteOffset) {
    int bytes = 0;
    int codePoints = 0;
    for (int i = 0; i < text.length() && bytes < byteOffset; codePoints++) {
      int codePoint = text.codePointAt(i);
      bytes += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
      i += Character.charCount(codePoint);
    }
    return codePoints;
  }

  /** Emits a citation of the answer's text (web search); it waits for the first content like the usage. */
  protected void cite(Citation citation) {
    emit(ChatEvent.newBuilder().setCitation(citation).build());
  }

  private static boolean isContent(ChatEvent event) {
    return event.hasTextDelta() || event.hasReasoningDelta() || event.hasRefusalDelta() || event.hasToolCallDelta();
  }

  // The start (blank when no response named the answer before its first content), then what waited for it.
  private void release() {
    answer.emit(ChatEvent.newBuilder().setStart(start == null ? ChatStart.getDefaultInstance() : start).build());
    held.forEach(answer::emit);
    held.clear();
  }

  @Override
  public void onStreamEnd(boolean cutMidEvent) {
    // A stream may end without its closing marker (some hosts omit it): a known finish reason means it is whole.
    if (finishReason != null && !cutMidEvent) {
      finish();
    } else {
      answer.fail(UpstreamErrors.unreachable(provider, "the stream ended before the answer finished"));
    }
  }

  /** Completes the answer when it is whole (see the class comment), or fails it as malformed, naming what it lacks. */
  protected final void finish() {
    List<String> missing = new ArrayList<>();
    if (start == null) {
      missing.add("a start (no id or model)");
    }
    if (!hasContent && (finishReason == null || !EMPTY_ALLOWED.contains(finishReason))) {
      missing.add("content");
    }
    if (finishReason == null) {
      missing.add("a finish reason");
    }
    if (!missing.isEmpty()) {
      answer.fail(UpstreamErrors.malformed(provider, "the answer ended without " + String.join(", ", missing)));
      return;
    }
    beforeCompletion();
    if (!hasContent) {
      release();
    }
    answer.complete(finishReason);
  }

  /** Emits what a decoder held until the end of a whole answer, and may refine {@link #finishReason}. */
  protected void beforeCompletion() {
  }

  /** The error a provider reported inside its 200 answer; see {@link UpstreamErrors#inAnswer}. */
  protected CallError errorInAnswer(int status, String type, String message) {
    return UpstreamErrors.inAnswer(provider, status, type, message);
  }

  @Override
  public CallError error(int httpStatus, MultiMap headers, Buffer body) {
    JsonNode json;
    try {
      json = UpstreamHttpCall.parseJson(body);
    } catch (IOException | RuntimeException notJson) {
      return UpstreamErrors.fromHttp(provider, httpStatus, headers, UpstreamErrors.abbreviate(body.toString()), "");
    }
    return errorFrom(json, httpStatus, headers);
  }

  /** Reads the provider's HTTP error JSON through {@link #messageOf} and {@link #codeOf}. */
  private CallError errorFrom(JsonNode json, int httpStatus, MultiMap headers) {
    return UpstreamErrors.fromHttp(provider, httpStatus, headers, messageOf(json), codeOf(json.path("error")));
  }

  /**
   * The message of an error JSON in the shape Anthropic and Gemini share, `{"error": {"message": ...}}`, or (none
   * given) the whole JSON, shortened; OpenAI's looser shapes override it.
   */
  protected String messageOf(JsonNode json) {
    String message = json.path("error").path("message").asText("");
    return message.isEmpty() ? UpstreamErrors.abbreviate(json.toString()) : message;
  }

  /** The code of an error object: its `type` (Anthropic), or its `status` (Google), or empty. */
  protected String codeOf(JsonNode error) {
    return error.path("type").asText(error.path("status").asText(""));
  }
}
