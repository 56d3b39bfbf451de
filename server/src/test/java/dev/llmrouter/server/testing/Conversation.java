package dev.llmrouter.server.testing;

import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.ToolCall;
import dev.llmrouter.api.v1.ToolResults;
import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** One Converse stream seen from the client: a grpc-java bidirectional stream to the real router. */
public final class Conversation implements StreamObserver<ConverseEvent> {
  public final LinkedBlockingQueue<ConverseEvent> events = new LinkedBlockingQueue<>();
  public final List<ConverseEvent> all = new ArrayList<>();
  public final CompletableFuture<Status> closed = new CompletableFuture<>();
  public StreamObserver<ConverseRequest> requests;

  public static Conversation open(RunningRouter router) {
    return open(router, new Metadata());
  }

  /** A stream whose call metadata holds {@code headers}. */
  public static Conversation open(RunningRouter router, Metadata headers) {
    return open(router.channel(), headers);
  }

  /** A stream on {@code channel} (a connection of its own: see {@link RunningRouter#newConnection}). */
  public static Conversation open(Channel channel, Metadata headers) {
    Conversation conversation = new Conversation();
    conversation.requests = ChatServiceGrpc.newStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)).converse(conversation);
    return conversation;
  }

  public Conversation send(ConverseRequest request) {
    requests.onNext(request);
    return this;
  }

  public Conversation user(String text) {
    return send(ConverseRequest.newBuilder().setUser(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText(text))).build());
  }

  /** Waits for the next event matching {@code wanted}, keeping every event in {@link #all}. */
  public ConverseEvent until(Predicate<ConverseEvent> wanted) throws InterruptedException {
    while (true) {
      ConverseEvent event = events.poll(10, TimeUnit.SECONDS);
      if (event == null) {
        throw new AssertionError("no matching event within 10 s; got " + all);
      }
      all.add(event);
      if (wanted.test(event)) {
        return event;
      }
    }
  }

  /** Answers each requested call with the text {@code result}. */
  public Conversation answer(ConverseEvent toolCalls, String result) {
    ToolResults.Builder results = ToolResults.newBuilder();
    for (ToolCall call : toolCalls.getToolCalls().getToolCallsList()) {
      results.addResults(Message.newBuilder().setRole(Role.ROLE_TOOL).setToolCallId(call.getId())
          .addParts(Part.newBuilder().setText(result)));
    }
    return send(ConverseRequest.newBuilder().setToolResults(results).build());
  }

  @Override
  public void onNext(ConverseEvent value) {
    events.add(value);
  }

  @Override
  public void onError(Throwable t) {
    closed.complete(Status.fromThrowable(t));
  }

  @Override
  public void onCompleted() {
    closed.complete(Status.OK);
  }
}
