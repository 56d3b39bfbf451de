package dev.llmrouter.server.observe;

import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.EmbedInput;
import dev.llmrouter.api.v1.EmbedRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.cassettes.Redactor;
import dev.llmrouter.server.config.ObservabilityConfig;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What the router knows about its calls: the metrics, the call log and the traces, and the {@link CallTracker} that
 * feeds them (with the call's prices) for each model call.
 */
public final class Observability implements AutoCloseable {

  private final CallMetrics metrics;
  private final Optional<CallLog> callLog;
  private final CallTracing tracing;
  private final boolean bodies;
  private final int maxBodyBytes;
  private final Function<String, String> providerTypes;

  /**
   * Starts the traces, when `OTEL_*` variables are set, and opens the call log, when it is on: the SQLite file, or the
   * PostgreSQL database of `call_log.postgres_url`. Blocks (the file, or the database's migrations): call it off the
   * event loop.
   *
   * @param providerTypes the provider type of a provider name, in the config of the moment; empty when none
   * @throws IllegalStateException saying in one line why the traces cannot start or the call log cannot be opened
   */
  public Observability(Vertx vertx, ObservabilityConfig config, CallMetrics metrics, Redactor redactor,
      Function<String, String> providerTypes) {
    this.metrics = metrics;
    this.tracing = CallTracing.start(config.tracing(), redactor);
    try {
      this.callLog = !config.callLog() ? Optional.empty() : Optional.of(config.callLogPostgres()
          .map(url -> CallLog.open(vertx, url, config.callLogQueueSize(), config.callLogRetention(), redactor))
          .orElseGet(() -> CallLog.open(Path.of(config.dataDir()), config.callLogQueueSize(),
              config.callLogRetention(), redactor)));
    } catch (RuntimeException cannotOpen) {
      tracing.close();
      throw cannotOpen;
    }
    this.bodies = config.callLogBodies();
    this.maxBodyBytes = config.callLogMaxBodyBytes();
    this.providerTypes = providerTypes;
    callLog.ifPresent(log -> {
      metrics.functionCounter("llmrouter.call.log.dropped", "Call records dropped because the call log's queue was "
          + "full", log, CallLog::dropped);
      metrics.gauge("llmrouter.call.log.queued", "Call records waiting to be written", log, CallLog::queued);
    });
  }

  /**
   * Starts following one model call, priced by {@code prices} (those of the config the call runs on). Call on the
   * call's event loop.
   */
  public CallTracker begin(CallContext context, ChatRequest request, PriceTable prices) {
    return new CallTracker(this, context, request, prices,
        tracing.begin(context, GenAiAttributes.CHAT, request, providerTypes));
  }

  /**
   * Starts following one embedding call, as {@link #begin} a chat call; the call log (and a span capturing content)
   * keeps its inputs as user messages, one per input.
   */
  public CallTracker beginEmbedding(CallContext context, EmbedRequest request, PriceTable prices) {
    ChatRequest.Builder inputs = ChatRequest.newBuilder().setModel(request.getModel());
    for (EmbedInput input : request.getInputsList()) {
      Part part = input.hasImage() ? Part.newBuilder().setImage(input.getImage()).build()
          : Part.newBuilder().setText(input.getText()).build();
      inputs.addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addParts(part));
    }
    ChatRequest logged = inputs.build();
    return new CallTracker(this, context, logged, prices,
        tracing.begin(context, GenAiAttributes.EMBEDDINGS, logged, providerTypes));
  }

  public CallMetrics metrics() {
    return metrics;
  }

  /** The call log's queries, when the call log is on. */
  public Optional<CallQueries> queries() {
    return callLog.map(CallLog::queries);
  }

  boolean logsBodies() {
    return bodies;
  }

  int maxBodyBytes() {
    return maxBodyBytes;
  }

  /** Queues a call for the call log, when it is on; {@code record} is called on the call log's thread. */
  void log(Supplier<CallRecord> record) {
    callLog.ifPresent(log -> log.append(record));
  }

  String providerType(String provider) {
    return providerTypes.apply(provider);
  }

  /** Writes the queued call records and spans, and closes the call log. Blocks: call it off the event loop. */
  @Override
  public void close() {
    try {
      callLog.ifPresent(CallLog::close);
    } finally {
      tracing.close();
    }
  }
}
