package dev.llmrouter.server.tls;

import dev.llmrouter.server.config.ConfigException;
import dev.llmrouter.server.config.TlsConfig;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.X509KeyManager;

/**
 * The contents of the `tls:` files, read and checked as Vert.x will load them: the certificate chain, its private key
 * (which must be the key of the chain's first certificate), and the client CA when mTLS is on.
 */
final class TlsCredentials {

  private static final byte[] PROBE = "llm-router: does this key sign for this certificate?"
      .getBytes(StandardCharsets.UTF_8);

  private final Buffer certificateChain;
  private final Buffer privateKey;
  private final Optional<Buffer> clientCa;
  private final X509Certificate certificate;

  private TlsCredentials(Buffer certificateChain, Buffer privateKey, Optional<Buffer> clientCa,
      X509Certificate certificate) {
    this.certificateChain = certificateChain;
    this.privateKey = privateKey;
    this.clientCa = clientCa;
    this.certificate = certificate;
  }

  /**
   * Reads and checks the files; blocking (a worker's job).
   *
   * @throws ConfigException naming the field and file at fault, and what is wrong with it
   */
  static TlsCredentials read(Vertx vertx, TlsConfig config) {
    Buffer chain = contents("cert_file", config.certFile());
    Buffer key = contents("key_file", config.keyFile());
    Optional<Buffer> clientCa = config.clientCaFile().map(file -> contents("client_ca_file", file));
    check("cert_file", config.certFile(), "not PEM certificates",
        () -> new PemTrustOptions().addCertValue(chain).loadKeyStore(vertx));
    X509Certificate certificate = check("key_file", config.keyFile(),
        "not the private key (PEM) of the certificate in cert_file", () -> certifiedBy(chain, key, vertx));
    clientCa.ifPresent(ca -> check("client_ca_file", config.clientCaFile().get(), "not PEM certificates",
        () -> new PemTrustOptions().addCertValue(ca).loadKeyStore(vertx)));
    return new TlsCredentials(chain, key, clientCa, certificate);
  }

  /** What a listener serves: this chain and key; with a client CA, client certificates it signed, required. */
  ServerSSLOptions sslOptions() {
    ServerSSLOptions options = new ServerSSLOptions()
        .setKeyCertOptions(new PemKeyCertOptions().setCertValue(certificateChain).setKeyValue(privateKey));
    clientCa.ifPresent(ca -> options.setTrustOptions(new PemTrustOptions().addCertValue(ca))
        .setClientAuth(ClientAuth.REQUIRED));
    return options;
  }

  /** The served certificate, for log lines: subject, serial number and end of validity. */
  String describe() {
    return describe(certificate);
  }

  private static String describe(X509Certificate certificate) {
    return certificate.getSubjectX500Principal().getName() + ", serial " + certificate.getSerialNumber().toString(16)
        + ", valid until " + certificate.getNotAfter().toInstant();
  }

  /** The chain's first certificate, once its public key is seen to verify what the private key signs. */
  private static X509Certificate certifiedBy(Buffer chain, Buffer key, Vertx vertx) throws Exception {
    PemKeyCertOptions pair = new PemKeyCertOptions().setCertValue(chain).setKeyValue(key);
    KeyStore store = pair.loadKeyStore(vertx);
    X509Certificate certificate = (X509Certificate) store.getCertificateChain(store.aliases().nextElement())[0];
    X509KeyManager keys = (X509KeyManager) pair.getKeyManagerFactory(vertx).getKeyManagers()[0];
    String algorithm = certificate.getPublicKey().getAlgorithm();
    PrivateKey privateKey = keys.getPrivateKey(keys.getServerAliases(algorithm, null)[0]);
    // Vert.x reads RSA and EC keys only.
    String signatureAlgorithm = algorithm.equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    Signature signer = Signature.getInstance(signatureAlgorithm);
    signer.initSign(privateKey);
    signer.update(PROBE);
    Signature verifier = Signature.getInstance(signatureAlgorithm);
    verifier.initVerify(certificate.getPublicKey());
    verifier.update(PROBE);
    if (!verifier.verify(signer.sign())) {
      throw new IllegalArgumentException("it does not sign for " + describe(certificate));
    }
    return certificate;
  }

  private static Buffer contents(String field, Path file) {
    try {
      return Buffer.buffer(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new ConfigException("tls." + field + " " + file + ": cannot read it: " + e);
    }
  }

  /** A step of the checks, failing in its library's own words. */
  @FunctionalInterface
  private interface Step<T> {
    T run() throws Exception;
  }

  private static <T> T check(String field, Path file, String what, Step<T> step) {
    try {
      return step.run();
    } catch (Exception e) {
      throw new ConfigException("tls." + field + " " + file + ": " + what + " ("
          + Objects.requireNonNullElse(e.getMessage(), e.toString()) + ")");
    }
  }
}
