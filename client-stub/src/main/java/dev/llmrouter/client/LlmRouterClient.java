package dev.llmrouter.client;

import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.ConverseEvent;
import dev.llmrouter.api.v1.ConverseRequest;
import dev.llmrouter.api.v1.ConverseStart;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.Model;
import dev.llmrouter.api.v1.ModelServiceGrpc;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A client for llm-router on grpc-java:
 *
 * <pre>
 * try (LlmRouterClient router = LlmRouterClient.builder().target("127.0.0.1:50051").build()) {
 *   ChatResponse answer = router.chat(ChatRequests.of("openai/gpt-4o-mini", Messages.user("Hello")));
 *   try (ChatEventStream events = router.streamChat(ChatRequests.of("openai/gpt-4o-mini", Messages.user("Hi")))) {
 *     events.forEachRemaining(event -> System.out.print(event.getTextDelta().getText()));
 *   }
 * }
 * </pre>
 *
 * Failed calls throw (or hand to {@link EventHandler#onError}) a {@link io.grpc.StatusRuntimeException} with the
 * router's status and details. The client is thread-safe; close it to release its connection.
 */
public final class LlmRouterClient implements AutoCloseable {

  /** The deadline of a call when the builder sets none: the router's own default upstream timeout. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofMinutes(5);

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final ManagedChannel channel;
  private final Channel interceptedChannel;
  private final Duration deadline;

  private LlmRouterClient(ManagedChannel channel, List<ClientInterceptor> interceptors, Duration deadline) {
    this.channel = channel;
    this.interceptedChannel = ClientInterceptors.intercept(channel, interceptors);
    this.deadline = deadline;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Sends a request and waits for the complete answer. */
  public ChatResponse chat(ChatRequest request) {
    return ChatServiceGrpc.newBlockingStub(interceptedChannel).withDeadline(nextDeadline()).chat(request);
  }

  /**
   * Streams the answer to a request as an iterator of events, {@code start} first and {@code done} last; a failure is
   * thrown by {@code hasNext()} or {@code next()}. Close the stream to stop reading early: that cancels the call.
   */
  public ChatEventStream streamChat(ChatRequest request) {
    // A call belongs to the context it starts in: cancelling this context is how the stream cancels its call.
    Context.CancellableContext call = Context.current().withCancellation();
    Context previous = call.attach();
    try {
      return new ChatEventStream(call, ChatServiceGrpc.newBlockingStub(interceptedChannel)
          .withDeadline(nextDeadline()).streamChat(request));
    } finally {
      call.detach(previous);
    }
  }

  /** Streams the answer to a request to a handler, on grpc-java's threads; returns at once. */
  public Cancellable streamChat(ChatRequest request, EventHandler<ChatEvent> handler) {
    HandlerObserver<ChatRequest, ChatEvent> observer = new HandlerObserver<>(handler);
    ChatServiceGrpc.newStub(interceptedChannel).withDeadline(nextDeadline()).streamChat(request, observer);
    return observer;
  }

  /** The models configured on the router, sorted by name. */
  public List<Model> models() {
    return ModelServiceGrpc.newBlockingStub(interceptedChannel).withDeadline(nextDeadline())
        .listModels(ListModelsRequest.getDefaultInstance()).getModelsList();
  }

  /**
   * Opens a live conversation: sends {@code start}, then hands every event of the session to the handler. A session
   * stays open between turns, so no default deadline applies to it.
   */
  public ConverseSession converse(ConverseStart start, EventHandler<ConverseEvent> handler) {
    HandlerObserver<ConverseRequest, ConverseEvent> observer = new HandlerObserver<>(handler);
    ConverseSession session = new ConverseSession(ChatServiceGrpc.newStub(interceptedChannel).converse(observer),
        observer);
    session.send(ConverseRequest.newBuilder().setStart(start).build());
    return session;
  }

  /** Closes the connection; calls still running are cancelled. */
  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Deadline nextDeadline() {
    return Deadline.after(deadline.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** How to reach the router and what every call carries. Only {@link #target} is required. */
  public static final class Builder {

    private String target;
    private boolean tls;
    private Path trustCertificates;
    private Path clientCertificate;
    private Path clientKey;
    private Duration deadline = DEFAULT_DEADLINE;
    private final Metadata defaultMetadata = new Metadata();
    private final List<ClientInterceptor> interceptors = new ArrayList<>();

    private Builder() {
    }

    /** The router's address, as {@code host:port} (or any grpc-java target, such as {@code dns:///host:port}). */
    public Builder target(String target) {
      this.target = target;
      return this;
    }

    /** Whether to connect over TLS, trusting the JVM's certificate authorities (plain text when off: the default). */
    public Builder tls(boolean tls) {
      this.tls = tls;
      return this;
    }

    /** Connects over TLS, trusting the certificates of this PEM file instead of the JVM's authorities. */
    public Builder trustCertificates(Path pemFile) {
      this.tls = true;
      this.trustCertificates = pemFile;
      return this;
    }

    /**
     * Connects over TLS presenting this client certificate, for a router that requires one (mTLS).
     *
     * @param certificateChain the client's certificate, then any intermediates (PEM)
     * @param privateKey the certificate's private key (PEM, PKCS#8: {@code -----BEGIN PRIVATE KEY-----})
     */
    public Builder clientCertificate(Path certificateChain, Path privateKey) {
      this.tls = true;
      this.clientCertificate = Objects.requireNonNull(certificateChain);
      this.clientKey = Objects.requireNonNull(privateKey);
      return this;
    }

    /** Sends {@code authorization: Bearer <token>} with every call. */
    public Builder bearerToken(String token) {
      return metadata(AUTHORIZATION.name(), "Bearer " + token);
    }

    /** How long each call may take ({@link #DEFAULT_DEADLINE} unless set); Converse sessions have none. */
    public Builder defaultDeadline(Duration deadline) {
      this.deadline = Objects.requireNonNull(deadline);
      return this;
    }

    /** Sends this metadata with every call, for example {@code x-cassette-scope}. */
    public Builder metadata(String key, String value) {
      defaultMetadata.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);
      return this;
    }

    /** Runs these interceptors on every call, after the default metadata is attached. */
    public Builder intercept(ClientInterceptor... interceptors) {
      this.interceptors.addAll(List.of(interceptors));
      return this;
    }

    public LlmRouterClient build() {
      if (target == null || target.isBlank()) {
        throw new IllegalStateException("target is required: the router's host:port, e.g. 127.0.0.1:50051");
      }
      List<ClientInterceptor> all = new ArrayList<>(interceptors);
      // ClientInterceptors.intercept runs the last interceptor of the list first.
      all.add(MetadataUtils.newAttachHeadersInterceptor(defaultMetadata));
      return new LlmRouterClient(Grpc.newChannelBuilder(target, credentials()).build(), all, deadline);
    }

    private ChannelCredentials credentials() {
      if (!tls) {
        return InsecureChannelCredentials.create();
      }
      // Without trusted certificates of its own, the builder trusts the JVM's authorities.
      TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder();
      if (trustCertificates != null) {
        try {
          credentials.trustManager(trustCertificates.toFile());
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read the trusted certificates in " + trustCertificates, e);
        }
      }
      if (clientCertificate != null) {
        try {
          credentials.keyManager(clientCertificate.toFile(), clientKey.toFile());
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read the client certificate " + clientCertificate + " or its key "
              + clientKey, e);
        }
      }
      return credentials.build();
    }
  }
}
