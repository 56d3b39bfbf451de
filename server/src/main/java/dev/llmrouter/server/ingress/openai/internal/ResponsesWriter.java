package dev.llmrouter.server.ingress.openai.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.FinishReason;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Reasoning;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolCallDelta;
import dev.llmrouter.api.v1.Usage;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.ingress.DialectCall;
import dev.llmrouter.server.ingress.DialectCall.Frame;
import dev.llmrouter.server.ingress.DialectValues;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Writes an answer as the OpenAI Responses API does: one Response object, or typed events each with its
 * `sequence_number` (`response.created`, `response.in_progress`, for every output item its `added`, parts and
 * deltas, and `done` events, then `response.completed` or `response.incomplete` with the whole Response, or
 * `response.failed`). Output items are a reasoning item, a message (its text and refusal) and a function call per
 * tool call, in the order the answer gives them (function calls stay open together until the answer moves on, as
 * some providers interleave their fragments); their ids are the response id's and their position, so that a
 * replayed answer has the same ones. Reasoning is shown as a summary when the caller asked for summaries, and as
 * reasoning text otherwise; its signature goes in `encrypted_content` (see {@link EncryptedReasoning}).
 */
public final class ResponsesWriter implements DialectCall.Writer {

  private static final String ID_PREFIX = "resp_";
  private static final String MESSAGE = "message";
  private static final String FUNCTION_CALL = "function_call";
  private static final String REASONING = "reasoning";
  private static final String OUTPUT_TEXT = "output_text";
  private static final String REFUSAL = "refusal";

  private final ResponsesRequestReader.Read read;
  private String id = "";
  private long createdAt;
  private String model = "";
  private int sequence;
  private final List<Item> items = new ArrayList<>();
  private final Map<Integer, Item> callsByIndex = new HashMap<>();
  /** The items not done yet: one message or reasoning item, or the function calls whose fragments may interleave. */
  private final List<Item> open = new ArrayList<>();
  private Usage usage;

  public ResponsesWriter(ResponsesRequestReader.Read read) {
    this.read = read;
  }

  @Override
  public ObjectNode answer(ChatResponse response) {
    String id = DialectValues.responseId(response.getId(), ID_PREFIX);
    List<ObjectNode> output = new ArrayList<>();
    for (Part part : response.getMessage().getPartsList()) {
      if (part.hasReasoning()) {
        output.add(reasoningItem(itemId(id, "rs_", output.size()), part.getReasoning().getText(),
            read.reasoningSummary(), EncryptedReasoning.of(part.getReasoning())));
      }
    }
    List<ContentPart> content = new ArrayList<>();
    String text = joined(response, Part::hasText, Part::getText);
    String refusal = joined(response, Part::hasRefusal, Part::getRefusal);
    if (!text.isEmpty()) {
      content.add(new ContentPart(OUTPUT_TEXT, new StringBuilder(text)));
    }
    if (!refusal.isEmpty()) {
      content.add(new ContentPart(REFUSAL, new StringBuilder(refusal)));
    }
    if (!content.isEmpty()) {
      output.add(messageItem(itemId(id, "msg_", output.size()), "completed", content));
    }
    for (ToolCall call : response.getMessage().getToolCallsList()) {
      output.add(functionCallItem(itemId(id, "fc_", output.size()), "completed", call.getId(), call.getName(),
          call.getArgumentsJson()));
    }
    Outcome outcome = Outcome.of(response.getFinishReason());
    if (!output.isEmpty() && output.get(output.size() - 1).has("status")) {
      output.get(output.size() - 1).put("status", outcome.itemStatus());
    }
    return responseObject(id, DialectValues.epochSeconds(response.getCreated()), response.getModel(), outcome,
        ProtoJson.MAPPER.createArrayNode().addAll(output), response.hasUsage() ? response.getUsage() : null,
        read.echo());
  }

  /** The events one answer event becomes. */
  @Override
  public void event(ChatEvent event, Consumer<Frame> out) {
    switch (event.getEventCase()) {
      case START -> {
        id = DialectValues.responseId(event.getStart().getId(), ID_PREFIX);
        createdAt = DialectValues.epochSeconds(event.getStart().getCreated());
        model = event.getStart().getModel();
        for (String type : List.of("response.created", "response.in_progress")) {
          send(eventOf(type).set("response", snapshot(Outcome.IN_PROGRESS)), out);
        }
      }
      case TEXT_DELTA -> contentDelta(OUTPUT_TEXT, event.getTextDelta().getText(), out);
      case REFUSAL_DELTA -> contentDelta(REFUSAL, event.getRefusalDelta().getText(), out);
      // A signature alone shows nothing: it reaches the caller in the final Response's reasoning item.
      case REASONING_DELTA -> reasoningDelta(event.getReasoningDelta().getText(), out);
      case TOOL_CALL_DELTA -> toolCallDelta(event.getToolCallDelta(), out);
      case USAGE -> usage = event.getUsage();
      case DONE -> done(event.getDone().getResponse(), out);
      default -> {
      }
    }
  }

