package dev.llmrouter.server.pipeline;

import dev.llmrouter.cassettes.Cassette;
import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.cassettes.CassetteUsageFile;
import dev.llmrouter.cassettes.ReplayMissException;
import dev.llmrouter.cassettes.ReplayReport;
import dev.llmrouter.cassettes.ReplayTally;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the cassettes did for this router's calls: each hit, miss and recording is tallied for the replay report
 * (`--cassette-report FILE` as JUnit XML, `--cassette-report-md FILE` as Markdown, written by {@link #writeReports}),
 * and the cassettes that answered are appended to the usage file (`--track-usage FILE`) on their first hit, off the
 * event loop, so `cassettes prune --unused` can delete the others.
 */
public final class CassetteUsageLog {

  private static final System.Logger LOG = System.getLogger("llmrouter");

  private final Vertx vertx;
  private final CassetteStore store;
  private final Optional<Path> usageFile;
  private final Optional<Path> reportXml;
  private final Optional<Path> reportMarkdown;
  private final Set<String> appended = ConcurrentHashMap.newKeySet();
  private final ReplayTally tally = new ReplayTally();

  /**
   * @param usageFile where the cassettes that answered are listed, or empty for nowhere
   * @param reportXml where {@link #writeReports} writes the JUnit XML report, or empty for nowhere
   * @param reportMarkdown where it writes the Markdown report, or empty for nowhere
   */
  public CassetteUsageLog(Vertx vertx, CassetteStore store, Optional<Path> usageFile, Optional<Path> reportXml,
      Optional<Path> reportMarkdown) {
    this.vertx = vertx;
    this.store = store;
    this.usageFile = usageFile;
    this.reportXml = reportXml;
    this.reportMarkdown = reportMarkdown;
  }

  /** Notes that a cassette answered a call; may be called on the event loop. */
  public void hit(String scope, Cassette cassette) {
    tally.hit(scope, cassette);
    if (usageFile.isEmpty()) {
      return;
    }
    String entry = CassetteUsageFile.entryOf(scope, store.pathOf(scope, cassette.key()));
    if (!appended.add(entry)) {
      return;
    }
    vertx.executeBlocking(() -> append(entry), false).onFailure(failure -> {
      // Forgotten, so the next hit tries again.
      appended.remove(entry);
      LOG.log(System.Logger.Level.WARNING, "cannot append " + entry + " to " + usageFile.get(), failure);
    });
  }

  /** Notes that a call found no cassette. */
  public void miss(ReplayMissException miss) {
    tally.miss(miss);
  }

  /** Notes that a call's answer was recorded. */
  public void recorded(String scope, Cassette cassette) {
    tally.recorded(scope, cassette);
  }

  /** The requests that found no cassette so far, by scope then key. */
  public List<ReplayReport.Miss> misses() {
    return tally.misses();
  }

  /** Whether a report file was asked for. */
  public boolean reportsWanted() {
    return reportXml.isPresent() || reportMarkdown.isPresent();
  }

  /**
   * Writes the replay report of the calls so far to the files asked for (on a worker thread; each file replaced
   * atomically): the report, and the files written.
   */
  public Future<Written> writeReports() {
    return vertx.executeBlocking(() -> {
      ReplayReport report = tally.report(store);
      List<Path> written = new ArrayList<>();
      if (reportXml.isPresent()) {
        written.add(replace(reportXml.get(), report.junitXml()));
      }
      if (reportMarkdown.isPresent()) {
        written.add(replace(reportMarkdown.get(), report.markdown().getBytes(StandardCharsets.UTF_8)));
      }
      return new Written(report, written);
    }, false);
  }

  /** A report, and the files it was written to. */
  public record Written(ReplayReport report, List<Path> files) {
    public Written {
      files = List.copyOf(files);
    }
  }

  /** Writes next to the file, then moves it in place: a CI step reading the report never sees half of it. */
  private static Path replace(Path file, byte[] bytes) throws IOException {
    Path absolute = file.toAbsolutePath();
    Files.createDirectories(absolute.getParent());
    Path temp = Files.createTempFile(absolute.getParent(), absolute.getFileName().toString(), ".tmp");
    try {
      Files.write(temp, bytes);
      Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
    return file;
  }

  /** One writer at a time, so concurrent hits never interleave their lines. */
  private synchronized Void append(String entry) throws IOException {
    CassetteUsageFile.append(usageFile.get(), entry);
    return null;
  }
}
