package dev.llmrouter.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.ChatServiceGrpc;
import dev.llmrouter.api.v1.ListModelsRequest;
import dev.llmrouter.api.v1.ListModelsResponse;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.server.RouterServer;
import dev.llmrouter.server.config.ConfigException;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.testing.Await;
import dev.llmrouter.server.testing.RouterWithUpstream;
import dev.llmrouter.server.testing.TestCertificates;
import dev.llmrouter.server.testing.WholeAnswer;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both listeners over TLS with certificates made by openssl for the test: gRPC through grpc-java, gRPC-Web and the
 * HTTP ingress over HTTP/1.1 and h2 (ALPN), the admin listener; mTLS letting in a client certificate from the client
 * CA and refusing others at the handshake; certificate files replaced while the router runs; files that start-up
 * refuses.
 */
class TlsListenersTest {

  private static final String ANSWER = "{\"id\":\"c\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
      + "\"message\":{\"content\":\"over TLS\"},\"finish_reason\":\"stop\"}]}";
  private static final String ROUTER = """
      admin_listen: 127.0.0.1:0
      cassettes: { mode: "off" }
      providers:
        - { name: openai, type: openai, base_url: "%%1$s/v1", api_key: "${TEST_API_KEY}", models: [gpt-4o-mini] }
      %s
      """;
  /** Looks at the files come every second: a change is seen within a few. */
  private static final Duration CHANGE_SEEN = Duration.ofSeconds(15);

  private static TestCertificates certificates;
  private static RouterWithUpstream tls;
  private static RouterWithUpstream mtls;
  private static Vertx clientVertx;

