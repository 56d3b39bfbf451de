package dev.llmrouter.server.pipeline;

import static dev.llmrouter.server.testing.CassetteRouters.ask;
import static dev.llmrouter.server.testing.CassetteRouters.askOpenAi;
import static dev.llmrouter.server.testing.CassetteRouters.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.llmrouter.cassettes.CanonicalRequest;
import dev.llmrouter.server.config.ConfigLoader;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.testing.CassetteRouters;
import dev.llmrouter.server.testing.IngressClient;
import dev.llmrouter.server.testing.RouterProcess;
import dev.llmrouter.server.testing.RunningRouter;
import io.grpc.StatusRuntimeException;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The replay report of a test suite's run, through both doors: JUnit XML (read back with a real XML parser) and
 * Markdown, with per scope the cassettes hit, the misses (key, closest cassette, differences) and the cassettes no
 * call used; written on POST /admin/cassettes/report, when the router closes, and when SIGTERM drains it.
 */
class CassetteReportTest {

  private static final String FRANCE = "What is the capital of France?";
  private static final String HAIKU = "Write a haiku about the sea.";
  private static final String ROME = "Find flights to Rome.";
  private static final String SERVED = "openai/gpt-4o-mini-2024-07-18  ";

  @TempDir
  Path dir;
  private Path cassettes;
  private Path xml;
  private Path markdown;
  private CassetteRouters routers;

  @BeforeEach
  void recordTheSuite() {
    cassettes = dir.resolve("cassettes");
    xml = dir.resolve("reports/cassettes.xml");
    markdown = dir.resolve("reports/cassettes.md");
    routers = new CassetteRouters(cassettes);
    RunningRouter record = routers.router("mode: record");
    chat(record, "x-cassette-scope", "checkout").chat(ask(FRANCE));
    chat(record, "x-cassette-scope", "checkout").chat(ask(HAIKU));
    chat(record, "x-cassette-scope", "search").chat(ask(ROME));
  }

  @AfterEach
  void stop() throws Exception {
    routers.close();
  }

  private static String shortKey(String question) {
    return CanonicalRequest.of(ask(question)).shortKey();
  }

  /** The run of the suite: two hits (one per door), three misses (one per door, one in a scope with none), and two
   * cassettes left unused. */
  private void runTheSuite(RunningRouter router) {
    IngressClient http = new IngressClient(router.port());
    chat(router, "x-cassette-scope", "checkout").chat(ask(FRANCE));
    assertEquals("hit", http.post("/v1/chat/completions", askOpenAi(FRANCE, new JsonObject()), "x-cassette-scope",
        "checkout").header("x-cassette-outcome"));
    assertThrows(StatusRuntimeException.class,
        () -> chat(router, "x-cassette-scope", "checkout").chat(ask("What is the capital of Spain?")));
    assertEquals(400, http.post("/v1/chat/completions", askOpenAi("Find flights to Paris.", new JsonObject()),
        "x-cassette-scope", "search").status());
    assertThrows(StatusRuntimeException.class, () -> chat(router, "x-cassette-scope", "fresh").chat(ask("Hello")));
  }

  private RouterConfig replayingWithReports() {
    RouterConfig config = ConfigLoader.parse(routers.config("mode: replay"), RunningRouter.testEnvironment(Map.of()));
    return config.withCassettes(config.cassettes().withReports(Optional.of(xml.toString()),
        Optional.of(markdown.toString())));
  }

