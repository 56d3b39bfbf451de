package dev.llmrouter.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.llmrouter.server.testing.ExternalProcess;
import dev.llmrouter.server.testing.ExternalProcess.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Python recipe as written: stubs generated from `proto/` by the documented `protoc` command (Debian's
 * protobuf-compiler and protobuf-compiler-grpc), then `client-stub/examples/python/stream_chat.py` on Debian's
 * python3-grpcio, calling StreamChat on the router's embedded default, which `llm-router test` starts around it.
 * Skipped, saying what to install, where those packages are missing (`.ci/run` installs them).
 */
class PythonRecipeTest {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  /** The command both READMEs show, to the character. */
  static final String GENERATE = """
      mkdir -p gen/python
      protoc -I proto --python_out=gen/python --pyi_out=gen/python --grpc_python_out=gen/python \\
        --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" proto/llmrouter/v1/*.proto
      """;
  private static final String PACKAGES = "python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc";
  private static final String HAIKU = "Waves fold into foam,\nsalt wind carries gull voices,\nthe tide keeps its time.";

  @Test
  void theDocumentedCommandsStreamAReplayedAnswerToPython(@TempDir Path project) throws IOException {
    assumeTrue(ExternalProcess.onPath("protoc") && ExternalProcess.onPath("grpc_python_plugin"),
        "protoc or grpc_python_plugin is not on the PATH (apt-get install " + PACKAGES + "): skipping the Python recipe");
    Optional<String> python = pythonWithGrpc();
    assumeTrue(python.isPresent(), "no python3 imports grpc (apt-get install " + PACKAGES + "): skipping the Python "
        + "recipe");
    for (String readme : new String[] {"README.md", "client-stub/examples/python/README.md"}) {
      assertTrue(Files.readString(ROOT.resolve(readme)).contains(GENERATE), readme + " shows another command");
    }
    Files.createSymbolicLink(project.resolve("proto"), ROOT.resolve("proto"));

    Run generate = ExternalProcess.run(project, Duration.ofSeconds(60), "sh", "-c", GENERATE);
    assertEquals(0, generate.exitCode(), generate::toString);
    assertTrue(Files.exists(project.resolve("gen/python/llmrouter/v1/chat_service_pb2_grpc.py")), generate::toString);

    String java = ProcessHandle.current().info().command().orElse("java");
    Run stream = ExternalProcess.run(ROOT, Duration.ofSeconds(90),
        Map.of("PYTHONPATH", project.resolve("gen/python").toString()), java, "-cp",
        System.getProperty("java.class.path"), "dev.llmrouter.server.cli.Main", "test", "--", python.get(),
        "client-stub/examples/python/stream_chat.py", "Write a haiku about the sea.");
    assertEquals(0, stream.exitCode(), stream::toString);
    assertEquals(HAIKU + "\nfinish: FINISH_REASON_STOP\n", stream.stdout(), stream::toString);
  }

  /** Debian's python3 first: another one earlier on the PATH (pyenv, a virtualenv) may not see python3-grpcio. */
  private static Optional<String> pythonWithGrpc() {
    return Stream.of("/usr/bin/python3", "python3")
        .filter(python -> python.startsWith("/") ? Files.isExecutable(Path.of(python)) : ExternalProcess.onPath(python))
        .filter(python -> ExternalProcess.run(Path.of("."), Duration.ofSeconds(30), python, "-c",
            "import grpc, google.protobuf").exitCode() == 0)
        .findFirst();
  }
}
