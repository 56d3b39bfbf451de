package dev.llmrouter.server;

import dev.llmrouter.server.config.ConfigException;
import dev.llmrouter.server.config.ReloadReport;
import dev.llmrouter.server.config.RouterConfig;
import dev.llmrouter.server.pipeline.CallSettings;
import dev.llmrouter.server.pipeline.LiveSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.function.Supplier;

/**
 * Reads the config file again (SIGHUP, `POST /admin/reload`) and, when the settings of calls changed, swaps in the
 * settings made from it: new calls get them, running calls finish on theirs. A file that does not pass validation is
 * refused, with its problems logged, and the running config kept. Reading and validating the file and opening the
 * new providers' clients happen on a worker thread, never on an event loop.
 */
final class ConfigReload {

  private static final System.Logger LOG = System.getLogger("llmrouter");

  private final Vertx vertx;
  private final RouterConfig started;
  private final LiveSettings settings;
  private volatile Supplier<RouterConfig> source = () -> {
    throw new ConfigException("this router was not started from a config file (--config): there is no file to "
        + "read again");
  };

  /** @param started the config the router started with: what a change of the other settings is compared to */
  ConfigReload(Vertx vertx, RouterConfig started, LiveSettings settings) {
    this.vertx = vertx;
    this.started = started;
    this.settings = settings;
  }

  /** Where the config is read from: blocking; throws {@link ConfigException} when the file is missing or wrong. */
  void readFrom(Supplier<RouterConfig> newSource) {
    this.source = newSource;
  }

  Future<ReloadReport> reload() {
    return vertx.executeBlocking(this::reloadNow, false)
        .onSuccess(report -> LOG.log(report.applied() ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
            report.summary()))
        .onFailure(failure -> LOG.log(System.Logger.Level.ERROR, "config reload failed, the running config is kept",
            failure));
  }

  // One at a time: each reload compares the file with what the one before it swapped in.
  private synchronized ReloadReport reloadNow() {
    RouterConfig loaded;
    try {
      loaded = source.get();
    } catch (ConfigException refused) {
      return ReloadReport.refused(refused.problems());
    }
    CallSettings current = settings.current();
    ReloadReport report = ReloadReport.between(started, current.config(), loaded);
    if (!report.changed().isEmpty()) {
      settings.replace(current.next(loaded));
    }
    return report;
  }
}