  private static HttpResponse<String> postReport(RunningRouter router) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.adminPort()
        + "/admin/cassettes/report")).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static List<Element> children(Element parent, String name) {
    List<Element> found = new ArrayList<>();
    NodeList nodes = parent.getElementsByTagName(name);
    for (int i = 0; i < nodes.getLength(); i++) {
      if (nodes.item(i).getParentNode() == parent) {
        found.add((Element) nodes.item(i));
      }
    }
    return found;
  }

  private static String describe(Element testCase) {
    String outcome = children(testCase, "failure").isEmpty() ? children(testCase, "skipped").isEmpty() ? "passed"
        : "skipped: " + children(testCase, "skipped").get(0).getAttribute("message")
        : "failed: " + children(testCase, "failure").get(0).getAttribute("message");
    List<Element> out = children(testCase, "system-out");
    return testCase.getAttribute("name") + " | " + outcome + (out.isEmpty() ? "" : " | " + out.get(0).getTextContent());
  }

  private Document parsedXml() throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(xml.toFile());
  }

  @Test
  void theAdminEndpointWritesAJUnitXmlReportPerScopeThatAnXmlParserReads() throws Exception {
    try (RunningRouter router = RunningRouter.start(routers.vertx(), replayingWithReports())) {
      runTheSuite(router);

      HttpResponse<String> written = postReport(router);

      assertEquals(200, written.statusCode(), written.body());
      assertEquals(new JsonObject().put("written", List.of(xml.toString(), markdown.toString())).put("hits", 2)
          .put("misses", 3).put("recorded", 0).put("unused", 2), new JsonObject(written.body()));
      Element suites = parsedXml().getDocumentElement();
      assertEquals("testsuites", suites.getTagName());
      assertEquals(List.of("6", "3", "0", "2"), List.of(suites.getAttribute("tests"), suites.getAttribute("failures"),
          suites.getAttribute("errors"), suites.getAttribute("skipped")));
      List<Element> scopes = children(suites, "testsuite");
      assertEquals(List.of("checkout", "fresh", "search"), scopes.stream().map(s -> s.getAttribute("name")).toList());
      assertEquals(List.of(
          shortKey(FRANCE) + "  " + SERVED + FRANCE + " | passed | replayed for 2 calls",
          shortKey("What is the capital of Spain?") + "  openai/gpt-4o-mini  What is the capital of Spain? | failed: "
              + "no cassette for key " + CanonicalRequest.of(ask("What is the capital of Spain?")).key()
              + " in scope \"checkout\" (file checkout/" + shortKey("What is the capital of Spain?")
              + ".json) | missed by 1 call",
          shortKey(HAIKU) + "  " + SERVED + HAIKU + " | skipped: no call used " + cassettes.resolve("checkout")
              .resolve(shortKey(HAIKU) + ".json")),
          children(scopes.get(0), "testcase").stream().map(CassetteReportTest::describe).toList());
      assertEquals(List.of("3", "1", "1"), List.of(scopes.get(0).getAttribute("tests"),
          scopes.get(0).getAttribute("failures"), scopes.get(0).getAttribute("skipped")));
      Element spain = children(scopes.get(0), "testcase").get(1);
      assertEquals("CassetteMiss", children(spain, "failure").get(0).getAttribute("type"));
      String diagnostic = children(spain, "failure").get(0).getTextContent();
      assertTrue(diagnostic.contains("closest cassette: " + cassettes.resolve("checkout")
          .resolve(shortKey(FRANCE) + ".json")), diagnostic);
      assertTrue(diagnostic.contains("messages[0].parts[0].text: \"What is the capital of France?\" -> "
          + "\"What is the capital of Spain?\""), diagnostic);
      assertTrue(describe(children(scopes.get(1), "testcase").get(0)).contains("missed by 1 call"));
      assertTrue(children(children(scopes.get(1), "testcase").get(0), "failure").get(0).getTextContent()
          .contains("the scope has no cassettes"));
      assertEquals(List.of(
          shortKey("Find flights to Paris.") + "  openai/gpt-4o-mini  Find flights to Paris. | failed: no cassette for "
              + "key " + CanonicalRequest.of(ask("Find flights to Paris.")).key() + " in scope \"search\" (file search/"
              + shortKey("Find flights to Paris.") + ".json) | missed by 1 call",
          shortKey(ROME) + "  " + SERVED + ROME + " | skipped: no call used " + cassettes.resolve("search")
              .resolve(shortKey(ROME) + ".json")),
          children(scopes.get(2), "testcase").stream().map(CassetteReportTest::describe).toList());
    }
  }

  @Test
  void theMarkdownReportHasTheDocumentedShape() throws Exception {
    try (RunningRouter router = RunningRouter.start(routers.vertx(), replayingWithReports())) {
      runTheSuite(router);
      assertEquals(200, postReport(router).statusCode());
    }
    String report = Files.readString(markdown);
    String spain = shortKey("What is the capital of Spain?");
    assertTrue(report.startsWith("""
        ## Cassette replay report

        | scope | hits | misses | recorded | unused |
        |---|---:|---:|---:|---:|
        | `checkout` | 2 | 1 | 0 | 1 |
        | `fresh` | 0 | 1 | 0 | 0 |
        | `search` | 0 | 1 | 0 | 1 |
        | **all** | 2 | 3 | 0 | 2 |

        ### Misses

        #### `checkout/%s`: openai/gpt-4o-mini  What is the capital of Spain? (1 call)

        ```text
        no cassette for key %s in scope "checkout" (file checkout/%s.json)
        closest cassette: %s
        """.formatted(spain, CanonicalRequest.of(ask("What is the capital of Spain?")).key(), spain,
        cassettes.resolve("checkout").resolve(shortKey(FRANCE) + ".json"))), report);
    assertTrue(report.endsWith("""
        ### Unused cassettes

        - `checkout/%s.json`: %s
        - `search/%s.json`: %s
        """.formatted(shortKey(HAIKU), SERVED + HAIKU, shortKey(ROME), SERVED + ROME)), report);
    assertTrue(report.contains("\n#### `fresh/"), report);
    assertTrue(report.contains("\n#### `search/" + shortKey("Find flights to Paris.") + "`: openai/gpt-4o-mini  "
        + "Find flights to Paris. (1 call)\n"), report);
  }

  @Test
  void theReportIsWrittenAgainWhenTheRouterClosesWithEveryCallOfTheRun() throws Exception {
    try (RunningRouter router = RunningRouter.start(routers.vertx(), replayingWithReports())) {
      runTheSuite(router);
      assertEquals(200, postReport(router).statusCode());
      chat(router, "x-cassette-scope", "search").chat(ask(ROME));
    }
    Element search = children(parsedXml().getDocumentElement(), "testsuite").get(2);
    assertEquals(shortKey(ROME) + "  " + SERVED + ROME + " | passed | replayed for 1 call",
        describe(children(search, "testcase").get(0)));
    assertEquals("0", search.getAttribute("skipped"));
  }

  @Test
  void withoutAReportFileTheEndpointSaysWhatToStartTheRouterWith() throws Exception {
    HttpResponse<String> refused = postReport(routers.router("mode: replay"));
    assertEquals(409, refused.statusCode());
    assertEquals("no report file to write: start the router with --cassette-report FILE (JUnit XML) and/or "
        + "--cassette-report-md FILE (Markdown)", new JsonObject(refused.body()).getString("error"));
  }

  @Test
  void aSigtermDrainWritesTheReportNamedOnTheCommandLine() throws Exception {
    Path config = Files.writeString(dir.resolve("router.yaml"), routers.config("mode: replay")
        .replace("admin_listen: 127.0.0.1:0\n", "listen: 127.0.0.1:0\n"));
    try (RouterProcess router = RouterProcess.start(config, Map.of("TEST_API_KEY", RunningRouter.TEST_KEY, "CI",
        "false"), "--cassette-report", xml.toString(), "--cassette-report-md", markdown.toString())) {
      chat(router.channel(), "x-cassette-scope", "checkout").chat(ask(FRANCE));

      router.signal("TERM");

      assertEquals(0, router.exitCode(Duration.ofSeconds(30)), router::toString);
      assertTrue(router.logged("cassette replay report written to [" + xml + ", " + markdown + "]"),
          router::toString);
    }
    Element checkout = children(parsedXml().getDocumentElement(), "testsuite").get(0);
    assertEquals(shortKey(FRANCE) + "  " + SERVED + FRANCE + " | passed | replayed for 1 call",
        describe(children(checkout, "testcase").get(0)));
    assertTrue(Files.readString(markdown).contains("| `checkout` | 1 | 0 | 0 | 1 |\n"));
  }
}
