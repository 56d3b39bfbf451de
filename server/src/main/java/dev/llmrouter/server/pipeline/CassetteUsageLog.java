package dev.llmrouter.server.pipeline;

import dev.llmrouter.cassettes.CassetteStore;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The cassettes that answered calls (`--track-usage FILE`), so `cassettes prune --unused` can delete the others.
 * Each cassette is appended to the file as `<scope>/<short key>.json`, one a line, on its first hit only. A file that
 * exists is appended to, so several runs add up. Without a file, hits are not tracked.
 */
public final class CassetteUsageLog {

  private static final System.Logger LOG = System.getLogger("llmrouter");

  private final Vertx vertx;
  private final CassetteStore store;
  private final Optional<Path> usageFile;
  private final Set<String> appended = ConcurrentHashMap.newKeySet();

  public CassetteUsageLog(Vertx vertx, CassetteStore store, Optional<Path> usageFile) {
    this.vertx = vertx;
    this.store = store;
    this.usageFile = usageFile;
  }

  /** The line that stands for a cassette file of a scope: its path relative to the cassette folder. */
  public static String entryOf(String scope, Path cassetteFile) {
    return scope + "/" + cassetteFile.getFileName();
  }

  /** The cassettes listed in a usage file. */
  public static Set<String> entriesIn(Path usageFile) throws IOException {
    try (Stream<String> lines = Files.lines(usageFile)) {
      return lines.map(String::strip).filter(line -> !line.isEmpty()).collect(Collectors.toUnmodifiableSet());
    }
  }

  /** Notes that the cassette of a key answered a call; may be called on the event loop. */
  public void hit(String scope, String key) {
    if (usageFile.isEmpty()) {
      return;
    }
    String entry = entryOf(scope, store.pathOf(scope, key));
    if (!appended.add(entry)) {
      return;
    }
    vertx.executeBlocking(() -> append(entry), false).onFailure(failure -> {
      // Forgotten, so the next hit tries again.
      appended.remove(entry);
      LOG.log(System.Logger.Level.WARNING, "cannot append " + entry + " to " + usageFile.get(), failure);
    });
  }

  /** One writer at a time, so concurrent hits never interleave their lines. */
  private synchronized Path append(String entry) throws IOException {
    return Files.writeString(usageFile.get(), entry + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }
}
