package dev.llmrouter.server.pipeline;

import com.google.rpc.BadRequest;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.EmbedTaskType;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.provider.EmbeddingAdapter;
import dev.llmrouter.server.provider.EmbeddingCheck;
import dev.llmrouter.server.route.Deployment;
import dev.llmrouter.server.route.RoutePlanner;
import io.vertx.grpc.common.GrpcStatus;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks an embedding request and plans its targets, as {@link ChatRequestValidator} and {@link CallPlan} do for a
 * chat request: every problem of the request at once (INVALID_ARGUMENT, a `google.rpc.BadRequest` naming each
 * field), then the targets whose deployment embeds with their model, each sent the request as its model can honour
 * it. When no target of the model embeds, the call is refused naming the first and its type.
 */
final class EmbeddingPlan {

  private static final CallPlan.Fit<EmbedRequest> EMBEDDINGS = new CallPlan.Fit<>() {
    @Override
    public CallPlan.Lacks lacks(EmbedRequest request, RoutePlanner.Target target) {
      Set<String> honoured = target.deployment().capability(EmbeddingAdapter.class).orElseThrow().embeddingOptions(target.upstreamModel());
      return new CallPlan.Lacks(EmbeddingCheck.unsupportedFeatures(request, honoured),
          EmbeddingCheck.unsupportedSettings(request, honoured));
    }

    @Override
    public EmbedRequest without(EmbedRequest request, List<String> settings) {
      return EmbeddingCheck.withoutSettings(request, settings);
    }
  };

  private EmbeddingPlan() {
  }

  /**
   * @throws CallError INVALID_ARGUMENT listing every violation, or naming what the first target cannot honour
   */
  static CallPlan<EmbedRequest> of(EmbedRequest request, RoutePlanner routes) {
    BadRequest.Builder violations = BadRequest.newBuilder();
    Optional<List<RoutePlanner.Target>> targets = ChatRequestValidator.model(request.getModel(), routes, violations);
    if (request.getInputsCount() == 0) {
      ChatRequestValidator.add(violations, "inputs", "at least one input is required: a text or an image to embed");
    }
    for (int i = 0; i < request.getInputsCount(); i++) {
      input(request.getInputs(i), "inputs[" + i + "]", violations);
    }
    if (request.hasDimensions() && request.getDimensions() < 1) {
      ChatRequestValidator.add(violations, "dimensions", "must be at least 1, not " + request.getDimensions());
    }
    if (request.getTaskType() == EmbedTaskType.UNRECOGNIZED) {
      ChatRequestValidator.add(violations, "task_type", "is not an EmbedTaskType this router knows ("
          + request.getTaskTypeValue() + ")");
    }
    if (violations.getFieldViolationsCount() > 0) {
      throw CallError.badRequest(violations.build());
    }
    List<RoutePlanner.Target> embedding = targets.orElseThrow().stream()
        .filter(target -> target.deployment().capabilities(target.upstreamModel()).getEmbeddings()).toList();
    if (embedding.isEmpty()) {
      throw noEmbeddings(request.getModel(), targets.get().get(0));
    }
    return CallPlan.of(request, request.getDropUnsupportedSettings(), embedding, EMBEDDINGS);
  }

  private static void input(EmbedInput input, String at, BadRequest.Builder violations) {
    switch (input.getKindCase()) {
      case KIND_NOT_SET -> ChatRequestValidator.add(violations, at, "is empty: set text or image");
      case TEXT -> {
        if (input.getText().isEmpty()) {
          ChatRequestValidator.add(violations, at + ".text", "is empty: there is nothing to embed");
        }
      }
      case IMAGE -> {
        Image image = input.getImage();
        if (!image.hasData() && !image.hasUrl()) {
          ChatRequestValidator.add(violations, at + ".image", "needs data or url");
        } else if (image.hasData() && !image.getMimeType().startsWith("image/")) {
          ChatRequestValidator.add(violations, at + ".image.mime_type", "is required with data, for example image/png");
        }
      }
    }
  }

  private static CallError noEmbeddings(String model, RoutePlanner.Target target) {
    Deployment deployment = target.deployment();
    String why = deployment.capability(EmbeddingAdapter.class).isPresent()
        ? " (type " + deployment.config().type() + ") embeds only with its embedding models, and "
            + target.upstreamModel() + " is none"
        : " is of type " + deployment.config().type() + ", which has no embeddings";
    return CallError.withInfo(GrpcStatus.INVALID_ARGUMENT, CallError.quote(model) + " cannot embed: provider "
        + deployment.name() + why + "; use a model "
        + "whose provider type embeds (ListModels shows capabilities.embeddings)", "EMBEDDINGS_UNSUPPORTED",
        Map.of("provider", deployment.name(), "provider_type", deployment.config().type()), null);
  }
}
