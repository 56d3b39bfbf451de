package dev.llmrouter.server.ingress;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.CassetteOutcome;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.Origin;
import dev.llmrouter.server.answer.AnswerStream;
import dev.llmrouter.server.answer.CallError;
import dev.llmrouter.server.answer.ChatEventStream;
import dev.llmrouter.server.answer.ProtoJson;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.auth.CallerAuth;
import dev.llmrouter.server.ingress.openai.OpenAiEmbeddings;
import dev.llmrouter.server.pipeline.CallMetadata;
import dev.llmrouter.server.pipeline.CallOptions;
import dev.llmrouter.server.pipeline.ChatPipeline;
import dev.llmrouter.server.pipeline.LiveSettings;
import dev.llmrouter.server.pipeline.RunningCalls;
import dev.llmrouter.server.route.RoutePlanner;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The HTTP door onto the pipeline, on the gRPC port: requests in the dialects the provider SDKs speak (OpenAI Chat
 * Completions and Responses, Anthropic Messages, Gemini) are read into the neutral request by their {@link Dialect},
 * run through the same {@link ChatPipeline} as gRPC calls, and answered in the caller's dialect, as JSON or as a
 * stream flushed event by event; OpenAI embeddings calls ({@link OpenAiEmbeddings}) take the pipeline's embedding
 * path. What is gRPC (by its content type) or no dialect's path goes on to {@code grpc}.
 * The caller's key (`Authorization: Bearer`, `x-api-key`, `x-goog-api-key`) is checked by {@link CallerAuth} as the
 * request arrives; a refused call is answered at once, its body unread. While the router drains, a new call is
 * refused the same way: UNAVAILABLE, a 503 in the caller's dialect.
 */
public final class HttpIngress implements Handler<HttpServerRequest> {

  /** The id of the call in the call log, as OpenAI's SDK reads it (`_request_id`). */
  public static final String REQUEST_ID_HEADER = "x-request-id";
  /** Where the answer came from: `hit`, `recorded` or `live`. */
  public static final String CASSETTE_OUTCOME_HEADER = "x-cassette-outcome";
  /** The cassette key of the call, when the cassette gate saw it. */
  public static final String CASSETTE_KEY_HEADER = "x-cassette-key";

  private static final System.Logger LOG = System.getLogger("llmrouter");
  private static final Pattern GEMINI_CALL =
      Pattern.compile("/(v1|v1beta|v1alpha)/models/(.+):(generateContent|streamGenerateContent)");
  private static final Pattern GEMINI_MODELS = Pattern.compile("/(v1|v1beta|v1alpha)/models");
  /** How long the rest of a refused body is read and dropped before its connection closes. */
  private static final long LINGER_MILLIS = 1000;
  // Compiled once: String.matches would compile them again on every request.
  private static final Pattern CONTENT_LENGTH = Pattern.compile("\\d{1,18}");
  private static final Pattern SECONDS = Pattern.compile("\\d{1,7}(\\.\\d{1,3})?");
  /** The x-cassette-outcome of each outcome (`hit`, `recorded`, `live`), named once rather than on every answer. */
  private static final Map<CassetteOutcome, String> OUTCOME_NAMES = new EnumMap<>(CassetteOutcome.class);

  static {
    for (CassetteOutcome outcome : CassetteOutcome.values()) {
      if (outcome != CassetteOutcome.UNRECOGNIZED && outcome.getNumber() != 0) {
        OUTCOME_NAMES.put(outcome, outcome.name().substring("CASSETTE_OUTCOME_".length()).toLowerCase(Locale.ROOT));
      }
    }
  }
  /** Bodies up to this size are parsed on the event loop; larger ones on a worker. */
  private static final int INLINE_PARSE_BYTES = 256 * 1024;

  private final Vertx vertx;
  private final ChatPipeline pipeline;
  private final CallMetadata metadata;
  private final LiveSettings settings;
  private final Handler<HttpServerRequest> grpc;
  private final long maxBodyBytes;
  private final long keepAliveMillis;
  private final Dialects dialects;
  private final CallerAuth auth;
  private final RunningCalls running;

