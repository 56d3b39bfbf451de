package dev.llmrouter.cassettes;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToIntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * What the cassettes did in one run, per scope (see {@link ReplayTally}), in the two forms CI systems show: JUnit XML
 * ({@link #junitXml}: one test suite per scope, a passing test per cassette used, a failing one per miss, a skipped
 * one per unused cassette) and a Markdown summary for a job summary ({@link #markdown}). Neither holds a time, a host
 * or anything else that changes between identical runs.
 *
 * @param scopes one entry per scope that had a call or holds a cassette, in name order
 */
public record ReplayReport(List<ScopeReport> scopes) {

  /** The characters XML 1.0 cannot hold, even escaped. */
  private static final Pattern NOT_XML = Pattern.compile("[^\\x09\\x0A\\x0D\\x20-\\x{D7FF}\\x{E000}-\\x{FFFD}"
      + "\\x{10000}-\\x{10FFFF}]");
  private static final Pattern MARKDOWN_SPECIAL = Pattern.compile("[\\\\`*_\\[\\]<>|#]");
  private static final Pattern BACKTICK_RUN = Pattern.compile("`+");

  public ReplayReport {
    scopes = List.copyOf(scopes);
  }

  /**
   * One scope's share of the run.
   *
   * @param hits the cassettes that answered calls
   * @param misses the requests that found no cassette
   * @param recorded the cassettes recorded
   * @param unused the scope's cassettes that neither answered a call nor were recorded
   */
  public record ScopeReport(String scope, List<Used> hits, List<Miss> misses, List<Used> recorded,
      List<Unused> unused) {
    public ScopeReport {
      hits = List.copyOf(hits);
      misses = List.copyOf(misses);
      recorded = List.copyOf(recorded);
      unused = List.copyOf(unused);
    }
  }

  /** A cassette that answered (or recorded) {@code calls} calls; {@code summary} as {@link Cassette#summary}. */
  public record Used(String shortKey, String summary, int calls) {
  }

  /** A request that found no cassette, {@code calls} times: the first miss says why. */
  public record Miss(ReplayMissException exception, int calls) {
  }

  /** A cassette file no call used. */
  public record Unused(String shortKey, Path path, String summary) {
  }

  /** Calls answered from a cassette. */
  public int hits() {
    return total(scope -> calls(scope.hits()));
  }

  /** Calls that found no cassette. */
  public int misses() {
    return total(scope -> scope.misses().stream().mapToInt(Miss::calls).sum());
  }

  /** Calls whose answer was recorded. */
  public int recorded() {
    return total(scope -> calls(scope.recorded()));
  }

  /** Cassettes no call used. */
  public int unused() {
    return total(scope -> scope.unused().size());
  }

  private int total(ToIntFunction<ScopeReport> count) {
    return scopes.stream().mapToInt(count).sum();
  }

  private static int calls(List<Used> used) {
    return used.stream().mapToInt(Used::calls).sum();
  }

  /**
   * The report as JUnit XML: {@code <testsuites>} with one {@code <testsuite>} per scope, whose test cases are named
   * {@code <short key>  <provider/model>  <first user text>}: one per cassette that answered or was recorded
   * (passed), one per missing cassette ({@code <failure type="CassetteMiss">} with the diagnostics), one per unused
   * cassette ({@code <skipped>}).
   */
  public byte[] junitXml() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      XMLStreamWriter xml = XMLOutputFactory.newFactory().createXMLStreamWriter(bytes, "UTF-8");
      xml.writeStartDocument("UTF-8", "1.0");
      xml.writeCharacters("\n");
      xml.writeStartElement("testsuites");
      xml.writeAttribute("name", "llm-router cassettes");
      writeCounts(xml, total(scope -> scope.hits().size() + scope.recorded().size()),
          total(scope -> scope.misses().size()), unused());
      for (ScopeReport scope : scopes) {
        xml.writeCharacters("\n  ");
        xml.writeStartElement("testsuite");
        xml.writeAttribute("name", scope.scope());
        writeCounts(xml, scope.hits().size() + scope.recorded().size(), scope.misses().size(), scope.unused().size());
        for (Used hit : scope.hits()) {
          writeCase(xml, scope.scope(), hit.shortKey(), hit.summary(), null, null,
              "replayed for " + calls(hit.calls()));
        }
        for (Used recording : scope.recorded()) {
          writeCase(xml, scope.scope(), recording.shortKey(), recording.summary(), null, null,
              "recorded for " + calls(recording.calls()));
        }
        for (Miss miss : scope.misses()) {
          ReplayMissException exception = miss.exception();
          writeCase(xml, scope.scope(), exception.key().substring(0, 16), exception.requestSummary(), "failure",
              exception.getMessage(), "missed by " + calls(miss.calls()));
        }
        for (Unused unused : scope.unused()) {
          writeCase(xml, scope.scope(), unused.shortKey(), unused.summary(), "skipped",
              "no call used " + unused.path(), null);
        }
        xml.writeCharacters("\n  ");
        xml.writeEndElement();
      }
      xml.writeCharacters("\n");
      xml.writeEndElement();
      xml.writeCharacters("\n");
      xml.writeEndDocument();
      xml.close();
    } catch (XMLStreamException e) {
      throw new IllegalStateException("writing XML to memory cannot fail", e);
    }
    return bytes.toByteArray();
  }

  private static void writeCounts(XMLStreamWriter xml, int passed, int failures, int skipped)
      throws XMLStreamException {
    xml.writeAttribute("tests", String.valueOf(passed + failures + skipped));
    xml.writeAttribute("failures", String.valueOf(failures));
    xml.writeAttribute("errors", "0");
    xml.writeAttribute("skipped", String.valueOf(skipped));
  }

  /** @param outcome {@code failure}, {@code skipped} or null for a passed case; {@code out} its system-out or null */
  private static void writeCase(XMLStreamWriter xml, String scope, String shortKey, String summary, String outcome,
      String message, String out) throws XMLStreamException {
    xml.writeCharacters("\n    ");
    xml.writeStartElement("testcase");
    xml.writeAttribute("classname", xmlText(scope));
    xml.writeAttribute("name", xmlText(shortKey + "  " + summary));
    if (outcome != null) {
      xml.writeCharacters("\n      ");
      xml.writeStartElement(outcome);
      xml.writeAttribute("message", xmlText(message.lines().findFirst().orElse("")));
      if (outcome.equals("failure")) {
        xml.writeAttribute("type", "CassetteMiss");
        xml.writeCharacters(xmlText(message));
      }
      xml.writeEndElement();
    }
    if (out != null) {
      xml.writeCharacters("\n      ");
      xml.writeStartElement("system-out");
      xml.writeCharacters(out);
      xml.writeEndElement();
    }
    xml.writeCharacters("\n    ");
    xml.writeEndElement();
  }

  private static String calls(int calls) {
    return calls + (calls == 1 ? " call" : " calls");
  }

  /** Text XML can hold: characters it cannot are replaced by U+FFFD. */
  private static String xmlText(String text) {
    return NOT_XML.matcher(text).replaceAll("\uFFFD");
  }

  /**
   * The report as Markdown: a heading, a table with one row per scope (calls that hit, missed and recorded, and
   * unused cassettes) and a total row, then a section per miss with its diagnostics, then the unused cassettes.
   */
  public String markdown() {
    StringBuilder md = new StringBuilder("## Cassette replay report\n\n");
    md.append("| scope | hits | misses | recorded | unused |\n|---|---:|---:|---:|---:|\n");
    for (ScopeReport scope : scopes) {
      md.append("| `").append(scope.scope()).append("` | ").append(calls(scope.hits())).append(" | ")
          .append(scope.misses().stream().mapToInt(Miss::calls).sum()).append(" | ").append(calls(scope.recorded()))
          .append(" | ").append(scope.unused().size()).append(" |\n");
    }
    md.append("| **all** | ").append(hits()).append(" | ").append(misses()).append(" | ").append(recorded())
        .append(" | ").append(unused()).append(" |\n");
    if (misses() > 0) {
      md.append("\n### Misses\n");
      for (ScopeReport scope : scopes) {
        for (Miss miss : scope.misses()) {
          ReplayMissException exception = miss.exception();
          String fence = fenceFor(exception.getMessage());
          md.append("\n#### `").append(scope.scope()).append('/').append(exception.key(), 0, 16)
              .append("`: ").append(markdownText(exception.requestSummary())).append(" (")
              .append(calls(miss.calls())).append(")\n\n")
              .append(fence).append("text\n").append(exception.getMessage()).append('\n').append(fence).append('\n');
        }
      }
    }
    if (unused() > 0) {
      md.append("\n### Unused cassettes\n\n");
      for (ScopeReport scope : scopes) {
        for (Unused unused : scope.unused()) {
          md.append("- `").append(scope.scope()).append('/').append(unused.shortKey()).append(".json`: ")
              .append(markdownText(unused.summary())).append('\n');
        }
      }
    }
    return md.toString();
  }

  /** A code fence longer than any run of backticks in the text, so the text cannot close it. */
  private static String fenceFor(String text) {
    int longest = 0;
    Matcher run = BACKTICK_RUN.matcher(text);
    while (run.find()) {
      longest = Math.max(longest, run.group().length());
    }
    return "`".repeat(Math.max(3, longest + 1));
  }

  /** Text from requests, with the characters Markdown would read as formatting escaped. */
  private static String markdownText(String text) {
    return MARKDOWN_SPECIAL.matcher(text.strip()).replaceAll(match -> "\\\\" + Matcher.quoteReplacement(match.group()));
  }
}