  /** A failure after the stream started: `response.failed`, with the output so far and the error. */
  @Override
  public void failure(ObjectNode errorBody, Consumer<Frame> out) {
    ObjectNode error = ProtoJson.MAPPER.createObjectNode().put("code", errorBody.path("error").path("code").asText())
        .put("message", errorBody.path("error").path("message").asText());
    send(eventOf("response.failed").set("response", snapshot(Outcome.failed(error))), out);
  }

  private void contentDelta(String type, String delta, Consumer<Frame> out) {
    if (delta.isEmpty()) {
      return;
    }
    Item message = lastOpen(MESSAGE).orElseGet(() -> open(MESSAGE, "", "", out));
    ContentPart part = message.parts.isEmpty() ? null : message.parts.get(message.parts.size() - 1);
    if (part == null || !part.type().equals(type)) {
      if (part != null) {
        closePart(message, out);
      }
      part = new ContentPart(type, new StringBuilder());
      message.parts.add(part);
      send(partEvent("response.content_part.added", message).set("part", part.json()), out);
    }
    part.text().append(delta);
    ObjectNode deltaEvent = partEvent(type.equals(OUTPUT_TEXT) ? "response.output_text.delta"
        : "response.refusal.delta", message).put("delta", delta);
    if (type.equals(OUTPUT_TEXT)) {
      deltaEvent.putArray("logprobs");
    }
    send(deltaEvent, out);
  }

  private void reasoningDelta(String delta, Consumer<Frame> out) {
    if (delta.isEmpty()) {
      return;
    }
    Item reasoning = lastOpen(REASONING).orElseGet(() -> open(REASONING, "", "", out));
    if (reasoning.parts.isEmpty()) {
      ContentPart part = new ContentPart(reasoningPartType(), new StringBuilder());
      reasoning.parts.add(part);
      send(partEvent(read.reasoningSummary() ? "response.reasoning_summary_part.added"
          : "response.content_part.added", reasoning).set("part", part.json()), out);
    }
    reasoning.parts.get(0).text().append(delta);
    send(partEvent(read.reasoningSummary() ? "response.reasoning_summary_text.delta"
        : "response.reasoning_text.delta", reasoning).put("delta", delta), out);
  }

  private void toolCallDelta(ToolCallDelta delta, Consumer<Frame> out) {
    Item call = callsByIndex.get(delta.getIndex());
    if (call == null) {
      call = open(FUNCTION_CALL, delta.getId(), delta.getName(), out);
      callsByIndex.put(delta.getIndex(), call);
    }
    if (!delta.getArgumentsDelta().isEmpty()) {
      call.arguments.append(delta.getArgumentsDelta());
      send(itemEvent("response.function_call_arguments.delta", call).put("delta", delta.getArgumentsDelta()), out);
    }
  }

  private void done(ChatResponse response, Consumer<Frame> out) {
    Outcome outcome = Outcome.of(response.getFinishReason());
    closeOpen(outcome.itemStatus(), out);
    if (response.hasUsage()) {
      usage = response.getUsage();
    }
    ArrayNode output = output();
    response.getMessage().getPartsList().stream().filter(Part::hasReasoning).map(Part::getReasoning).findFirst()
        .ifPresent(reasoning -> signReasoning(reasoning, output));
    send(eventOf("response." + outcome.status()).set("response", responseObject(id, createdAt, model, outcome,
        output, usage, read.echo())), out);
  }

  /**
   * Puts the answer's reasoning signature (known with its provider only now) in the first reasoning item; an answer
   * that streamed no reasoning text gets its reasoning item first, where the caller sends it back from.
   */
  private void signReasoning(Reasoning reasoning, ArrayNode output) {
    String encrypted = EncryptedReasoning.of(reasoning);
    if (encrypted.isEmpty()) {
      return;
    }
    for (int i = 0; i < items.size(); i++) {
      if (items.get(i).type.equals(REASONING)) {
        ((ObjectNode) output.get(i)).put("encrypted_content", encrypted);
        return;
      }
    }
    output.insert(0, reasoningItem(itemId(id, "rs_", items.size()), "", read.reasoningSummary(), encrypted));
  }