  /**
   * @param settings the models of the config of the moment
   * @param grpc where gRPC and gRPC-Web requests go
   * @param maxBodyBytes the largest request body (`max_message_bytes`): larger ones get 413
   * @param keepAlive the longest silence on a stream before an SSE comment is sent, so that idle timeouts don't fire
   * @param auth who may call
   * @param running whether the router takes new calls
   */
  public HttpIngress(Vertx vertx, ChatPipeline pipeline, CallMetadata metadata, LiveSettings settings,
      Handler<HttpServerRequest> grpc, long maxBodyBytes, Duration keepAlive, Dialects dialects, CallerAuth auth,
      RunningCalls running) {
    this.vertx = vertx;
    this.pipeline = pipeline;
    this.metadata = metadata;
    this.settings = settings;
    this.grpc = grpc;
    this.maxBodyBytes = maxBodyBytes;
    this.keepAliveMillis = Math.max(1, keepAlive.toMillis());
    this.dialects = dialects;
    this.auth = auth;
    this.running = running;
  }

  /** The dialects served, one per API. */
  public record Dialects(Dialect openAiChat, Dialect openAiResponses, Dialect anthropic, Dialect gemini) {
  }

  @Override
  public void handle(HttpServerRequest request) {
    String contentType = request.getHeader(HttpHeaders.CONTENT_TYPE);
    if (contentType != null && contentType.startsWith("application/grpc")) {
      grpc.handle(request);
      return;
    }
    String path = request.path();
    HttpMethod method = request.method();
    if (path.equals("/v1/chat/completions")) {
      chat(request, dialects.openAiChat());
    } else if (path.equals("/v1/embeddings")) {
      embeddings(request);
    } else if (path.equals("/v1/responses")) {
      chat(request, dialects.openAiResponses());
    } else if (path.equals("/v1/messages")) {
      chat(request, dialects.anthropic());
    } else if (GEMINI_CALL.matcher(path).matches()) {
      chat(request, dialects.gemini());
    } else if ((path.equals("/v1/models") || GEMINI_MODELS.matcher(path).matches()) && method == HttpMethod.GET) {
      Dialect dialect = dialectOfHeaders(request);
      callerOf(request).onComplete(caller -> {
        if (caller.failed()) {
          refuse(request, dialect, caller.cause());
        } else {
          reply(request, 200, dialect.models(settings.current().routes().models("").stream()
              .filter(model -> caller.result().mayUse(model.getName())).toList()));
        }
      });
    } else if (path.startsWith("/v1/") || path.startsWith("/v1beta/") || path.startsWith("/v1alpha/")) {
      refuse(request, dialectOfHeaders(request), new CallError(GrpcStatus.NOT_FOUND, "the router serves no "
          + method + " " + CallError.quote(path) + "; it serves POST /v1/chat/completions, POST /v1/responses, "
          + "POST /v1/messages, POST /v1beta/models/{model}:generateContent and :streamGenerateContent, "
          + "POST /v1/embeddings, and GET /v1/models"));
    } else {
      grpc.handle(request);
    }
  }

  /** The dialect a request that names none by its path speaks, from the headers its SDK sends. */
  private Dialect dialectOfHeaders(HttpServerRequest request) {
    if (request.getHeader("anthropic-version") != null) {
      return dialects.anthropic();
    }
    if (request.getHeader("x-goog-api-key") != null || request.getHeader("x-goog-api-client") != null
        || request.getParam("key") != null || GEMINI_MODELS.matcher(request.path()).matches()
        && !request.path().equals("/v1/models")) {
      return dialects.gemini();
    }
    return dialects.openAiChat();
  }

  private void chat(HttpServerRequest request, Dialect dialect) {
    receive(request, dialect, tree -> dialect.read(request, tree), (read, who) -> run(request, dialect, read, who));
  }

  /** An OpenAI embeddings call: the same door, and the OpenAI dialect's errors. */
  private void embeddings(HttpServerRequest request) {
    receive(request, dialects.openAiChat(), OpenAiEmbeddings::read, (read, who) -> embed(request, read, who));
  }

