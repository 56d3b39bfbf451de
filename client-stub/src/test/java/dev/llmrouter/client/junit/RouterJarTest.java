package dev.llmrouter.client.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the JUnit extension finds the router's runnable jar, and what it says when it finds none. */
class RouterJarTest {

  @TempDir
  Path dir;

  @AfterEach
  void clearProperties() {
    System.clearProperty(RouterJar.PROPERTY);
    System.clearProperty("maven.repo.local");
  }

  @Test
  void theSystemPropertyComesFirst() throws IOException {
    Path jar = Files.createFile(dir.resolve("llm-router.jar"));
    System.setProperty(RouterJar.PROPERTY, jar.toString());

    assertEquals(jar, RouterJar.find());
  }

  @Test
  void elseTheLocalMavenRepositoryAtTheClientsVersion() throws IOException {
    String version = RouterJar.clientVersion();
    Path jar = dir.resolve("dev/llmrouter/llm-router-server/" + version + "/llm-router-server-" + version
        + "-runnable.jar");
    Files.createDirectories(jar.getParent());
    Files.createFile(jar);
    System.setProperty("maven.repo.local", dir.toString());

    assertEquals(jar, RouterJar.find());
    assertTrue(version.matches("\\d+\\.\\d+\\.\\d+.*"), version);
  }

  @Test
  void noJarIsExplainedWithWhereItWasLookedForAndHowToFetchIt() {
    System.setProperty(RouterJar.PROPERTY, dir.resolve("missing.jar").toString());
    System.setProperty("maven.repo.local", dir.toString());

    String message = assertThrows(IllegalStateException.class, RouterJar::find).getMessage();
    assertTrue(message.startsWith("cannot find the router's runnable jar; looked at [" + dir.resolve("missing.jar")),
        message);
    assertTrue(message.contains("have your build fetch dev.llmrouter:llm-router-server:" + RouterJar.clientVersion()
        + ":jar:runnable (README, \"Add it to your build\")"), message);
  }
}
