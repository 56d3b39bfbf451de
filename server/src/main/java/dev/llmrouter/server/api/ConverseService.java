package dev.llmrouter.server.api;

import com.google.rpc.BadRequest;
import com.google.rpc.BadRequest.FieldViolation;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Conversation;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.SessionRecord;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.cassettes.CassetteMode;
import dev.llmrouter.server.config.ConverseConfig;
import dev.llmrouter.server.converse.Conversations;
import dev.llmrouter.server.converse.ConverseSession;
import dev.llmrouter.server.converse.SessionLease;
import dev.llmrouter.server.converse.SessionStore;
import dev.llmrouter.server.observe.CallMetrics;
import dev.llmrouter.server.pipeline.CallMetadata;
import dev.llmrouter.server.pipeline.CallOptions;
import dev.llmrouter.server.pipeline.ChatPipeline;
import dev.llmrouter.server.pipeline.ChatRequestValidator;
import dev.llmrouter.server.pipeline.RunningCalls;
import dev.llmrouter.server.answer.CallError;
import io.vertx.core.Context;
import dev.llmrouter.server.auth.Caller;
import dev.llmrouter.server.auth.CallerAuth;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * `ChatService.Converse`: one bidirectional stream per live session, a gRPC call or a WebSocket of the admin listener
 * ({@link ConverseStream}). The first message starts a session (or resumes one by id, or starts one on a stored
 * conversation of {@link Conversations}, whose history it writes back each time it comes to rest), leased to the
 * stream in the {@link SessionStore}; then user turns, tool results and interrupts go to the {@link ConverseSession},
 * whose events are written back with back-pressure, and whose state is kept in the store each time it comes to rest.
 * A dropped or cancelled stream gives its lease up, leaving the session resumable (by the
 * key that started it, on any router sharing the store); a client half-close ends it. Nothing of a stream is handled
 * before its key is let in. When the router drains, each stream gives its lease up once its running model call has
 * answered, and ends with UNAVAILABLE telling the client to resume the session on another replica.
 */
public final class ConverseService {

  /** A stream's session, once its first message opened it, and the stream's lease on it. */
  private record Driven(ConverseSession session, SessionLease lease, boolean resumed) {
  }

  /** How long a resume waits between two looks at a session another stream drives. */
  private static final long RESUME_RETRY_MILLIS = 50;
  /** Looks at a session another stream drives before the resume is refused: 2 s in all. */
  private static final int RESUME_ATTEMPTS = 40;

  private final Vertx vertx;
  private final ChatPipeline pipeline;
  private final ChatRequestValidator validator;
  private final CallMetadata metadata;
  private final ConverseConfig config;
  private final SessionStore sessions;
  private final CallMetrics metrics;
  private final CallerAuth auth;
  private final RunningCalls running;
  private final Conversations conversations;
  private final Map<String, AtomicInteger> sessionsPerStart = new ConcurrentHashMap<>();

  /**
   * @param running where each stream is counted until it ends, for a drain to wait for
   * @param conversations the stored conversations a session may drive (`start.conversation_id`)
   */
  public ConverseService(Vertx vertx, ChatPipeline pipeline, ChatRequestValidator validator, CallMetadata metadata,
      ConverseConfig config, SessionStore sessions, CallMetrics metrics, CallerAuth auth, RunningCalls running,
      Conversations conversations) {
    this.vertx = vertx;
    this.pipeline = pipeline;
    this.validator = validator;
    this.metadata = metadata;
    this.config = config;
    this.sessions = sessions;
    this.metrics = metrics;
    this.auth = auth;
    this.running = running;
    this.conversations = conversations;
  }

  /** Handles one Converse gRPC call. */
  public void converse(GrpcServerRequest<ConverseRequest, ConverseEvent> call) {
    converse(new GrpcConverseStream(call));
  }