  private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord record) {
      logged.add(record);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
  };

  @BeforeAll
  static void start(@TempDir Path dir) {
    certificates = TestCertificates.create(dir);
    tls = RouterWithUpstream.start(ROUTER.formatted(certificates.tlsSection(false)));
    tls.upstream().reply(200, "application/json", ANSWER);
    mtls = RouterWithUpstream.start(ROUTER.formatted(certificates.tlsSection(true)));
    mtls.upstream().reply(200, "application/json", ANSWER);
    // Clients on a Vert.x of their own, as elsewhere (see TransportsTest.grpcWebOverHttp11IsServedOnTheSamePort).
    clientVertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable started : new AutoCloseable[] {tls, mtls}) {
      if (started != null) {
        started.close();
      }
    }
    if (clientVertx != null) {
      Await.result(clientVertx.close());
    }
  }

  @BeforeEach
  void captureLogs() {
    Logger.getLogger("llmrouter").addHandler(capture);
  }

  @AfterEach
  void releaseLogs() {
    Logger.getLogger("llmrouter").removeHandler(capture);
  }

  // ---- TLS

  @Test
  void grpcJavaCallsOverTlsTrustingTheTestCa() throws Exception {
    assertEquals("over TLS", chat(tls.router().port(), trusting().build()));
  }

  @Test
  void aPlainTextClientGetsNoAnswer() {
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> chat(tls.router().port(), InsecureChannelCredentials.create()));
    assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
  }

  @Test
  void theHttpIngressAnswersOverHttp11AndH2() throws Exception {
    for (HttpVersion version : List.of(HttpVersion.HTTP_1_1, HttpVersion.HTTP_2)) {
      HttpClient http = https(version);
      try {
        HttpClientResponse response = Await.result(WholeAnswer.of(http.request(new RequestOptions()
            .setMethod(HttpMethod.GET).setHost("localhost").setPort(tls.router().port()).setURI("/v1/models")),
            HttpClientRequest::send));
        assertEquals(200, response.statusCode());
        assertEquals(version, response.version(), "ALPN offers h2 and http/1.1");
      } finally {
        Await.result(http.close());
      }
    }
  }

  @Test
  void grpcWebIsServedOverHttp11() throws Exception {
    HttpClient http = https(HttpVersion.HTTP_1_1);
    try {
      byte[] message = ListModelsRequest.getDefaultInstance().toByteArray();
      Buffer body = Await.result(WholeAnswer.of(http.request(new RequestOptions().setMethod(HttpMethod.POST)
              .setHost("localhost").setPort(tls.router().port()).setURI("/llmrouter.v1.ModelService/ListModels")
              .putHeader("content-type", "application/grpc-web+proto").putHeader("x-grpc-web", "1")),
          request -> request.send(Buffer.buffer().appendByte((byte) 0).appendInt(message.length)
              .appendBytes(message)))).body().result();
      ListModelsResponse models = ListModelsResponse.parseFrom(body.getBytes(5, 5 + body.getInt(1)));
      assertEquals("openai/gpt-4o-mini", models.getModels(0).getName());
    } finally {
      Await.result(http.close());
    }
  }

  @Test
  void theAdminListenerServesTlsToo() throws Exception {
    HttpClient http = https(HttpVersion.HTTP_1_1);
    try {
      HttpClientResponse metrics = Await.result(WholeAnswer.of(http.request(new RequestOptions()
          .setMethod(HttpMethod.GET).setHost("localhost").setPort(tls.router().adminPort()).setURI("/metrics")),
          HttpClientRequest::send));
      assertEquals(200, metrics.statusCode());
      assertEquals(certificates.server().serial(), servedCertificate(tls.router().adminPort()).getSerialNumber());
    } finally {
      Await.result(http.close());
    }
  }

  // ---- mTLS

  @Test
  void underMtlsAClientCertificateFromTheClientCaIsLetIn() throws Exception {
    TestCertificates.Issued client = certificates.client();
    assertEquals("over TLS", chat(mtls.router().port(), trusting()
        .keyManager(client.certificate().toFile(), client.key().toFile()).build()));
  }

  @Test
  void underMtlsAClientWithoutACertificateIsRefusedAtTheHandshake() throws Exception {
    int before = mtls.upstream().received().size();
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> chat(mtls.router().port(), trusting().build()));
    assertRefusedAtTheHandshake(refused);
    assertEquals(before, mtls.upstream().received().size(), "nothing reached the provider");
  }

  @Test
  void underMtlsACertificateTheClientCaDidNotSignIsRefused() throws Exception {
    TestCertificates.Issued stranger = certificates.untrustedClient();
    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
        () -> chat(mtls.router().port(), trusting()
            .keyManager(stranger.certificate().toFile(), stranger.key().toFile()).build()));
    assertRefusedAtTheHandshake(refused);
  }

  // ---- the files change while the router runs

  @Test
  void aReplacedCertificateAndKeyAreServedOnTheNextConnections(@TempDir Path dir) throws Exception {
    ServedFiles files = ServedFiles.copy(certificates.server(), dir);
    try (RouterWithUpstream router = RouterWithUpstream.start(ROUTER.formatted(files.tlsSection()))) {
      int port = router.router().port();
      ManagedChannel before = trustedChannel(port);
      assertEquals(certificates.server().serial(), servedCertificate(port).getSerialNumber());

      TestCertificates.Issued next = certificates.issueServerCertificate("next");
      // Key first, then certificate: a look between the two sees a pair that does not match, and keeps the old one.
      TestCertificates.replace(files.key(), next.key());
      TestCertificates.replace(files.certificate(), next.certificate());

      assertEquals(next.serial(), Await.poll(CHANGE_SEEN, () -> servedCertificate(port).getSerialNumber(),
          next.serial()::equals), "a new connection gets the new certificate");
      int adminPort = router.router().adminPort();
      assertEquals(next.serial(), Await.poll(CHANGE_SEEN, () -> servedCertificate(adminPort).getSerialNumber(),
          next.serial()::equals), "the admin listener serves it too");
      router.upstream().reply(200, "application/json", ANSWER);
      assertEquals("over TLS", ChatServiceGrpc.newBlockingStub(before).chat(hello()).getMessage().getParts(0)
          .getText(), "a connection opened before the change goes on");
      before.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void brokenReplacementsAreRefusedWithOneLogLineAndTheCurrentCertificateStays(@TempDir Path dir)
      throws Exception {
    ServedFiles files = ServedFiles.copy(certificates.server(), dir);
    try (RouterWithUpstream router = RouterWithUpstream.start(ROUTER.formatted(files.tlsSection()))) {
      int port = router.router().port();
      BigInteger first = certificates.server().serial();

      Path notPem = Files.writeString(dir.resolve("not-pem"), "-----BEGIN CERTIFICATE-----\nnot base64\n"
          + "-----END CERTIFICATE-----\n");
      TestCertificates.replace(files.certificate(), notPem);
      assertTrue(Await.until(CHANGE_SEEN, () -> refusals().size() == 1), () -> "refusals: " + refusals());
      assertTrue(refusals().get(0).contains("tls.cert_file " + files.certificate() + ": not PEM certificates"),
          refusals()::toString);
      assertEquals(first, servedCertificate(port).getSerialNumber(), "the current certificate stays");

      TestCertificates.replace(files.certificate(), certificates.server().certificate());
      TestCertificates.replace(files.key(), certificates.untrustedClient().key());
      assertTrue(Await.until(CHANGE_SEEN, () -> refusals().size() == 2), () -> "refusals: " + refusals());
      assertTrue(refusals().get(1).contains("tls.key_file " + files.key() + ": not the private key (PEM) of the "
          + "certificate in cert_file (it does not sign for CN=localhost"), refusals()::toString);
      assertEquals(first, servedCertificate(port).getSerialNumber(), "the current certificate stays");
      assertEquals(1, logged.stream().filter(record -> record.getLevel() == Level.WARNING)
          .filter(record -> record.getMessage().contains("not PEM certificates")).count(),
          "a refused change is logged once");
    }
  }

  // ---- start-up

  @Test
  void startUpRefusesFilesThatDoNotPassTheChecksNamingTheFieldAndFile(@TempDir Path dir) throws Exception {
    Path notes = Files.writeString(dir.resolve("notes.txt"), "not PEM at all");
    TestCertificates.Issued server = certificates.server();
    assertEquals("tls.cert_file " + notes + ": not PEM certificates (Missing -----BEGIN CERTIFICATE----- delimiter)",
        startUpFailure(notes, server.key(), Optional.empty()));
    assertEquals("tls.key_file " + server.certificate() + ": not the private key (PEM) of the certificate in "
        + "cert_file (Missing -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC "
        + "PRIVATE KEY----- delimiter)", startUpFailure(server.certificate(), server.certificate(), Optional.empty()));
    String otherKey = startUpFailure(server.certificate(), certificates.client().key(), Optional.empty());
    assertTrue(otherKey.startsWith("tls.key_file " + certificates.client().key() + ": not the private key (PEM) of "
        + "the certificate in cert_file (it does not sign for CN=localhost, serial "
        + server.serial().toString(16) + ", valid until "), otherKey);
    assertEquals("tls.client_ca_file " + notes + ": not PEM certificates (Missing -----BEGIN CERTIFICATE----- "
        + "delimiter)", startUpFailure(server.certificate(), server.key(), Optional.of(notes)));
  }

  /** Why the router would not start with these files: the message of its {@link ConfigException}. */
  private static String startUpFailure(Path certificate, Path key, Optional<Path> clientCa) throws Exception {
    RouterConfig config = ConfigLoader.parse("listen: 127.0.0.1:0\n"
        + TestCertificates.tlsSection(certificate, key, clientCa), variable -> null);
    Vertx vertx = Vertx.vertx();
    try {
      ExecutionException failure = assertThrows(ExecutionException.class,
          () -> RouterServer.start(vertx, config).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
      return assertInstanceOf(ConfigException.class, failure.getCause()).getMessage();
    } finally {
      Await.result(vertx.close());
    }
  }

  // ---- helpers

  /** Copies of a certificate and key for one router, replaced by the test while it runs. */
  private record ServedFiles(Path certificate, Path key) {
    static ServedFiles copy(TestCertificates.Issued issued, Path dir) throws IOException {
      return new ServedFiles(Files.copy(issued.certificate(), dir.resolve("served.pem")),
          Files.copy(issued.key(), dir.resolve("served-key.pem")));
    }

    String tlsSection() {
      return TestCertificates.tlsSection(certificate, key, Optional.empty());
    }
  }

  private List<String> refusals() {
    return logged.stream().filter(record -> record.getLevel() == Level.WARNING)
        .map(LogRecord::getMessage).filter(message -> message.startsWith("TLS: the changed files are refused"))
        .toList();
  }

  private static ChatRequest hello() {
    return ChatRequest.newBuilder().setModel("openai/gpt-4o-mini").addMessages(Message.newBuilder()
        .setRole(Role.ROLE_USER).addParts(Part.newBuilder().setText("Hello"))).build();
  }

  private static TlsChannelCredentials.Builder trusting() throws IOException {
    return TlsChannelCredentials.newBuilder().trustManager(certificates.ca().toFile());
  }

  private static ManagedChannel trustedChannel(int port) throws IOException {
    return Grpc.newChannelBuilderForAddress("localhost", port, trusting().build()).build();
  }

  /** Chat through a new grpc-java channel with these credentials; the answer's text. */
  private static String chat(int port, ChannelCredentials credentials) throws InterruptedException {
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("localhost", port, credentials).build();
    try {
      return ChatServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).chat(hello())
          .getMessage().getParts(0).getText();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static void assertRefusedAtTheHandshake(StatusRuntimeException refused) {
    assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused::toString);
    Throwable cause = refused;
    while (cause != null && !(cause instanceof SSLException)) {
      cause = cause.getCause();
    }
    assertTrue(cause != null, () -> "not a TLS failure: " + refused);
  }

  private static HttpClient https(HttpVersion version) {
    return clientVertx.createHttpClient(new HttpClientOptions().setSsl(true).setUseAlpn(true)
        .setProtocolVersion(version).setTrustOptions(new PemTrustOptions().addCertPath(certificates.ca().toString()))
        .setKeepAlive(false));
  }

  /** The certificate a new connection to {@code port} is served. */
  private static X509Certificate servedCertificate(int port) throws Exception {
    KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
    trusted.load(null, null);
    trusted.setCertificateEntry("ca", TestCertificates.read(certificates.ca()));
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.startHandshake();
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }
  }
}
