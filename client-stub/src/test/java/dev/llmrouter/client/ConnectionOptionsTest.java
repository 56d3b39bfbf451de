package dev.llmrouter.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatResponse;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.ChatStart;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsServerCredentials;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the builder's options put on the wire, seen by a grpc-java server standing in for the router (which has no
 * caller authentication of its own yet): default metadata, the bearer token, TLS with trusted certificates. The
 * client against the router over TLS and mTLS: it/'s LlmRouterClientTest.
 */
class ConnectionOptionsTest {

  private static final Metadata.Key<String> AUTHORIZATION = key("authorization");
  private static final Metadata.Key<String> TEAM = key("x-team");

  private final List<Metadata> receivedHeaders = new CopyOnWriteArrayList<>();
  private Server server;

  @AfterEach
  void stopServer() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void theBearerTokenAndDefaultMetadataGoWithEveryCall() {
    startServer(InsecureServerCredentials.create());
    try (LlmRouterClient client = LlmRouterClient.builder().target("127.0.0.1:" + server.getPort())
        .bearerToken("t0k3n").metadata("x-team", "search").build()) {
      client.chat(ChatRequests.of("m", Messages.user("Hi")));
      try (ChatEventStream events = client.streamChat(ChatRequests.of("m", Messages.user("Hi")))) {
        events.forEachRemaining(event -> { });
      }
    }
    assertEquals(2, receivedHeaders.size());
    for (Metadata headers : receivedHeaders) {
      assertEquals("Bearer t0k3n", headers.get(AUTHORIZATION));
      assertEquals("search", headers.get(TEAM));
    }
  }

  @Test
  void tlsTrustsTheGivenCertificates(@TempDir Path dir) throws Exception {
    SelfSigned tls = SelfSigned.forLocalhost(dir);
    startServer(TlsServerCredentials.create(tls.certificate().toFile(), tls.key().toFile()));
    try (LlmRouterClient client = LlmRouterClient.builder().target("localhost:" + server.getPort())
        .trustCertificates(tls.certificate()).build()) {
      assertEquals("over TLS", client.chat(ChatRequests.of("m", Messages.user("Hi"))).getId());
    }
  }

  @Test
  void tlsRefusesAServerTheJvmDoesNotTrust(@TempDir Path dir) throws Exception {
    SelfSigned tls = SelfSigned.forLocalhost(dir);
    startServer(TlsServerCredentials.create(tls.certificate().toFile(), tls.key().toFile()));
    try (LlmRouterClient client = LlmRouterClient.builder().target("localhost:" + server.getPort()).tls(true)
        .build()) {
      StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
          () -> client.chat(ChatRequests.of("m", Messages.user("Hi"))));
      assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    }
  }

  private void startServer(ServerCredentials credentials) {
    ServerInterceptor recordHeaders = new ServerInterceptor() {
      @Override
      public <Req, Resp> ServerCall.Listener<Req> interceptCall(ServerCall<Req, Resp> call, Metadata headers,
          ServerCallHandler<Req, Resp> next) {
        receivedHeaders.add(headers);
        return next.startCall(call, headers);
      }
    };
    try {
      server = Grpc.newServerBuilderForPort(0, credentials)
          .addService(ServerInterceptors.intercept(new CannedChatService(), recordHeaders)).build().start();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Answers every call with a fixed response id, and streams one start event. */
  private static final class CannedChatService extends ChatServiceGrpc.ChatServiceImplBase {
    @Override
    public void chat(ChatRequest request, StreamObserver<ChatResponse> response) {
      response.onNext(ChatResponse.newBuilder().setId("over TLS").build());
      response.onCompleted();
    }

    @Override
    public void streamChat(ChatRequest request, StreamObserver<ChatEvent> events) {
      events.onNext(ChatEvent.newBuilder().setStart(ChatStart.newBuilder().setId("streamed")).build());
      events.onCompleted();
    }
  }

  /** A certificate for localhost and its private key, as PEM files made with the JDK's keytool. */
  private record SelfSigned(Path certificate, Path key) {

    static SelfSigned forLocalhost(Path dir) throws Exception {
      Path keystore = dir.resolve("server.p12");
      Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
          "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
          "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
          "-keystore", keystore.toString(), "-storepass", "changeit").redirectErrorStream(true).start();
      String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, keytool.waitFor(), output);
      KeyStore store = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(keystore)) {
        store.load(in, "changeit".toCharArray());
      }
      return new SelfSigned(
          Files.writeString(dir.resolve("server.crt"), pem("CERTIFICATE", store.getCertificate("server").getEncoded())),
          Files.writeString(dir.resolve("server.key"),
              pem("PRIVATE KEY", store.getKey("server", "changeit".toCharArray()).getEncoded())));
    }

    private static String pem(String type, byte[] der) {
      return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
          + "\n-----END " + type + "-----\n";
    }
  }

  private static Metadata.Key<String> key(String name) {
    return Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
  }
}
