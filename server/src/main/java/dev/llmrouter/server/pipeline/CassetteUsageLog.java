package dev.llmrouter.server.pipeline;

import dev.llmrouter.cassettes.CassetteStore;
import dev.llmrouter.cassettes.CassetteUsageFile;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cassettes that answered calls (`--track-usage FILE`), so `cassettes prune --unused` can delete the others.
 * Each cassette is appended to the {@link CassetteUsageFile} on its first hit only, off the event loop. Without a
 * file, hits are not tracked.
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

  /** Notes that the cassette of a key answered a call; may be called on the event loop. */
  public void hit(String scope, String key) {
    if (usageFile.isEmpty()) {
      return;
    }
    String entry = CassetteUsageFile.entryOf(scope, store.pathOf(scope, key));
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
  private synchronized Void append(String entry) throws IOException {
    CassetteUsageFile.append(usageFile.get(), entry);
    return null;
  }
}
