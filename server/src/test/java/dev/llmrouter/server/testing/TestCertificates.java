package dev.llmrouter.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Certificates made for a test by the openssl command line, in a folder of the test's (no private key is kept in the
 * repository): a CA that signs the router's certificates for localhost and 127.0.0.1, and a client CA that signs
 * client certificates, beside a client certificate the client CA did not sign. Tests that need these are skipped where
 * openssl is not on the PATH.
 */
public final class TestCertificates {

  /**
   * A certificate and its private key, as PEM files.
   *
   * @param certificate the certificate
   * @param key its private key (PKCS#8)
   * @param serial the certificate's serial number, to tell which certificate a server presents
   */
  public record Issued(Path certificate, Path key, BigInteger serial) {
  }

  private static final Duration OPENSSL_TIMEOUT = Duration.ofSeconds(30);
  private static final String[] NEW_EC_KEY = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};

  private final Path dir;
  private final Issued serverCa;
  private final Issued clientCa;
  private final Issued server;
  private final Issued client;
  private final Issued untrustedClient;
  private long lastSerial;

  private TestCertificates(Path dir) {
    this.dir = dir;
    this.serverCa = authority("ca", "llm-router test CA");
    this.clientCa = authority("clients-ca", "llm-router test clients CA");
    this.server = issueServerCertificate("server");
    this.client = issue("client", clientCa, "CN=test client", "extendedKeyUsage=clientAuth");
    this.untrustedClient = issue("untrusted-client", serverCa, "CN=untrusted client", "extendedKeyUsage=clientAuth");
  }

  /** Makes the certificates in {@code dir}; skips the test where openssl is missing. */
  public static TestCertificates create(Path dir) {
    assumeTrue(ExternalProcess.onPath("openssl"), "openssl is not on the PATH: skipping the TLS tests");
    return new TestCertificates(dir);
  }

  /** The CA that signed the router's certificates: what clients trust. */
  public Path ca() {
    return serverCa.certificate();
  }

  /** The CA that signed the trusted client certificates: the router's `tls.client_ca_file`. */
  public Path clientCa() {
    return clientCa.certificate();
  }

  /** The router's first certificate, for localhost and 127.0.0.1. */
  public Issued server() {
    return server;
  }

  /** A client certificate signed by {@link #clientCa()}. */
  public Issued client() {
    return client;
  }

  /** A client certificate signed by the router's CA ({@link #ca()}), not by the client CA. */
  public Issued untrustedClient() {
    return untrustedClient;
  }

  /** A new certificate for localhost and 127.0.0.1 from the same CA, with a serial of its own, as {@code name}.pem. */
  public Issued issueServerCertificate(String name) {
    return issue(name, serverCa, "CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1");
  }

  /** The `tls:` section serving {@link #server()}, with client certificates signed by {@link #clientCa()} if asked. */
  public String tlsSection(boolean clientCertificatesRequired) {
    return tlsSection(server.certificate(), server.key(),
        clientCertificatesRequired ? Optional.of(clientCa()) : Optional.empty());
  }

  /** A `tls:` section naming these files. */
  public static String tlsSection(Path certificate, Path key, Optional<Path> clientCa) {
    return "tls: { cert_file: \"%s\", key_file: \"%s\"%s }".formatted(certificate, key,
        clientCa.map(file -> ", client_ca_file: \"" + file + "\"").orElse(""));
  }

  /** Replaces {@code target}'s contents with {@code source}'s at once (a rename), as a deployment tool does. */
  public static void replace(Path target, Path source) {
    try {
      Path next = Files.copy(source, target.resolveSibling(target.getFileName() + ".next"),
          StandardCopyOption.REPLACE_EXISTING);
      Files.move(next, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The certificate (the first) in a PEM file. */
  public static X509Certificate read(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (CertificateException e) {
      throw new IllegalStateException(pem + " holds no certificate", e);
    }
  }

  private Issued authority(String name, String commonName) {
    Issued files = files(name, nextSerial());
    openssl(concat(List.of("req", "-x509"), NEW_EC_KEY, "-keyout", files.key().toString(),
        "-out", files.certificate().toString(), "-days", "2", "-subj", "/CN=" + commonName,
        "-set_serial", files.serial().toString()));
    return files;
  }

  private Issued issue(String name, Issued authority, String subject, String extensions) {
    Issued files = files(name, nextSerial());
    Path request = dir.resolve(name + ".csr");
    Path extensionFile = dir.resolve(name + ".ext");
    try {
      Files.writeString(extensionFile, "basicConstraints=CA:FALSE\n" + extensions + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    openssl(concat(List.of("req", "-new"), NEW_EC_KEY, "-keyout", files.key().toString(),
        "-out", request.toString(), "-subj", "/" + subject));
    openssl(List.of("x509", "-req", "-in", request.toString(), "-CA", authority.certificate().toString(),
        "-CAkey", authority.key().toString(), "-set_serial", files.serial().toString(), "-days", "2",
        "-extfile", extensionFile.toString(), "-out", files.certificate().toString()));
    return files;
  }

  private Issued files(String name, BigInteger serial) {
    return new Issued(dir.resolve(name + ".pem"), dir.resolve(name + "-key.pem"), serial);
  }

  private BigInteger nextSerial() {
    return BigInteger.valueOf(++lastSerial);
  }

  private void openssl(List<String> arguments) {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(arguments);
    ExternalProcess.Run run = ExternalProcess.run(dir, OPENSSL_TIMEOUT, command.toArray(String[]::new));
    assertEquals(0, run.exitCode(), () -> String.join(" ", command) + "\n" + run);
  }

  private static List<String> concat(List<String> first, String[] middle, String... last) {
    List<String> all = new ArrayList<>(first);
    all.addAll(List.of(middle));
    all.addAll(List.of(last));
    return all;
  }
}
