package dev.llmrouter.server.pipeline;

import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.observe.CallContext;
import java.util.Optional;

/**
 * How one call runs, from the RPC and its metadata.
 *
 * @param stream whether the caller streams (the upstream is then asked to stream too)
 * @param deadlineMillis the caller's remaining time, or 0 for none
 * @param scope the cassette folder (`x-cassette-scope`, `default` otherwise)
 * @param mode the cassette mode (the server's, or `x-cassette-mode` where overrides are allowed)
 * @param pace how fast a hit is replayed (`x-cassette-pace`)
 * @param sequenced whether identical requests get successive takes (`x-cassette-take: sequence`)
 * @param call the call's id, trace and who made it (`traceparent`, `x-trace-id`, `x-session-id`...)
 * @param caller the key that made the call, and its limits
 * @param matchSet the named set of match rules the call adds to the router's (`x-cassette-match`), or empty
 */
public record CallOptions(boolean stream, long deadlineMillis, String scope, CassetteMode mode, ReplayPace pace,
    boolean sequenced, CallContext call, Caller caller, Optional<String> matchSet) {

  /** The same options for another call. */
  public CallOptions withCall(CallContext newCall) {
    return new CallOptions(stream, deadlineMillis, scope, mode, pace, sequenced, newCall, caller, matchSet);
  }
}