  /**
   * Handles one Converse stream. Its session lives on the stream's context; what a store's answer brings from another
   * context hops there first.
   */
  public void converse(ConverseStream stream) {
    // The session, once the first message has opened it; later messages wait for it, in the order they came.
    AtomicReference<Future<Driven>> driven = new AtomicReference<>();
    Context streamContext = vertx.getOrCreateContext();
    metrics.streamOpened("Converse", 1);
    AtomicBoolean counted = new AtomicBoolean(true);
    RunningCalls.Call[] asRunning = new RunningCalls.Call[1];
    Runnable uncount = () -> {
      if (counted.getAndSet(false)) {
        metrics.streamOpened("Converse", -1);
        running.remove(asRunning[0]);
      }
    };
    // Set once the stream is over here (the client left, the stream failed, or it is ending): nothing more to do.
    AtomicBoolean gone = new AtomicBoolean();
    ConverseSession.Output output = new ConverseSession.Output() {
      @Override
      public void send(ConverseEvent event) {
        ConverseSession.onContext(streamContext, () -> stream.write(event));
      }

      @Override
      public boolean isFull() {
        return stream.writeQueueFull(); // thread-safe; writes queued on the stream's context lag
      }

      @Override
      public void whenDrained(Runnable action) {
        ConverseSession.onContext(streamContext, () -> {
          // The client's requests wait too, so a flood of messages cannot outrun the answers.
          stream.pause();
          Runnable resume = () -> {
            stream.resume();
            action.run();
          };
          // Seen from the session's context, the queue may have drained since it looked.
          if (stream.writeQueueFull()) {
            stream.drainHandler(resume);
          } else {
            resume.run();
          }
        });
      }
    };
    asRunning[0] = drainable(stream, driven, gone, output, streamContext, uncount);
    running.add(asRunning[0]);
    // Messages and the half-close wait for the key, in the order they came (a future's callbacks run in order);
    // asked once the stream is counted, so that a refusal at once uncounts it.
    Future<Caller> caller = auth.authenticate(stream.headers(), stream::remoteAddress).onFailure(refused -> {
      stream.fail(refused);
      uncount.run();
    });
    // The stream is counted open until its lease is given up, so that its session can be resumed once it is not.
    Runnable dropped = () -> {
      if (gone.getAndSet(true)) {
        return;
      }
      Future<Driven> opening = driven.get();
      if (opening == null) {
        uncount.run();
        return;
      }
      opening.onComplete(opened -> {
        if (opened.failed()) {
          uncount.run();
          return;
        }
        Driven left = opened.result();
        left.session().run(() -> {
          left.session().detach(output);
          left.lease().release().onComplete(released -> uncount.run());
        });
      });
    };
    // The store could not keep the session (Redis failed), or the lease went to another stream: the stream ends.
    Function<Driven, Handler<Throwable>> lost = failed -> failure -> failed.session().run(() -> {
      if (gone.getAndSet(true)) {
        return;
      }
      failed.session().close();
      failed.lease().release();
      stream.fail(failure);
      uncount.run();
    });
    // A half-close ends the session once the running model call (if any) has answered: a client that sends its
    // last message and closes, as `buf curl` does, still gets that answer.
    Runnable finished = () -> caller.onSuccess(who -> {
      if (gone.get()) {
        return; // the half-close was part of a cancel: the session stays resumable
      }
      Future<Driven> opening = driven.get();
      if (opening == null) {
        stream.end();
        uncount.run();
        return;
      }
      opening.onSuccess(ending -> ending.session().run(() -> ending.session().whenNoModelCallRuns(() -> {
        if (gone.getAndSet(true)) {
          return; // cancelled while the last answer ran: the session stays resumable
        }
        ending.session().close();
        ending.lease().remove().onComplete(removed -> ConverseSession.onContext(streamContext, () -> {
          if (removed.failed()) {
            stream.fail(removed.cause());
          } else {
            stream.end();
          }
          uncount.run();
        }));
      })));
    });
    stream.handlers(request -> caller.onSuccess(who -> {
      if (gone.get()) {
        return;
      }
      Future<Driven> opening = driven.get();
      if (opening == null) {
        driven.set(open(stream, request, who, streamContext)
            .onSuccess(opened -> opened.session().run(() -> {
              if (gone.get()) {
                return; // the client left while its session opened: `dropped` gives the lease up
              }
              Handler<Throwable> onLost = lost.apply(opened);
              opened.session().onSettled(record -> {
                opened.lease().keep(record).onFailure(onLost);
                keepConversation(record).onFailure(onLost);
              });
              opened.lease().renewWhileHeld(onLost);
              opened.session().attach(output, opened.resumed());
            }))
            .onFailure(refused -> ConverseSession.onContext(streamContext, () -> {
              gone.set(true);
              stream.fail(refused);
              uncount.run();
            })));
        return;
      }
      opening.onSuccess(current -> current.session().run(() -> dispatch(current.session(), request)));
    }), dropped, finished);
  }

