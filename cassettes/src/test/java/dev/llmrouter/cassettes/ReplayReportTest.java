package dev.llmrouter.cassettes;

import static dev.llmrouter.cassettes.Fixtures.answer;
import static dev.llmrouter.cassettes.Fixtures.cassette;
import static dev.llmrouter.cassettes.Fixtures.userRequest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;

/** What requests can hold (markup, control characters, code fences) cannot break either form of the report. */
class ReplayReportTest {

  @TempDir
  Path dir;

  @Test
  void textThatLooksLikeMarkupOrCannotBeInXmlStaysText() throws Exception {
    CassetteStore store = new CassetteStore(dir, 1 << 20, Redactor.defaults());
    Cassette odd = cassette(userRequest("<b>bold</b> & \u0001 | *stars* ```code```"), answer("ok"));
    store.write("suite", odd);
    ReplayTally tally = new ReplayTally();
    tally.hit("suite", odd);
    CanonicalRequest missed = CanonicalRequest.of(userRequest("```\nfenced\n```"));
    tally.miss(ReplayMissException.of("suite", missed, store.closest("suite", missed.normalizedJson())));

    ReplayReport report = tally.report(store);

    Element suites = DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(new ByteArrayInputStream(report.junitXml())).getDocumentElement();
    Element hit = (Element) suites.getElementsByTagName("testcase").item(0);
    assertEquals(odd.key().substring(0, 16) + "  openai/gpt-4o-mini  <b>bold</b> & \uFFFD | *stars* ```code```",
        hit.getAttribute("name"));
    String markdown = report.markdown();
    assertTrue(markdown.contains("\n#### `suite/" + missed.shortKey() + "`: openai/gpt-4o-mini  \\`\\`\\` fenced "
        + "\\`\\`\\` (1 call)\n"), markdown);
    assertTrue(markdown.contains("\n````text\nno cassette for key " + missed.key()), markdown);
    assertTrue(markdown.contains("\n````\n"), "a fence longer than the backticks inside: " + markdown);
    assertArrayEquals(report.junitXml(), tally.report(store).junitXml(), "the same run, the same bytes");
  }
}
