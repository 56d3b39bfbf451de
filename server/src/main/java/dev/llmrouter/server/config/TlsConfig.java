package dev.llmrouter.server.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The `tls:` section: both listeners (the main one and the admin one) serve TLS with this certificate and key, and,
 * with a client CA, require client certificates signed by it (mTLS). The files are read again when they change.
 *
 * @param certFile the server's certificate chain (PEM), its own certificate first
 * @param keyFile the certificate's private key (PEM: PKCS#8, or PKCS#1 RSA, or SEC1 EC)
 * @param clientCaFile the certificates (PEM) that client certificates must chain to; empty for no client certificates
 */
public record TlsConfig(Path certFile, Path keyFile, Optional<Path> clientCaFile) {

  /** The files to watch for changes, in the order above. */
  public List<Path> files() {
    return Stream.concat(Stream.of(certFile, keyFile), clientCaFile.stream()).toList();
  }
}