  /**
   * Receives the JSON body of a POST within the size limit, from a caller whose key is let in (a refusal is answered
   * in the dialect, the body unread), reads it with {@code read}, on a worker when it is large, and hands what it
   * read to {@code call} on the request's event loop: a body that does not read is thrown when called for.
   */
  private <T> void receive(HttpServerRequest request, Dialect dialect, Function<JsonNode, T> read,
      BiConsumer<Supplier<T>, Caller> call) {
    if (request.method() != HttpMethod.POST) {
      request.response().putHeader(HttpHeaders.ALLOW, "POST");
      refuse(request, dialect, new CallError(GrpcStatus.UNIMPLEMENTED, request.method() + " "
          + CallError.quote(request.path()) + " is not served: send a POST"));
      return;
    }
    if (running.refusesNewCall(request.version())) {
      closeAfterReply(request); // a new connection lets the balancer pick another replica
      refuse(request, dialect, running.drainingRefusal());
      return;
    }
    String declared = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (declared != null && CONTENT_LENGTH.matcher(declared).matches() && Long.parseLong(declared) > maxBodyBytes) {
      tooLarge(request, dialect, declared + " bytes");
      return;
    }
    request.params(); // read here, on the event loop, before a worker may map a large body
    Buffer body = Buffer.buffer();
    boolean[] refused = {false};
    Future<Caller> caller = callerOf(request).onFailure(failure -> {
      if (!refused[0]) {
        refused[0] = true;
        closeAfterReply(request);
        refuse(request, dialect, failure);
      }
    });
    request.handler(chunk -> {
      if (refused[0]) {
        return;
      }
      if (body.length() + chunk.length() > maxBodyBytes) {
        refused[0] = true;
        tooLarge(request, dialect, "more than " + maxBodyBytes + " bytes");
        return;
      }
      body.appendBuffer(chunk);
    });
    request.exceptionHandler(failure -> refused[0] = true); // the caller is gone: nobody to answer
    request.endHandler(v -> caller.onSuccess(who -> {
      if (refused[0]) {
        return;
      }
      if (body.length() <= INLINE_PARSE_BYTES) {
        call.accept(() -> read.apply(parse(body)), who);
      } else {
        vertx.executeBlocking(() -> read.apply(parse(body)), false)
            .onComplete(done -> call.accept(() -> {
              if (done.failed()) {
                throw done.cause() instanceof CallError error ? error : CallError.of(done.cause());
              }
              return done.result();
            }, who));
      }
    }));
  }

  private Future<Caller> callerOf(HttpServerRequest request) {
    return auth.authenticate(request.headers(), () -> request.remoteAddress() == null ? "unknown"
        : request.remoteAddress().hostAddress());
  }

  /** An HTTP/1 request refused before its body was read: the connection goes once the refusal is sent. */
  private static void closeAfterReply(HttpServerRequest request) {
    if (request.version() != HttpVersion.HTTP_2) {
      request.response().putHeader(HttpHeaders.CONNECTION, "close")
          .endHandler(v -> request.connection().close());
    }
  }

  private static JsonNode parse(Buffer body) {
    JsonNode tree;
    try {
      tree = ProtoJson.MAPPER.readTree(body.getBytes());
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
          + e.getLocation().getColumnNr();
      throw JsonFields.invalid("body", "is not valid JSON" + where + ": " + e.getOriginalMessage());
    } catch (java.io.IOException e) {
      throw JsonFields.invalid("body", "cannot be read: " + e.getMessage());
    }
    if (tree == null || tree.isMissingNode()) {
      throw JsonFields.invalid("body", "is empty: send the request as a JSON object");
    }
    return tree;
  }

  /** Runs the call read by {@code read}, on the request's event loop, and answers it in the dialect. */
  private void run(HttpServerRequest request, Dialect dialect, Supplier<DialectCall> read, Caller caller) {
    HttpServerResponse response = request.response();
    DialectCall call;
    ChatEventStream answer;
    try {
      call = read.get();
      answer = pipeline.start(call.request(), options(request, call.request().getModel(), call.stream(), caller));
    } catch (RuntimeException failure) {
      refuse(request, dialect, failure);
      return;
    }
    response.closeHandler(v -> answer.cancel());
    if (call.stream()) {
      new StreamReply(request, dialect, call, answer).start();
    } else {
      answer.exceptionHandler(failure -> refuse(request, dialect, failure));
      answer.handler(event -> {
        if (event.hasDone()) {
          ChatResponse done = event.getDone().getResponse();
          origin(response, done.getOrigin());
          reply(request, 200, call.writer().answer(done));
        }
      });
    }
  }

