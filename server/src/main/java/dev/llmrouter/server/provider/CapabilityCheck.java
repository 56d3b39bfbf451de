package dev.llmrouter.server.provider;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.llmrouter.api.v1.Capabilities;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.GenerationSettings;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.ReasoningEffort;
import dev.llmrouter.server.answer.CallError;
import io.vertx.grpc.common.GrpcStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * What a request asks of a model, checked against the model's declared {@link Capabilities}. Settings (the optional
 * request fields of {@link #SETTINGS}) may be dropped when the caller or the provider's config allows it; features
 * (tools, images, documents, a response format) never are, since the answer would not be what was asked for.
 * Settings and features are named as in the request, the way `google.rpc.BadRequest` names fields.
 */
public final class CapabilityCheck {

  public static final String TEMPERATURE = "settings.temperature";
  public static final String TOP_P = "settings.top_p";
  public static final String MAX_OUTPUT_TOKENS = "settings.max_output_tokens";
  public static final String STOP_SEQUENCES = "settings.stop_sequences";
  public static final String SEED = "settings.seed";
  public static final String PRESENCE_PENALTY = "settings.presence_penalty";
  public static final String FREQUENCY_PENALTY = "settings.frequency_penalty";
  public static final String REASONING_EFFORT = "settings.reasoning_effort";
  public static final String PARALLEL_TOOL_CALLS = "parallel_tool_calls";

  /** Every setting a model may lack, in request order: what {@link Capabilities#getSettingsList()} lists from. */
  public static final List<String> SETTINGS = List.of(TEMPERATURE, TOP_P, MAX_OUTPUT_TOKENS, STOP_SEQUENCES, SEED,
      PRESENCE_PENALTY, FREQUENCY_PENALTY, REASONING_EFFORT, PARALLEL_TOOL_CALLS);

  private CapabilityCheck() {
  }

  /** What {@link #unsupportedFeatures} names a prefill: a request whose last message is the assistant's. */
  public static final String PREFILL = "prefill";

  /** What {@link #unsupportedFeatures} names a request for the provider's web search. */
  public static final String WEB_SEARCH = "web_search";

  /**
   * Every feature and setting but prefill and web search, which few providers offer natively (an adapter that does
   * sets {@code prefill} or {@code web_search}); an adapter declares what it honours by taking away from this.
   */
  public static Capabilities.Builder everything() {
    return Capabilities.newBuilder().setStreaming(true).setTools(true).setVision(true).setPdf(true).setReasoning(true)
        .setStructuredOutput(true).setJsonObject(true).addAllSettings(SETTINGS);
  }

  /** The same capabilities without some settings. */
  public static Capabilities.Builder without(Capabilities.Builder capabilities, String... settings) {
    List<String> kept = new ArrayList<>(capabilities.getSettingsList());
    kept.removeAll(List.of(settings));
    return capabilities.clearSettings().addAllSettings(kept);
  }

  /** The settings {@code request} sets that {@code capabilities} do not list. */
  public static List<String> unsupportedSettings(ChatRequest request, Capabilities capabilities) {
    if (!request.hasSettings() && !request.hasParallelToolCalls()) {
      return List.of(); // most calls set nothing: this runs on every call
    }
    List<String> unsupported = new ArrayList<>();
    for (String setting : SETTINGS) {
      if (sets(request, setting) && !capabilities.getSettingsList().contains(setting)) {
        unsupported.add(setting);
      }
    }
    return unsupported;
  }

  /** The features {@code request} uses that {@code capabilities} lack. */
  public static List<String> unsupportedFeatures(ChatRequest request, Capabilities capabilities) {
    List<String> unsupported = new ArrayList<>();
    if (request.getToolsCount() > 0 && !capabilities.getTools()) {
      unsupported.add("tools");
    }
    boolean formatSupported = switch (request.getResponseFormat().getType()) {
      case RESPONSE_FORMAT_TYPE_JSON_OBJECT -> capabilities.getJsonObject();
      case RESPONSE_FORMAT_TYPE_JSON_SCHEMA -> capabilities.getStructuredOutput();
      default -> true;
    };
    if (!formatSupported) {
      unsupported.add("response_format");
    }
    if (!capabilities.getVision() && anyPart(request, Part::hasImage)) {
      unsupported.add("messages.parts.image");
    }
    if (!capabilities.getPdf() && anyPart(request, Part::hasDocument)) {
      unsupported.add("messages.parts.document");
    }
    if (!capabilities.getPrefill() && isPrefill(request)) {
      unsupported.add(PREFILL);
    }
    if (request.hasWebSearch() && !capabilities.getWebSearch()) {
      unsupported.add(WEB_SEARCH);
    }
    return unsupported;
  }

  /**
   * Whether the request asks the model to continue a prefill: its last message is the assistant's, with text and no
   * tool calls. A provider without prefill would answer with a new message instead, so such a request is refused.
   */
  public static boolean isPrefill(ChatRequest request) {
    if (request.getMessagesCount() == 0) {
      return false;
    }
    Message last = request.getMessages(request.getMessagesCount() - 1);
    return last.getRole() == dev.llmrouter.api.v1.Role.ROLE_ASSISTANT && last.getToolCallsCount() == 0
        && last.getPartsList().stream().anyMatch(Part::hasText);
  }

  /** The request without the named settings. */
  public static ChatRequest withoutSettings(ChatRequest request, List<String> settings) {
    ChatRequest.Builder builder = request.toBuilder();
    for (String setting : settings) {
      if (setting.equals(PARALLEL_TOOL_CALLS)) {
        builder.clearParallelToolCalls();
        continue;
      }
      GenerationSettings.Builder s = builder.getSettingsBuilder();
      switch (setting) {
        case TEMPERATURE -> s.clearTemperature();
        case TOP_P -> s.clearTopP();
        case MAX_OUTPUT_TOKENS -> s.clearMaxOutputTokens();
        case STOP_SEQUENCES -> s.clearStopSequences();
        case SEED -> s.clearSeed();
        case PRESENCE_PENALTY -> s.clearPresencePenalty();
        case FREQUENCY_PENALTY -> s.clearFrequencyPenalty();
        case REASONING_EFFORT -> s.clearReasoningEffort();
        default -> throw new IllegalArgumentException("not a setting: " + setting);
      }
    }
    return builder.build();
  }

  /**
   * INVALID_ARGUMENT naming what {@code provider} cannot honour with {@code model}, with a BadRequest violation per
   * name and an ErrorInfo (reason UNSUPPORTED_SETTING) naming the provider and model.
   *
   * @param droppable whether dropping would have served the call (only settings stand in the way)
   */
  public static CallError refusal(String provider, String model, List<String> names, boolean droppable) {
    String what = String.join(", ", names);
    BadRequest.Builder violations = BadRequest.newBuilder();
    names.forEach(name -> violations.addFieldViolations(BadRequest.FieldViolation.newBuilder().setField(name)
        .setDescription("not supported by " + provider + " with model " + model)));
    ErrorInfo info = ErrorInfo.newBuilder().setDomain(CallError.DOMAIN).setReason("UNSUPPORTED_SETTING")
        .putMetadata("provider", provider).putMetadata("model", model).putMetadata("settings", what).build();
    return new CallError(GrpcStatus.INVALID_ARGUMENT, provider + " cannot honour " + what + " with model " + model
        + (droppable ? ": leave it out, or set drop_unsupported_settings (on the request, or on the provider in "
            + "config) to send the call without it" : ""), List.of(Any.pack(violations.build()), Any.pack(info)));
  }

  private static boolean sets(ChatRequest request, String setting) {
    GenerationSettings s = request.getSettings();
    return switch (setting) {
      case TEMPERATURE -> s.hasTemperature();
      case TOP_P -> s.hasTopP();
      case MAX_OUTPUT_TOKENS -> s.hasMaxOutputTokens();
      case STOP_SEQUENCES -> s.getStopSequencesCount() > 0;
      case SEED -> s.hasSeed();
      case PRESENCE_PENALTY -> s.hasPresencePenalty();
      case FREQUENCY_PENALTY -> s.hasFrequencyPenalty();
      case REASONING_EFFORT -> s.getReasoningEffort() != ReasoningEffort.REASONING_EFFORT_UNSPECIFIED;
      case PARALLEL_TOOL_CALLS -> request.hasParallelToolCalls();
      default -> throw new IllegalArgumentException("not a setting: " + setting);
    };
  }

  private static boolean anyPart(ChatRequest request, Predicate<Part> kind) {
    for (Message message : request.getMessagesList()) {
      if (message.getPartsList().stream().anyMatch(kind)) {
        return true;
      }
    }
    return false;
  }
}
