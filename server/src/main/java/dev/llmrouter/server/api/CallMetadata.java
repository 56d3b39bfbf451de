package dev.llmrouter.server.api;

import com.google.rpc.BadRequest;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.server.pipeline.CallOptions;
import dev.llmrouter.server.pipeline.ReplayPace;
import dev.llmrouter.server.pipeline.RouterError;
import io.vertx.core.MultiMap;
import io.vertx.grpc.common.GrpcStatus;

/** Reads the cassette metadata of a call (`x-cassette-*` headers) into its {@link CallOptions}. */
public final class CallMetadata {

  /** Call metadata naming the cassette folder of a call. */
  public static final String SCOPE_HEADER = "x-cassette-scope";
  /** Call metadata choosing the cassette mode of a call, where the server allows it. */
  public static final String MODE_HEADER = "x-cassette-mode";
  /** Call metadata pacing a replay: `recorded` or a gap in milliseconds. */
  public static final String PACE_HEADER = "x-cassette-pace";
  /** Call metadata `sequence`: the n-th identical request gets the n-th recorded take. */
  public static final String TAKE_HEADER = "x-cassette-take";

  private final CassetteMode defaultMode;
  private final boolean allowModeOverride;

  public CallMetadata(CassetteMode defaultMode, boolean allowModeOverride) {
    this.defaultMode = defaultMode;
    this.allowModeOverride = allowModeOverride;
  }

  /** @throws RouterError naming the bad header */
  public CallOptions optionsOf(MultiMap headers, boolean stream, long deadlineMillis) {
    String scope = headers.get(SCOPE_HEADER);
    try {
      scope = scope == null ? CassetteStore.DEFAULT_SCOPE : CassetteStore.validateScope(scope);
    } catch (IllegalArgumentException e) {
      throw badHeader(SCOPE_HEADER, e.getMessage());
    }
    CassetteMode mode = defaultMode;
    String requestedMode = headers.get(MODE_HEADER);
    if (requestedMode != null) {
      if (!allowModeOverride) {
        throw new RouterError(GrpcStatus.FAILED_PRECONDITION, "this router does not let callers choose the cassette "
            + "mode (" + MODE_HEADER + ": " + requestedMode + "); it runs in " + defaultMode.externalName()
            + " mode. Set cassettes.allow_mode_override: true in its config to allow it");
      }
      try {
        mode = CassetteMode.parse(requestedMode);
      } catch (IllegalArgumentException e) {
        throw badHeader(MODE_HEADER, e.getMessage());
      }
    }
    ReplayPace pace = ReplayPace.AS_FAST_AS_POSSIBLE;
    String requestedPace = headers.get(PACE_HEADER);
    if (requestedPace != null) {
      try {
        pace = ReplayPace.parse(requestedPace);
      } catch (IllegalArgumentException e) {
        throw badHeader(PACE_HEADER, e.getMessage());
      }
    }
    String take = headers.get(TAKE_HEADER);
    if (take != null && !take.equals("sequence")) {
      throw badHeader(TAKE_HEADER, "must be `sequence` (the n-th identical request gets the n-th take), not '"
          + take + "'");
    }
    return new CallOptions(stream, deadlineMillis, scope, mode, pace, take != null);
  }

  private static RouterError badHeader(String header, String description) {
    return RouterError.badRequest(BadRequest.newBuilder().addFieldViolations(BadRequest.FieldViolation.newBuilder()
        .setField(header).setDescription(description)).build());
  }
}
