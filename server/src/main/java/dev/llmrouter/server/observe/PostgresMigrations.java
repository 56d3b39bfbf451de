package dev.llmrouter.server.observe;

import dev.llmrouter.server.config.PostgresUrl;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.CoreErrorCode;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * The PostgreSQL call log's schema (the call log, and since V2 the stored conversations of `ConversationService`),
 * brought up to date at start-up by Flyway from the versioned SQL files under
 * {@code db/postgres/} ({@code V1__call_log.sql}, then {@code V2__...} for each change; a file once released is never
 * edited). Flyway rather than a migration table of our own: it is well kept and widely used, records each version it
 * applied with a checksum (so an edited migration is refused, not silently skipped), and holds a PostgreSQL lock
 * while it migrates, so that replicas starting together migrate once. Its table of applied versions is
 * {@value #HISTORY_TABLE}. The database must be empty at the first start, or hold the call log already: Flyway
 * refuses a schema holding other tables (that one could break the other's), and the refusal names it.
 */
public final class PostgresMigrations {

  static final String HISTORY_TABLE = "call_log_schema_history";
  private static final System.Logger LOG = System.getLogger("llmrouter");
  // Flyway tells of each of its steps (through java.util.logging in the jar); the router says what it migrated in one
  // line. Held here, as java.util.logging keeps a logger's level only while someone holds the logger.
  private static final java.util.logging.Logger FLYWAY_LOG = java.util.logging.Logger.getLogger("org.flywaydb");

  static {
    FLYWAY_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  private PostgresMigrations() {
  }

  /**
   * Applies the migrations the database lacks; none when it is up to date. Blocks.
   *
   * @throws RuntimeException saying why (Flyway's words, or ours for a database holding other tables)
   */
  public static void migrate(DataSource database, PostgresUrl url) {
    MigrateResult result;
    try {
      result = Flyway.configure(PostgresMigrations.class.getClassLoader())
          .dataSource(database)
          .locations("classpath:db/postgres")
          .failOnMissingLocations(true)
          .table(HISTORY_TABLE)
          .load()
          .migrate();
    } catch (FlywayException e) {
      if (e.getErrorCode() == CoreErrorCode.NON_EMPTY_SCHEMA_WITHOUT_SCHEMA_HISTORY_TABLE) {
        throw new IllegalStateException("the database holds other tables, and not the call log: give the call log "
            + "a database of its own (CREATE DATABASE ...)");
      }
      throw e;
    }
    if (result.migrationsExecuted > 0) {
      LOG.log(System.Logger.Level.INFO, "call log: migrated " + url + " to schema version "
          + result.targetSchemaVersion);
    }
  }
}
