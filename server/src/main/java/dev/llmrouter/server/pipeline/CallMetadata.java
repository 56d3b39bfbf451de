package dev.llmrouter.server.pipeline;

import com.google.rpc.BadRequest;
import dev.llmrouter.api.v1.CallType;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.observe.CallContext;
import dev.llmrouter.server.answer.CallError;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.vertx.core.MultiMap;
import io.vertx.grpc.common.GrpcStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads the metadata of a call into its {@link CallOptions}: the cassette headers (`x-cassette-*`), and who made the
 * call and how it links to others (`traceparent`, `x-trace-id`, `x-parent-call-id`, `x-session-id`, `x-user-id`,
 * `x-tags`, `x-call-meta-*`), for the call log.
 */
public final class CallMetadata {

  /** Call metadata naming the cassette folder of a call. */
  public static final String SCOPE_HEADER = "x-cassette-scope";
  /** Call metadata choosing the cassette mode of a call, where the server allows it. */
  public static final String MODE_HEADER = "x-cassette-mode";
  /** Call metadata pacing a replay: `recorded` or a gap in milliseconds. */
  public static final String PACE_HEADER = "x-cassette-pace";
  /** Call metadata `sequence`: the n-th identical request gets the n-th recorded take. */
  public static final String TAKE_HEADER = "x-cassette-take";

  /**
   * The trace of a call, for callers without W3C Trace Context (whose `traceparent` gives the trace, and the caller's
   * span, logged as the parent call); also sent back on every response.
   */
  public static final String TRACE_ID_HEADER = "x-trace-id";
  /** The call this one follows (the `x-call-id` of an earlier response, for example). */
  public static final String PARENT_CALL_ID_HEADER = "x-parent-call-id";
  /** The caller's session. */
  public static final String SESSION_ID_HEADER = "x-session-id";
  /** The end user. */
  public static final String USER_ID_HEADER = "x-user-id";
  /** Tags, comma-separated (the header may repeat). */
  public static final String TAGS_HEADER = "x-tags";
  /** The prefix of free metadata headers: `x-call-meta-<name>: <value>`. */
  public static final String CALL_META_PREFIX = "x-call-meta-";
  /** The id of the call in the call log, sent back on every response. */
  public static final String CALL_ID_HEADER = "x-call-id";

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:/-]{1,128}");
  private static final int MAX_TEXT = 256;
  private static final int MAX_TAGS = 32;
  private static final int MAX_META = 32;

  /** Call metadata (gRPC or HTTP headers) as W3C Trace Context reads it. */
  private static final TextMapGetter<MultiMap> HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(MultiMap headers) {
      return headers.names();
    }

    @Override
    public String get(MultiMap headers, String name) {
      return headers == null ? null : headers.get(name);
    }
  };

  private final CassetteMode defaultMode;
  private final boolean allowModeOverride;

  public CallMetadata(CassetteMode defaultMode, boolean allowModeOverride) {
    this.defaultMode = defaultMode;
    this.allowModeOverride = allowModeOverride;
  }

  /**
   * @param caller who makes the call, authenticated
   * @throws CallError naming the bad header
   */
  public CallOptions optionsOf(MultiMap headers, boolean stream, long deadlineMillis, Caller caller) {
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
        throw new CallError(GrpcStatus.FAILED_PRECONDITION, "this router does not let callers choose the cassette "
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
    return new CallOptions(stream, deadlineMillis, scope, mode, pace, take != null, callOf(headers, stream, caller),
        caller);
  }

  /** The call's id (new), trace (from the headers, or new) and the rest of what the call log keeps about it. */
  private static CallContext callOf(MultiMap headers, boolean stream, Caller caller) {
    // An invalid traceparent is ignored, as W3C Trace Context asks; the call then starts a trace of its own.
    SpanContext callerSpan = Span.fromContext(W3CTraceContextPropagator.getInstance()
        .extract(Context.root(), headers, HEADERS)).getSpanContext();
    String traceId = callerSpan.isValid() ? callerSpan.getTraceId() : id(headers, TRACE_ID_HEADER);
    String parent = callerSpan.isValid() ? callerSpan.getSpanId() : "";
    String explicitParent = id(headers, PARENT_CALL_ID_HEADER);
    if (!explicitParent.isEmpty()) {
      parent = explicitParent;
    }
    List<String> tags = new ArrayList<>();
    for (String value : headers.getAll(TAGS_HEADER)) {
      for (String tag : value.split(",")) {
        String trimmed = tag.trim();
        if (trimmed.isEmpty() || tags.contains(trimmed)) {
          continue;
        }
        if (trimmed.length() > 64) {
          throw badHeader(TAGS_HEADER, "a tag has at most 64 characters; '" + trimmed.substring(0, 16)
              + "...' has " + trimmed.length());
        }
        tags.add(trimmed);
      }
    }
    if (tags.size() > MAX_TAGS) {
      throw badHeader(TAGS_HEADER, "at most " + MAX_TAGS + " tags per call, not " + tags.size());
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Map.Entry<String, String> header : headers) {
      String name = header.getKey().toLowerCase(Locale.ROOT);
      if (name.startsWith(CALL_META_PREFIX) && name.length() > CALL_META_PREFIX.length()) {
        metadata.put(name.substring(CALL_META_PREFIX.length()), text(header.getKey(), header.getValue(), 1024));
      }
    }
    if (metadata.size() > MAX_META) {
      throw badHeader(CALL_META_PREFIX + "*", "at most " + MAX_META + " metadata entries per call, not "
          + metadata.size());
    }
    return new CallContext(CallContext.newCallId(), stream ? CallType.CALL_TYPE_STREAM : CallType.CALL_TYPE_CHAT,
        traceId.isEmpty() ? CallContext.newTraceId() : traceId, parent,
        text(SESSION_ID_HEADER, headers.get(SESSION_ID_HEADER), MAX_TEXT),
        text(USER_ID_HEADER, headers.get(USER_ID_HEADER), MAX_TEXT), List.copyOf(tags), Map.copyOf(metadata),
        caller.keyId(), caller.keyName(), callerSpan);
  }

  private static String id(MultiMap headers, String header) {
    String value = headers.get(header);
    if (value == null) {
      return "";
    }
    if (!ID.matcher(value).matches()) {
      throw badHeader(header, "must be 1 to 128 letters, digits or . _ : / -, not '" + abbreviate(value) + "'");
    }
    return value;
  }

  private static String text(String header, String value, int maxLength) {
    if (value == null) {
      return "";
    }
    if (value.length() > maxLength) {
      throw badHeader(header, "has at most " + maxLength + " characters, not " + value.length());
    }
    return value;
  }

  private static String abbreviate(String value) {
    return value.length() <= 40 ? value : value.substring(0, 40) + "...";
  }

  private static CallError badHeader(String header, String description) {
    return CallError.badRequest(BadRequest.newBuilder().addFieldViolations(BadRequest.FieldViolation.newBuilder()
        .setField(header).setDescription(description)).build());
  }
}
