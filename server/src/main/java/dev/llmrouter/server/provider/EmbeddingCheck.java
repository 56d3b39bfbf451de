package dev.llmrouter.server.provider;

import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedTaskType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What an embedding request asks of a model, checked against what the model's adapter honours
 * ({@link EmbeddingAdapter#embeddingOptions}), named as in the request. Settings (dimensions, task type) may be
 * dropped when the caller or the provider's config allows it; image inputs never are, since their vectors would be
 * missing from the answer.
 */
public final class EmbeddingCheck {

  public static final String DIMENSIONS = "dimensions";
  public static final String TASK_TYPE = "task_type";
  public static final String IMAGES = "inputs.image";

  /** Everything an adapter may honour. */
  public static final Set<String> EVERYTHING = Set.of(DIMENSIONS, TASK_TYPE, IMAGES);

  private EmbeddingCheck() {
  }

  /** The settings {@code request} sets that the model does not honour. */
  public static List<String> unsupportedSettings(EmbedRequest request, Set<String> honoured) {
    List<String> unsupported = new ArrayList<>();
    if (request.hasDimensions() && !honoured.contains(DIMENSIONS)) {
      unsupported.add(DIMENSIONS);
    }
    if (request.getTaskType() != EmbedTaskType.EMBED_TASK_TYPE_UNSPECIFIED && !honoured.contains(TASK_TYPE)) {
      unsupported.add(TASK_TYPE);
    }
    return unsupported;
  }

  /** The features {@code request} uses that the model does not honour. */
  public static List<String> unsupportedFeatures(EmbedRequest request, Set<String> honoured) {
    boolean images = request.getInputsList().stream().anyMatch(input -> input.hasImage());
    return images && !honoured.contains(IMAGES) ? List.of(IMAGES) : List.of();
  }

  /** The request without the named settings. */
  public static EmbedRequest withoutSettings(EmbedRequest request, List<String> settings) {
    EmbedRequest.Builder builder = request.toBuilder();
    for (String setting : settings) {
      switch (setting) {
        case DIMENSIONS -> builder.clearDimensions();
        case TASK_TYPE -> builder.clearTaskType();
        default -> throw new IllegalArgumentException("not a setting: " + setting);
      }
    }
    return builder.build();
  }
}
