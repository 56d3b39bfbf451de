package dev.llmrouter.server.ingress.openai.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.Citation;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolCallDelta;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.ingress.DialectCall;
import dev.llmrouter.server.ingress.DialectCall.Frame;
import dev.llmrouter.server.ingress.DialectValues;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Writes an answer as OpenAI Chat Completions does: one `chat.completion` object, or `chat.completion.chunk`s
 * (the role first, then the deltas, the finish reason, the usage chunk with `choices: []` when the caller asked for
 * it) ended by `data: [DONE]`. Reasoning goes in `reasoning_content`, as DeepSeek and vLLM send it.
 */
public final class ChatCompletionsWriter implements DialectCall.Writer {

  private static final String ID_PREFIX = "chatcmpl-";

  private final boolean includeUsage;
  private String id = "";
  private long created;
  private String model = "";
  private Usage usage;

  public ChatCompletionsWriter(boolean includeUsage) {
    this.includeUsage = includeUsage;
  }

  @Override
  public ObjectNode answer(ChatResponse response) {
    ObjectNode completion = ProtoJson.MAPPER.createObjectNode()
        .put("id", DialectValues.responseId(response.getId(), ID_PREFIX))
        .put("object", "chat.completion")
        .put("created", DialectValues.epochSeconds(response.getCreated()))
        .put("model", response.getModel());
    ObjectNode choice = completion.putArray("choices").addObject().put("index", 0);
    ObjectNode message = choice.putObject("message").put("role", "assistant");
    String text = response.getMessage().getPartsList().stream().filter(Part::hasText).map(Part::getText)
        .collect(Collectors.joining());
    String refusal = response.getMessage().getPartsList().stream().filter(Part::hasRefusal).map(Part::getRefusal)
        .collect(Collectors.joining());
    String reasoning = response.getMessage().getPartsList().stream().filter(Part::hasReasoning)
        .map(p -> p.getReasoning().getText()).collect(Collectors.joining());
    if (text.isEmpty() && response.getMessage().getToolCallsCount() > 0) {
      message.putNull("content");
    } else {
      message.put("content", text);
    }
    if (refusal.isEmpty()) {
      message.putNull("refusal");
    } else {
      message.put("refusal", refusal);
    }
    if (!reasoning.isEmpty()) {
      message.put("reasoning_content", reasoning);
    }
    ArrayNode annotations = message.putArray("annotations");
    response.getMessage().getCitationsList().forEach(citation -> annotations.add(annotation(citation)));
    if (response.getMessage().getToolCallsCount() > 0) {
      ArrayNode calls = message.putArray("tool_calls");
      for (ToolCall call : response.getMessage().getToolCallsList()) {
        ObjectNode c = calls.addObject().put("id", call.getId()).put("type", "function");
        c.putObject("function").put("name", call.getName()).put("arguments", call.getArgumentsJson());
      }
    }
    choice.putNull("logprobs");
    choice.put("finish_reason", finishReason(response.getFinishReason()));
    if (response.hasUsage()) {
      completion.set("usage", usage(response.getUsage()));
    }
    return completion;
  }

