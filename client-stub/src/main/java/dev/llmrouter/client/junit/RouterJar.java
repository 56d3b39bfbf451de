package dev.llmrouter.client.junit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * Where the router's runnable jar is: the system property {@value #PROPERTY} or the environment variable
 * {@value #VARIABLE}, else the local Maven repository, at this client's own version
 * ({@code dev.llmrouter:llm-router-server:VERSION:jar:runnable}).
 */
final class RouterJar {

  static final String PROPERTY = "llmrouter.jar";
  static final String VARIABLE = "LLMROUTER_JAR";

  private RouterJar() {
  }

  /** @throws IllegalStateException naming the places looked at and how to put the jar there */
  static Path find() {
    List<Path> candidates = new ArrayList<>();
    Optional.ofNullable(System.getProperty(PROPERTY, System.getenv(VARIABLE))).filter(path -> !path.isBlank())
        .map(Path::of).ifPresent(candidates::add);
    String version = clientVersion();
    Path repository = Path.of(System.getProperty("maven.repo.local",
        Path.of(System.getProperty("user.home"), ".m2", "repository").toString()));
    candidates.add(repository.resolve("dev/llmrouter/llm-router-server/" + version + "/llm-router-server-" + version
        + "-runnable.jar"));
    return candidates.stream().filter(Files::isRegularFile).findFirst().orElseThrow(() -> new IllegalStateException(
        "cannot find the router's runnable jar; looked at " + candidates + ". Set the system property " + PROPERTY
            + " (or the environment variable " + VARIABLE + ") to its path, or have your build fetch "
            + "dev.llmrouter:llm-router-server:" + version + ":jar:runnable (README, \"Add it to your build\")"));
  }

  /** The version this client was built as, which is the router's it goes with. */
  static String clientVersion() {
    try (InputStream in = RouterJar.class.getResourceAsStream("llm-router.properties")) {
      if (in == null) {
        throw new IllegalStateException("llm-router.properties is missing from the client's jar");
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
