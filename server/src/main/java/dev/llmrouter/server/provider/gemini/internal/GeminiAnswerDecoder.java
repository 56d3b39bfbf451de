package dev.llmrouter.server.provider.gemini.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.google.protobuf.Timestamp;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.Citation;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.ReasoningDelta;
import dev.llmrouter.api.v1.TextDelta;
import dev.llmrouter.api.v1.ToolCallDelta;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.provider.AnswerDecoder;
import dev.llmrouter.server.provider.sse.SseEvent;
import java.util.List;
import java.util.Set;

/**
 * Reads a Gemini answer, whole (`generateContent`) or streamed (`streamGenerateContent?alt=sse`: each event a
 * partial response, no `[DONE]`, so the stream's end after a finish reason completes the answer) into events. Only
 * the first candidate is relayed. Each `functionCall` part is a whole call: it becomes one tool-call delta. A finish
 * reason may come as its name or (Vertex AI's `enum-encoding=int`) as its number in the host's enum.
 */
public final class GeminiAnswerDecoder extends AnswerDecoder {

  private static final Set<String> BLOCKED = Set.of("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
      "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "MODEL_ARMOR");

  private final List<String> finishReasonNames;

  private int functionCalls;
  private String signature = "";
  private boolean signatureFromCall;
  private JsonNode usageMetadata = MissingNode.getInstance();
  /** The grounding of the answer in Google Search results, from the last response that had one. */
  private JsonNode groundingMetadata = MissingNode.getInstance();

  /** @param finishReasonNames the host's finish reasons by number, for a host that sends numbers; else empty */
  public GeminiAnswerDecoder(String provider, ChatEventStream answer, List<String> finishReasonNames) {
    super(provider, answer);
    this.finishReasonNames = finishReasonNames;
  }

  @Override
  public void onJson(JsonNode body) {
    read(body);
    finish();
  }

  @Override
  public void onEvent(SseEvent event) {
    JsonNode chunk = json(event);
    read(chunk);
  }

  /** One response, or one partial response of a stream. */
  private void read(JsonNode response) {
    if (response.hasNonNull("error")) {
      // An error inside a 200 answer or stream, with the HTTP status in its `code`.
      JsonNode error = response.get("error");
      throw errorInAnswer(error.path("code").asInt(0), codeOf(error), messageOf(response));
    }
    start(response);
    JsonNode candidate = response.path("candidates").path(0);
    for (JsonNode part : candidate.path("content").path("parts")) {
      part(part);
    }
    if (candidate.hasNonNull("finishReason")) {
      finishReason = finishReason(finishReasonName(candidate.get("finishReason")));
    } else if (response.path("promptFeedback").hasNonNull("blockReason")) {
      finishReason = FinishReason.FINISH_REASON_CONTENT_FILTER;
    }
    // A stream sends the grounding whole with its last chunks (the others carry an empty object).
    if (!candidate.path("groundingMetadata").isEmpty()) {
      groundingMetadata = candidate.get("groundingMetadata");
    }
    // Every chunk repeats the usage so far: the last one counts.
    if (response.path("usageMetadata").isObject()) {
      usageMetadata = response.get("usageMetadata");
    }
  }

  private void start(JsonNode response) {
    // Gemini reports no creation time.
    start(response.path("responseId").asText(""), response.path("modelVersion").asText(""),
        Timestamp.getDefaultInstance());
  }

  /**
   * A thought part is reasoning, a text part text, a functionCall part a tool call whose id is Gemini's own when it
   * sends one, else `call_<index>` with its position among the answer's calls.
   *
   * <p>A thoughtSignature may sit on any part; the one Gemini needs back is on the first functionCall, or (an answer
   * without calls) on the last part that has one. It is kept here and emitted once, at the end, as a reasoning delta
   * holding only the signature, so the assembled message carries it in its Reasoning part; the request mapper puts it
   * back on the first functionCall, or the last part, of that message.
   */
  private void part(JsonNode part) {
    String partSignature = part.path("thoughtSignature").asText("");
    if (!partSignature.isEmpty() && !signatureFromCall) {
      signature = partSignature;
      signatureFromCall = part.has("functionCall");
    }
    if (part.has("functionCall")) {
      JsonNode call = part.get("functionCall");
      int index = functionCalls++;
      String id = call.path("id").asText("");
      emit(ChatEvent.newBuilder().setToolCallDelta(ToolCallDelta.newBuilder().setIndex(index)
          .setId(id.isEmpty() ? "call_" + index : id).setName(call.path("name").asText(""))
          .setArgumentsDelta(call.path("args").isObject() ? call.get("args").toString() : "{}")).build());
      return;
    }
    String text = part.path("text").asText("");
    if (text.isEmpty()) {
      return;
    }
    if (part.path("thought").asBoolean(false)) {
      emit(ChatEvent.newBuilder().setReasoningDelta(ReasoningDelta.newBuilder().setText(text)).build());
    } else {
      emit(ChatEvent.newBuilder().setTextDelta(TextDelta.newBuilder().setText(text)).build());
    }
  }

  // The signature, the citations and the last usage wait for the end; Gemini says STOP after function calls.
  @Override
  protected void beforeCompletion() {
    if (!signature.isEmpty()) {
      emit(ChatEvent.newBuilder().setReasoningDelta(ReasoningDelta.newBuilder().setSignature(signature)).build());
    }
    citations(groundingMetadata);
    if (usageMetadata.isObject()) {
      Usage.Builder usage = usage(usageMetadata).toBuilder();
      if (groundingMetadata.path("webSearchQueries").size() > 0) {
        usage.setWebSearches(groundingMetadata.get("webSearchQueries").size());
      }
      emit(ChatEvent.newBuilder().setUsage(usage).build());
    }
    if (finishReason == FinishReason.FINISH_REASON_STOP && functionCalls > 0) {
      finishReason = FinishReason.FINISH_REASON_TOOL_CALLS;
    }
  }

  /**
   * A citation per source of each grounded span: the span's UTF-8 byte offsets in the answer's text become code
   * points, and its text is the cited text.
   */
  private void citations(JsonNode grounding) {
    JsonNode chunks = grounding.path("groundingChunks");
    for (JsonNode support : grounding.path("groundingSupports")) {
      JsonNode segment = support.path("segment");
      int start = codePointsAtUtf8Offset(segment.path("startIndex").asInt(0));
      int end = codePointsAtUtf8Offset(segment.path("endIndex").asInt(0));
      for (JsonNode chunkIndex : support.path("groundingChunkIndices")) {
        JsonNode web = chunks.path(chunkIndex.asInt()).path("web");
        if (web.isObject()) {
          cite(Citation.newBuilder().setUrl(web.path("uri").asText("")).setTitle(web.path("title").asText(""))
              .setStartIndex(start).setEndIndex(end).setCitedText(segment.path("text").asText("")).build());
        }
      }
    }
  }

  // Gemini counts thoughts apart from the answer; output tokens include them (ARCHITECTURE.md section 3).
  private static Usage usage(JsonNode metadata) {
    Usage.Builder usage = Usage.newBuilder();
    if (metadata.has("promptTokenCount")) {
      usage.setInputTokens(metadata.get("promptTokenCount").asLong());
    }
    if (metadata.has("candidatesTokenCount") || metadata.has("thoughtsTokenCount")) {
      usage.setOutputTokens(metadata.path("candidatesTokenCount").asLong(0)
          + metadata.path("thoughtsTokenCount").asLong(0));
    }
    if (metadata.has("thoughtsTokenCount")) {
      usage.setReasoningTokens(metadata.get("thoughtsTokenCount").asLong());
    }
    if (metadata.has("cachedContentTokenCount")) {
      usage.setCachedInputTokens(metadata.get("cachedContentTokenCount").asLong());
    }
    return usage.build();
  }

  private String finishReasonName(JsonNode reason) {
    if (!reason.isInt()) {
      return reason.asText();
    }
    int number = reason.intValue();
    return number >= 0 && number < finishReasonNames.size() ? finishReasonNames.get(number) : "";
  }

  private static FinishReason finishReason(String reason) {
    if (BLOCKED.contains(reason)) {
      return FinishReason.FINISH_REASON_CONTENT_FILTER;
    }
    return switch (reason) {
      case "STOP" -> FinishReason.FINISH_REASON_STOP;
      case "MAX_TOKENS" -> FinishReason.FINISH_REASON_LENGTH;
      default -> FinishReason.FINISH_REASON_UNSPECIFIED;
    };
  }
}
