package dev.llmrouter.server.observe;

import dev.llmrouter.api.v1.CallType;
import io.opentelemetry.api.trace.SpanContext;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Who made a model call and how it links to others, from call metadata: the call log keeps it with the call.
 *
 * @param callId this call's id: 16 lowercase hex digits, the form of a W3C span id
 * @param type the RPC that made the call
 * @param traceId the trace the call belongs to (given by the caller, or generated)
 * @param parentCallId the call this one follows; empty when none
 * @param sessionId the caller's session (or the Converse session); empty when none
 * @param userId the end user; empty when none
 * @param tags the call's tags
 * @param metadata free metadata
 * @param keyId the id of the caller key that made the call (never the key); empty when none was needed
 * @param keyName the caller key's name
 * @param callerSpan the caller's span, from its W3C `traceparent` (and `tracestate`): the parent of the call's span;
 *     invalid when none came
 */
public record CallContext(String callId, CallType type, String traceId, String parentCallId, String sessionId,
    String userId, List<String> tags, Map<String, String> metadata, String keyId, String keyName,
    SpanContext callerSpan) {

  /** Another call of the same trace, session, user, tags, key and caller's span, following {@code parent}. */
  public CallContext next(CallType nextType, String parent, String session) {
    return new CallContext(newCallId(), nextType, traceId, parent, session, userId, tags, metadata, keyId, keyName,
        callerSpan);
  }

  /** The same call, made by another RPC. */
  public CallContext ofType(CallType otherType) {
    return new CallContext(callId, otherType, traceId, parentCallId, sessionId, userId, tags, metadata, keyId, keyName,
        callerSpan);
  }

  /** A new call id: 8 random bytes in hex, like a W3C span id. */
  public static String newCallId() {
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong() | 1L);
  }

  /**
   * A new trace id in the form of a W3C trace id (32 hex digits): the time in milliseconds (6 bytes), then 10 random
   * bytes. Ids that grow with time keep the call log's trace index appending instead of writing all over it.
   */
  public static String newTraceId() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    String millis = HexFormat.of().toHexDigits(System.currentTimeMillis()).substring(4);
    return millis + HexFormat.of().toHexDigits((short) random.nextInt()) + HexFormat.of().toHexDigits(random.nextLong());
  }
}