  /**
   * The stream as a drain sees it: once the session's running model call has answered (at once, the call interrupted,
   * at the drain's deadline), it gives its lease up and ends with UNAVAILABLE naming the session to resume on another
   * replica.
   */
  private RunningCalls.Call drainable(ConverseStream stream,
      AtomicReference<Future<Driven>> driven, AtomicBoolean gone, ConverseSession.Output output,
      Context streamContext, Runnable uncount) {
    return new RunningCalls.Call() {
      @Override
      public void windDown() {
        end(false);
      }

      @Override
      public void cancel(CallError why) {
        end(true);
      }

      private void end(boolean now) {
        ConverseSession.onContext(streamContext, () -> {
          Future<Driven> opening = driven.get();
          if (opening == null) {
            if (!gone.getAndSet(true)) {
              stream.fail(running.drainingRefusal());
              uncount.run();
            }
            return;
          }
          opening.onSuccess(opened -> opened.session().run(() -> {
            Runnable leave = () -> {
              if (gone.getAndSet(true)) {
                return;
              }
              String id = opened.session().id();
              opened.session().detach(output);
              opened.lease().release().onComplete(released -> ConverseSession.onContext(streamContext, () -> {
                stream.fail(CallError.withInfo(GrpcStatus.UNAVAILABLE, "session " + id + ": this "
                    + "router replica is draining (shutting down); resume on another replica with start "
                    + "{ resume_session_id: \"" + id + "\" }", "DRAINING", Map.of("session_id", id), null));
                uncount.run();
              }));
            };
            if (now) {
              leave.run();
            } else {
              opened.session().whenNoModelCallRuns(leave);
            }
          }));
        });
      }
    };
  }

  /** The session a stream's first message starts or resumes, leased to the stream. */
  private Future<Driven> open(ConverseStream stream, ConverseRequest first,
      Caller caller, Context context) {
    if (!first.hasStart()) {
      return Future.failedFuture(new CallError(GrpcStatus.INVALID_ARGUMENT, "the first message of a Converse stream "
          + "must be `start` (a new session's settings, or resume_session_id), not " + first.getRequestCase()));
    }
    ConverseStart start = first.getStart();
    if (!start.getResumeSessionId().isEmpty()) {
      return resume(start.getResumeSessionId(), caller, context);
    }
    if (!start.getConversationId().isEmpty()) {
      String id = start.getConversationId();
      return conversations.store().find(id, caller.keyId())
          .compose(found -> {
            Conversation conversation = found.orElseThrow(() -> new CallError(GrpcStatus.NOT_FOUND, "start."
                + "conversation_id: no conversation " + CallError.quote(id) + " of this key (ListConversations "
                + "lists them)"));
            return open(stream, Conversations.converseStart(conversation, start),
                Conversations.sessionHistory(conversation), caller, context);
          });
    }
    return open(stream, start, List.of(), caller, context);
  }

  /** A new session with {@code start}'s settings, going on from {@code history}. */
  private Future<Driven> open(ConverseStream stream, ConverseStart start, List<Message> history, Caller caller,
      Context context) {
    CallOptions options;
    try {
      validateStart(start);
      options = metadata.optionsOf(stream.headers(), true, 0, caller);
    } catch (CallError invalid) {
      return Future.failedFuture(invalid);
    }
    stream.header(CallMetadata.TRACE_ID_HEADER, options.call().traceId());
    return create(start, options, context, sessionId(start, options), history);
  }

  /** Writes a session's history back into the stored conversation it drives, if any. */
  private Future<?> keepConversation(SessionRecord record) {
    String id = record.getStart().getConversationId();
    return id.isEmpty() ? Future.succeededFuture()
        : conversations.writeBack(id, record.getKeyId(), record.getHistoryList());
  }

  private Future<Driven> resume(String id, Caller caller, Context context) {
    SessionLease lease = new SessionLease(vertx, sessions, id);
    return claim(lease, caller.keyId(), RESUME_ATTEMPTS).map(found -> found
        .map(record -> new Driven(ConverseSession.resume(record, caller, pipeline, config.maxSteps(),
            config.finalPrompt(), conversations.compaction(), context), lease, true))
        .orElseThrow(() -> new CallError(GrpcStatus.NOT_FOUND, "no session " + CallError.quote(id) + ": it ended, "
            + "or expired after " + idleTimeout() + " without a stream (converse.idle_timeout)")));
  }