  /** Runs an embeddings call read by {@code read}, and answers it in OpenAI's shape. */
  private void embed(HttpServerRequest request, Supplier<OpenAiEmbeddings.Call> read, Caller caller) {
    OpenAiEmbeddings.Call call;
    AnswerStream<EmbedResponse> answer;
    try {
      call = read.get();
      answer = pipeline.embed(call.request(), options(request, call.request().getModel(), false, caller));
    } catch (RuntimeException failure) {
      refuse(request, dialects.openAiChat(), failure);
      return;
    }
    request.response().closeHandler(v -> answer.cancel());
    answer.exceptionHandler(failure -> refuse(request, dialects.openAiChat(), failure));
    answer.handler(response -> {
      origin(request.response(), response.getOrigin());
      reply(request, 200, OpenAiEmbeddings.answer(response, call.base64()));
    });
  }

  /**
   * The options of a call from its headers, sent back with its ids; a model that names no provider or alias is
   * NOT_FOUND, as the providers' own APIs answer it.
   */
  private CallOptions options(HttpServerRequest request, String model, boolean stream, Caller caller) {
    CallOptions options = metadata.optionsOf(request.headers(), stream, deadlineMillis(request), caller);
    request.response().putHeader(CallMetadata.CALL_ID_HEADER, options.call().callId())
        .putHeader(REQUEST_ID_HEADER, options.call().callId())
        .putHeader(CallMetadata.TRACE_ID_HEADER, options.call().traceId());
    RoutePlanner routes = settings.current().routes();
    if (!model.isEmpty() && routes.plan(model).isEmpty()) {
      throw new CallError(GrpcStatus.NOT_FOUND, "model " + CallError.quote(model) + " names no configured "
          + "provider or alias; use <provider>/<model> or an alias, with one of " + routes.names());
    }
    return options;
  }

  /** The caller's own timeout, where its SDK says it (`x-stainless-timeout`, in seconds), as the call's deadline. */
  private static long deadlineMillis(HttpServerRequest request) {
    String timeout = request.getHeader("x-stainless-timeout");
    if (timeout == null || !SECONDS.matcher(timeout).matches()) {
      return 0;
    }
    return (long) (Double.parseDouble(timeout) * 1000);
  }

  private static void origin(HttpServerResponse response, Origin origin) {
    String outcome = OUTCOME_NAMES.get(origin.getCassette());
    if (response.headWritten() || outcome == null) {
      return;
    }
    response.putHeader(CASSETTE_OUTCOME_HEADER, outcome);
    if (!origin.getCassetteKey().isEmpty()) {
      response.putHeader(CASSETTE_KEY_HEADER, origin.getCassetteKey());
    }
  }

  private void tooLarge(HttpServerRequest request, Dialect dialect, String size) {
    // As nginx's lingering close: the rest of the body is dropped until it ends (or the connection goes a second
    // after the 413). Closing with bytes unread would reset it before the caller reads the 413.
    if (request.version() != HttpVersion.HTTP_2) {
      request.response().putHeader(HttpHeaders.CONNECTION, "close").endHandler(v -> vertx.setTimer(LINGER_MILLIS, id -> request.connection().close()));
      request.handler(dropped -> { });
      request.endHandler(v -> request.connection().close());
    }
    refuse(request, dialect, CallError.withInfo(GrpcStatus.RESOURCE_EXHAUSTED, "the request body has " + size
        + "; the router takes at most " + maxBodyBytes + " (max_message_bytes in its config)", "MESSAGE_TOO_LARGE",
        java.util.Map.of(), null));
  }

  /** Answers with the error in the dialect's shape and status; nothing else was sent. */
  private static void refuse(HttpServerRequest request, Dialect dialect, Throwable failure) {
    if (!(failure instanceof CallError)) {
      LOG.log(System.Logger.Level.ERROR, "unexpected failure on " + request.path(), failure);
    }
    CallError error = CallError.of(failure);
    int status = dialect.status(error);
    HttpServerResponse response = request.response();
    if (response.ended() || response.closed()) {
      return;
    }
    HttpStatuses.retryAfterSeconds(error).ifPresent(seconds -> response.putHeader("retry-after",
        String.valueOf(Math.max(1, seconds))));
    reply(request, status, dialect.error(error, status));
  }

  private static void reply(HttpServerRequest request, int status, ObjectNode body) {
    HttpServerResponse response = request.response();
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(Buffer.buffer(json(body)));
  }

