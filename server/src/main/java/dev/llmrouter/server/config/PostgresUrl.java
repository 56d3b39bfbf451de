package dev.llmrouter.server.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * A PostgreSQL database named by a URL in libpq's form, {@code postgresql://user[:password]@host[:port]/database
 * [?sslmode=...]}: `call_log.postgres_url`. Its {@link #toString} never shows the password, so that it may be printed
 * and logged.
 *
 * @param password from the URL, else from the environment variable {@code PGPASSWORD} (as libpq does); empty for
 *     none (a server that trusts the client)
 * @param sslMode libpq's sslmode: disable, allow, prefer (the default) or require (encrypted, the server's certificate
 *     not checked)
 */
public record PostgresUrl(String host, int port, String database, String user, Optional<String> password,
    String sslMode) {

  public static final int DEFAULT_PORT = 5432;
  public static final String EXAMPLE = "postgresql://user@host:5432/database";
  private static final Set<String> SSL_MODES = Set.of("disable", "allow", "prefer", "require");

  /**
   * Reads a URL; {@code environment} gives {@code PGPASSWORD} when the URL holds no password.
   *
   * @throws IllegalArgumentException saying what is wrong, without repeating the URL (it may hold a password)
   */
  public static PostgresUrl parse(String url, Function<String, String> environment) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("is not a URL like " + EXAMPLE + " (" + e.getReason() + " at character "
          + e.getIndex() + "; a password's special characters must be %-encoded)");
    }
    if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
      throw new IllegalArgumentException("must start with postgresql:// (like " + EXAMPLE + ")");
    }
    if (uri.getHost() == null || uri.getRawUserInfo() == null || uri.getPath() == null
        || uri.getPath().length() < 2 || uri.getPath().indexOf('/', 1) >= 0) {
      throw new IllegalArgumentException("must name the user, the host and the database, like " + EXAMPLE);
    }
    String userInfo = uri.getRawUserInfo();
    int colon = userInfo.indexOf(':');
    String user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
    Optional<String> password = colon < 0 ? Optional.ofNullable(environment.apply("PGPASSWORD"))
        : Optional.of(decode(userInfo.substring(colon + 1)));
    String sslMode = "prefer";
    if (uri.getRawQuery() != null) {
      for (String parameter : uri.getRawQuery().split("&")) {
        String[] nameAndValue = parameter.split("=", 2);
        if (!nameAndValue[0].equals("sslmode") || nameAndValue.length < 2
            || !SSL_MODES.contains(nameAndValue[1])) {
          throw new IllegalArgumentException("takes one parameter, sslmode, set to one of "
              + new java.util.TreeSet<>(SSL_MODES) + "; not '" + (nameAndValue[0].equals("password") ? "password=..."
              : parameter) + "'");
        }
        sslMode = nameAndValue[1];
      }
    }
    String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1)
        : uri.getHost();
    return new PostgresUrl(host, uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort(),
        decode(uri.getRawPath().substring(1)), user, password.filter(p -> !p.isEmpty()), sslMode);
  }

  private static String decode(String text) {
    return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** The URL without its password: what messages and start-up output show. */
  public String withoutPassword() {
    return "postgresql://" + user + "@" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/" + database
        + (sslMode.equals("prefer") ? "" : "?sslmode=" + sslMode);
  }

  @Override
  public String toString() {
    return withoutPassword();
  }
}