  /**
   * The session's record, leased to this stream; while another stream drives the session, asked again every
   * {@value #RESUME_RETRY_MILLIS} ms, {@code attempts} times in all, before the refusal: a client that cancels its
   * stream and resumes at once races its own cancel (grpc-js sends the reset after the new stream's first message).
   */
  private Future<Optional<SessionRecord>> claim(SessionLease lease, String keyId, int attempts) {
    return lease.claim(keyId).recover(refused -> {
      if (attempts == 1 || CallError.of(refused).status() != GrpcStatus.FAILED_PRECONDITION) {
        return Future.failedFuture(refused);
      }
      Promise<Void> retry = Promise.promise();
      vertx.setTimer(RESUME_RETRY_MILLIS, id -> retry.complete());
      return retry.future().compose(v -> claim(lease, keyId, attempts - 1));
    });
  }

  /** The idle timeout as a message says it: `600 s`, or `300 ms` when not whole seconds. */
  private String idleTimeout() {
    long millis = config.idleTimeout().toMillis();
    return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
  }

  /**
   * A new session under {@code id}; when that id is taken (a replica sharing the store derived the same one from the
   * same start message), under a random one.
   */
  private Future<Driven> create(ConverseStart start, CallOptions options, Context context, String id,
      List<Message> history) {
    ConverseSession session = new ConverseSession(id, start, options, pipeline, config.maxSteps(),
        config.finalPrompt(), conversations.compaction(), context);
    session.startFrom(history);
    SessionLease lease = new SessionLease(vertx, sessions, id);
    return lease.create(session.record()).compose(created -> created
        ? Future.succeededFuture(new Driven(session, lease, false))
        : create(start, options, context, randomSessionId(), history));
  }

  // Checks the session's settings as the first request of the session would be checked.
  private void validateStart(ConverseStart start) {
    ChatRequest.Builder probe = ChatRequest.newBuilder().setModel(start.getModel()).addAllTools(start.getToolsList())
        .setSettings(start.getSettings()).addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
            .addParts(Part.newBuilder().setText("-")));
    if (start.hasResponseFormat()) {
      probe.setResponseFormat(start.getResponseFormat());
    }
    if (start.hasWebSearch()) {
      probe.setWebSearch(start.getWebSearch());
    }
    validator.validate(probe.build());
    conversations.compaction().checkBudget("start.history_token_budget", start.getHistoryTokenBudget());
    if (start.getMaxSteps() < 0) {
      throw new CallError(GrpcStatus.INVALID_ARGUMENT, "start.max_steps must be 0 (the server default) or more");
    }
    BadRequest.Builder violations = BadRequest.newBuilder();
    Set<String> declared = start.getToolsList().stream().map(Tool::getName).collect(Collectors.toSet());
    start.getToolBudgetsMap().forEach((tool, budget) -> {
      String field = "start.tool_budgets[" + CallError.quote(tool) + "]";
      if (!declared.contains(tool)) {
        violations.addFieldViolations(FieldViolation.newBuilder().setField(field)
            .setDescription("names no tool of start.tools"));
      } else if (budget < 0) {
        violations.addFieldViolations(FieldViolation.newBuilder().setField(field)
            .setDescription("must be 0 or more, not " + budget));
      }
    });
    if (violations.getFieldViolationsCount() > 0) {
      throw CallError.badRequest(violations.build());
    }
  }

  /**
   * A live session gets a random id. With cassettes, the id derives from the start message and how many sessions
   * it started before in this process, so a recorded conversation replays with the same session id.
   */
  private String sessionId(ConverseStart start, CallOptions options) {
    if (options.mode() == CassetteMode.OFF) {
      return randomSessionId();
    }
    String startKey = HexFormat.of().formatHex(sha256(start.toByteArray()));
    int nth = sessionsPerStart.computeIfAbsent(startKey, k -> new AtomicInteger()).getAndIncrement();
    return "sess_" + HexFormat.of().formatHex(sha256((startKey + ":" + nth).getBytes(StandardCharsets.UTF_8)))
        .substring(0, 24);
  }

  private static String randomSessionId() {
    return "sess_" + UUID.randomUUID().toString().replace("-", "");
  }

  private static void dispatch(ConverseSession session, ConverseRequest request) {
    switch (request.getRequestCase()) {
      case USER -> session.onUserMessage(request.getUser());
      case TOOL_RESULTS -> session.onToolResults(request.getToolResults());
      case INTERRUPT -> session.onInterrupt();
      default -> session.onUnexpected(request.getRequestCase().name().toLowerCase());
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