  /** The last item not done yet, when it is of {@code type}. */
  private Optional<Item> lastOpen(String type) {
    return open.isEmpty() || !open.get(open.size() - 1).type.equals(type) ? Optional.empty()
        : Optional.of(open.get(open.size() - 1));
  }

  /** Opens the next output item, closing those open before (but a function call, the function calls before it). */
  private Item open(String type, String callId, String name, Consumer<Frame> out) {
    if (!type.equals(FUNCTION_CALL) || lastOpen(FUNCTION_CALL).isEmpty()) {
      closeOpen("completed", out);
    }
    String prefix = switch (type) {
      case MESSAGE -> "msg_";
      case REASONING -> "rs_";
      default -> "fc_";
    };
    Item item = new Item(type, items.size(), itemId(id, prefix, items.size()), callId, name);
    items.add(item);
    open.add(item);
    send(eventOf("response.output_item.added").put("output_index", item.outputIndex).set("item", item.json()), out);
    return item;
  }

  /** Sends the `done` events of the open items; the last one gets {@code lastStatus}, the others are completed. */
  private void closeOpen(String lastStatus, Consumer<Frame> out) {
    for (int i = 0; i < open.size(); i++) {
      Item item = open.get(i);
      if (item.type.equals(FUNCTION_CALL)) {
        send(itemEvent("response.function_call_arguments.done", item).put("arguments", item.arguments.toString()),
            out);
      } else if (!item.parts.isEmpty()) {
        closePart(item, out);
      }
      item.status = i == open.size() - 1 ? lastStatus : "completed";
      send(eventOf("response.output_item.done").put("output_index", item.outputIndex).set("item", item.json()), out);
    }
    open.clear();
  }

  /** The `done` events of an item's last part. */
  private void closePart(Item item, Consumer<Frame> out) {
    ContentPart part = item.parts.get(item.parts.size() - 1);
    String text = part.text().toString();
    switch (part.type()) {
      case OUTPUT_TEXT -> {
        ObjectNode done = partEvent("response.output_text.done", item).put("text", text);
        done.putArray("logprobs");
        send(done, out);
      }
      case REFUSAL -> send(partEvent("response.refusal.done", item).put("refusal", text), out);
      case "summary_text" -> {
        send(partEvent("response.reasoning_summary_text.done", item).put("text", text), out);
        send(partEvent("response.reasoning_summary_part.done", item).set("part", part.json()), out);
        return;
      }
      default -> send(partEvent("response.reasoning_text.done", item).put("text", text), out);
    }
    send(partEvent("response.content_part.done", item).set("part", part.json()), out);
  }

  private ObjectNode snapshot(Outcome outcome) {
    return responseObject(id, createdAt, model, outcome, output(), outcome == Outcome.IN_PROGRESS ? null : usage,
        read.echo());
  }

  private ArrayNode output() {
    ArrayNode output = ProtoJson.MAPPER.createArrayNode();
    items.forEach(item -> output.add(item.json()));
    return output;
  }

  private String reasoningPartType() {
    return read.reasoningSummary() ? "summary_text" : "reasoning_text";
  }

  private static ObjectNode eventOf(String type) {
    return ProtoJson.MAPPER.createObjectNode().put("type", type);
  }

  private static ObjectNode itemEvent(String type, Item item) {
    return eventOf(type).put("item_id", item.id).put("output_index", item.outputIndex);
  }

  /** An event about the item's last part: its index among the item's content parts, or summary parts. */
  private ObjectNode partEvent(String type, Item item) {
    boolean summary = item.type.equals(REASONING) && read.reasoningSummary();
    return itemEvent(type, item).put(summary ? "summary_index" : "content_index", item.parts.size() - 1);
  }

  private void send(ObjectNode event, Consumer<Frame> out) {
    event.put("sequence_number", sequence++);
    out.accept(new Frame(event.get("type").textValue(), event.toString()));
  }

  /** One output item of a stream, as it grows. */
  private final class Item {

    final String type;
    final int outputIndex;
    final String id;
    final String callId;
    final String name;
    final List<ContentPart> parts = new ArrayList<>();
    final StringBuilder arguments = new StringBuilder();
    String status = "in_progress";

    Item(String type, int outputIndex, String id, String callId, String name) {
      this.type = type;
      this.outputIndex = outputIndex;
      this.id = id;
      this.callId = callId;
      this.name = name;
    }

    ObjectNode json() {
      return switch (type) {
        case MESSAGE -> messageItem(id, status, parts);
        case REASONING -> reasoningItem(id, parts.isEmpty() ? "" : parts.get(0).text().toString(),
            read.reasoningSummary(), "");
        default -> functionCallItem(id, status, callId, name, arguments.toString());
      };
    }
  }