  /** The chunks of one event. */
  @Override
  public void event(ChatEvent event, Consumer<Frame> out) {
    switch (event.getEventCase()) {
      case START -> {
        id = DialectValues.responseId(event.getStart().getId(), ID_PREFIX);
        created = DialectValues.epochSeconds(event.getStart().getCreated());
        model = event.getStart().getModel();
        ObjectNode delta = ProtoJson.MAPPER.createObjectNode().put("role", "assistant").put("content", "");
        out.accept(chunk(delta, null));
      }
      case TEXT_DELTA -> out.accept(chunk(ProtoJson.MAPPER.createObjectNode()
          .put("content", event.getTextDelta().getText()), null));
      case REASONING_DELTA -> {
        if (!event.getReasoningDelta().getText().isEmpty()) {
          out.accept(chunk(ProtoJson.MAPPER.createObjectNode()
              .put("reasoning_content", event.getReasoningDelta().getText()), null));
        }
      }
      case REFUSAL_DELTA -> out.accept(chunk(ProtoJson.MAPPER.createObjectNode()
          .put("refusal", event.getRefusalDelta().getText()), null));
      case TOOL_CALL_DELTA -> {
        ToolCallDelta call = event.getToolCallDelta();
        ObjectNode delta = ProtoJson.MAPPER.createObjectNode();
        ObjectNode fragment = delta.putArray("tool_calls").addObject().put("index", call.getIndex());
        if (!call.getId().isEmpty()) {
          fragment.put("id", call.getId()).put("type", "function");
        }
        ObjectNode function = fragment.putObject("function");
        if (!call.getName().isEmpty()) {
          function.put("name", call.getName());
        }
        function.put("arguments", call.getArgumentsDelta());
        out.accept(chunk(delta, null));
      }
      case CITATION -> {
        ObjectNode delta = ProtoJson.MAPPER.createObjectNode();
        delta.putArray("annotations").add(annotation(event.getCitation()));
        out.accept(chunk(delta, null));
      }
      case USAGE -> usage = event.getUsage();
      case DONE -> {
        ChatResponse response = event.getDone().getResponse();
        out.accept(chunk(ProtoJson.MAPPER.createObjectNode(), finishReason(response.getFinishReason())));
        Usage finalUsage = response.hasUsage() ? response.getUsage() : usage;
        if (includeUsage && finalUsage != null) {
          ObjectNode last = header();
          last.putArray("choices");
          last.set("usage", usage(finalUsage));
          out.accept(Frame.data(json(last)));
        }
        out.accept(Frame.data("[DONE]"));
      }
      default -> {
      }
    }
  }

  /** An error after the stream started: an `{"error": ...}` data event, then `[DONE]`. */
  @Override
  public void failure(ObjectNode errorBody, Consumer<Frame> out) {
    out.accept(Frame.data(json(errorBody)));
    out.accept(Frame.data("[DONE]"));
  }

  private Frame chunk(ObjectNode delta, String finishReason) {
    ObjectNode chunk = header();
    ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
    choice.set("delta", delta);
    choice.putNull("logprobs");
    if (finishReason == null) {
      choice.putNull("finish_reason");
    } else {
      choice.put("finish_reason", finishReason);
    }
    return Frame.data(json(chunk));
  }

  private ObjectNode header() {
    return ProtoJson.MAPPER.createObjectNode().put("id", id).put("object", "chat.completion.chunk")
        .put("created", created).put("model", model);
  }

  /** A citation as a search model's `url_citation` annotation; its offsets count code points, as OpenAI's do. */
  private static ObjectNode annotation(Citation citation) {
    ObjectNode annotation = ProtoJson.MAPPER.createObjectNode().put("type", "url_citation");
    ObjectNode url = annotation.putObject("url_citation");
    if (citation.hasStartIndex() && citation.hasEndIndex()) {
      url.put("start_index", citation.getStartIndex()).put("end_index", citation.getEndIndex());
    }
    url.put("title", citation.getTitle()).put("url", citation.getUrl());
    return annotation;
  }

  private static ObjectNode usage(Usage usage) {
    ObjectNode node = ProtoJson.MAPPER.createObjectNode()
        .put("prompt_tokens", usage.getInputTokens())
        .put("completion_tokens", usage.getOutputTokens())
        .put("total_tokens", usage.getInputTokens() + usage.getOutputTokens());
    if (usage.hasCachedInputTokens()) {
      node.putObject("prompt_tokens_details").put("cached_tokens", usage.getCachedInputTokens());
    }
    if (usage.hasReasoningTokens()) {
      node.putObject("completion_tokens_details").put("reasoning_tokens", usage.getReasoningTokens());
    }
    return node;
  }

  static String finishReason(FinishReason reason) {
    return switch (reason) {
      case FINISH_REASON_LENGTH -> "length";
      case FINISH_REASON_TOOL_CALLS -> "tool_calls";
      case FINISH_REASON_CONTENT_FILTER -> "content_filter";
      default -> "stop";
    };
  }

  private static String json(ObjectNode node) {
    return node.toString();
  }
}
