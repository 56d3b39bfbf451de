package dev.llmrouter.server.observe;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The PostgreSQL call log's schema, brought up to date at start-up by Flyway from the versioned SQL files under
 * {@code db/postgres/} ({@code V1__call_log.sql}, then {@code V2__...} for each change; a file once released is never
 * edited). Flyway rather than a migration table of our own: it is well kept and widely used, records each version it
 * applied with a checksum (so an edited migration is refused, not silently skipped), and holds a PostgreSQL lock
 * while it migrates, so that replicas starting together migrate once. Its table of applied versions is
 * {@value #HISTORY_TABLE}, apart from any other application's Flyway table in the same schema.
 */
final class PostgresMigrations {

  static final String HISTORY_TABLE = "call_log_schema_history";

  private PostgresMigrations() {
  }

  /** Applies the migrations the database lacks; none when it is up to date. Blocks. */
  static void migrate(DataSource database) {
    Flyway.configure(PostgresMigrations.class.getClassLoader())
        .dataSource(database)
        .locations("classpath:db/postgres")
        .failOnMissingLocations(true)
        .table(HISTORY_TABLE)
        // A database holding other tables already gets the call log's beside them, from V1.
        .baselineOnMigrate(true)
        .baselineVersion("0")
        .load()
        .migrate();
  }
}