  /** A part of a message (`output_text`, `refusal`) or of a reasoning item (`summary_text`, `reasoning_text`). */
  private record ContentPart(String type, StringBuilder text) {

    ObjectNode json() {
      ObjectNode part = ProtoJson.MAPPER.createObjectNode().put("type", type);
      if (type.equals(REFUSAL)) {
        return part.put(REFUSAL, text.toString());
      }
      if (type.equals(OUTPUT_TEXT)) {
        part.putArray("annotations");
        part.putArray("logprobs");
      }
      return part.put("text", text.toString());
    }
  }

  /** How a Response ends (or stands, while it streams): its status, and why it is incomplete or failed. */
  private record Outcome(String status, String incompleteReason, ObjectNode error) {

    static final Outcome IN_PROGRESS = new Outcome("in_progress", null, null);

    static Outcome of(FinishReason reason) {
      return switch (reason) {
        case FINISH_REASON_LENGTH -> new Outcome("incomplete", "max_output_tokens", null);
        case FINISH_REASON_CONTENT_FILTER -> new Outcome("incomplete", "content_filter", null);
        default -> new Outcome("completed", null, null);
      };
    }

    static Outcome failed(ObjectNode error) {
      return new Outcome("failed", null, error);
    }

    /** The status of the item that was being written when the Response ended. */
    String itemStatus() {
      return status.equals("incomplete") ? "incomplete" : "completed";
    }
  }

  private static ObjectNode responseObject(String id, long createdAt, String model, Outcome outcome,
      ArrayNode output, Usage usage, ObjectNode echo) {
    ObjectNode response = ProtoJson.MAPPER.createObjectNode().put("id", id).put("object", "response")
        .put("created_at", createdAt).put("status", outcome.status()).put("background", false);
    response.set("error", outcome.error() == null ? response.nullNode() : outcome.error());
    if (outcome.incompleteReason() == null) {
      response.putNull("incomplete_details");
    } else {
      response.putObject("incomplete_details").put("reason", outcome.incompleteReason());
    }
    response.put("model", model).set("output", output);
    response.setAll(echo);
    response.putNull("previous_response_id");
    response.put("store", false).put("truncation", "disabled");
    response.set("usage", usage == null ? response.nullNode() : usage(usage));
    return response;
  }

  private static ObjectNode usage(Usage usage) {
    ObjectNode node = ProtoJson.MAPPER.createObjectNode().put("input_tokens", usage.getInputTokens());
    node.putObject("input_tokens_details").put("cached_tokens", usage.getCachedInputTokens());
    node.put("output_tokens", usage.getOutputTokens());
    node.putObject("output_tokens_details").put("reasoning_tokens", usage.getReasoningTokens());
    return node.put("total_tokens", usage.getInputTokens() + usage.getOutputTokens());
  }

  private static ObjectNode messageItem(String id, String status, List<ContentPart> parts) {
    ObjectNode item = ProtoJson.MAPPER.createObjectNode().put("id", id).put("type", MESSAGE).put("status", status);
    ArrayNode content = item.putArray("content");
    parts.forEach(part -> content.add(part.json()));
    return item.put("role", "assistant");
  }

  private static ObjectNode functionCallItem(String id, String status, String callId, String name,
      String arguments) {
    return ProtoJson.MAPPER.createObjectNode().put("id", id).put("type", FUNCTION_CALL).put("status", status)
        .put("arguments", arguments).put("call_id", callId).put("name", name);
  }

  private static ObjectNode reasoningItem(String id, String text, boolean summary, String encryptedContent) {
    ObjectNode item = ProtoJson.MAPPER.createObjectNode().put("id", id).put("type", REASONING);
    ArrayNode summaries = item.putArray("summary");
    ArrayNode content = item.putArray("content");
    if (!text.isEmpty()) {
      ContentPart part = new ContentPart(summary ? "summary_text" : "reasoning_text", new StringBuilder(text));
      (summary ? summaries : content).add(part.json());
    }
    if (!encryptedContent.isEmpty()) {
      item.put("encrypted_content", encryptedContent);
    }
    return item;
  }

  /** An output item's id: its kind's prefix, the response id's own part and the item's position. */
  private static String itemId(String responseId, String prefix, int position) {
    return prefix + responseId.substring(ID_PREFIX.length()) + "_" + position;
  }

  private static String joined(ChatResponse response, java.util.function.Predicate<Part> kind,
      java.util.function.Function<Part, String> text) {
    return response.getMessage().getPartsList().stream().filter(kind).map(text).collect(Collectors.joining());
  }
}