  /** UTF-8 straight from the tree: a String in between would be encoded again by the response. */
  private static byte[] json(ObjectNode body) {
    try {
      return ProtoJson.MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree that cannot be written", e);
    }
  }

  /**
   * The answer of a streaming call: the head goes out with the first frame (so that a failure before any event
   * still gets its own HTTP status), every frame is flushed as it comes, with back-pressure from the connection,
   * and a silence longer than the keep-alive gets a comment. The frames of the events handled in one event-loop task
   * (those of one upstream read, often a whole short answer) go out together at its end: one write to the socket,
   * as a proxy passes on what it read, rather than one per event.
   */
  private final class StreamReply {

    private final HttpServerRequest request;
    private final HttpServerResponse response;
    private final Dialect dialect;
    private final DialectCall call;
    private final ChatEventStream answer;
    private long keepAlive = -1;
    private boolean wroteSinceTick;
    private boolean firstElement = true;
    /** The head is set (200, the stream's content type): a failure now is told in the stream. */
    private boolean started;
    /** The frames written in the current event-loop task, sent when it ends; null when none are waiting. */
    private Buffer pending;

    StreamReply(HttpServerRequest request, Dialect dialect, DialectCall call, ChatEventStream answer) {
      this.request = request;
      this.response = request.response();
      this.dialect = dialect;
      this.call = call;
      this.answer = answer;
    }

    void start() {
      answer.exceptionHandler(this::failed);
      answer.handler(event -> {
        if (event.hasStart()) {
          origin(response, event.getStart().getOrigin());
        }
        call.writer().event(event, this::write);
        if (event.hasDone()) {
          end();
        } else if (response.writeQueueFull()) {
          answer.pause();
          response.drainHandler(v -> answer.resume());
        }
      });
    }

    private void failed(Throwable failure) {
      if (!started) {
        refuse(request, dialect, failure);
        return;
      }
      CallError error = CallError.of(failure);
      int status = dialect.status(error);
      call.writer().failure(dialect.error(error, status), this::write);
      end();
    }

    private void write(DialectCall.Frame frame) {
      if (response.ended() || response.closed()) {
        return;
      }
      if (!started) {
        started = true;
        response.setStatusCode(200).setChunked(true)
            .putHeader(HttpHeaders.CONTENT_TYPE, call.serverSentEvents() ? "text/event-stream" : "application/json")
            .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
            .putHeader("x-accel-buffering", "no"); // nginx in front must not hold the stream back
        keepAlive = vertx.setPeriodic(keepAliveMillis, id -> keepAlive());
      }
      if (pending == null) {
        pending = Buffer.buffer();
        vertx.runOnContext(v -> flush());
      }
      if (call.serverSentEvents()) {
        if (frame.event() != null) {
          pending.appendString("event: ").appendString(frame.event()).appendString("\n");
        }
        pending.appendString("data: ").appendString(frame.data()).appendString("\n\n");
      } else {
        pending.appendString(firstElement ? "[" : ",\r\n").appendString(frame.data());
        firstElement = false;
      }
      wroteSinceTick = true;
    }

    private void flush() {
      Buffer frames = pending;
      pending = null;
      if (frames != null && !response.ended() && !response.closed()) {
        response.write(frames);
      }
    }

    private void keepAlive() {
      if (response.ended() || response.closed()) {
        vertx.cancelTimer(keepAlive);
      } else if (!wroteSinceTick) {
        // An SSE comment, or whitespace between the elements of a JSON array: both are ignored by the reader.
        response.write(call.serverSentEvents() ? ": keep-alive\n\n" : "\n");
      }
      wroteSinceTick = false;
    }

    private void end() {
      vertx.cancelTimer(keepAlive);
      Buffer frames = pending == null ? Buffer.buffer() : pending;
      pending = null;
      if (response.ended() || response.closed()) {
        return;
      }
      if (!call.serverSentEvents()) {
        frames.appendString(firstElement ? "[]" : "]");
      }
      response.end(frames); // the last frames and the end of the body in one write
    }
  }

  /** The Gemini model and method named by a path, for the Gemini dialect. */
  public static Optional<Matcher> geminiCall(String path) {
    Matcher matcher = GEMINI_CALL.matcher(path);
    return matcher.matches() ? Optional.of(matcher) : Optional.empty();
  }
}
