package dev.outbox.postgres;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.NewEntry;
import dev.outbox.testing.TestDatabases;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The PostgreSQL the tests run against, from {@link TestDatabases#postgres()}: the JDBC URL in
 * {@code OUTBOX_TEST_POSTGRES_URL} (CI sets it; unreachable, the tests fail), else a Testcontainers
 * PostgreSQL where a Docker engine runs, else an embedded PostgreSQL started from Maven artifacts.
 * Nothing is skipped.
 */
final class TestDatabase {

  private static TestDatabase instance;

  private final String url;

  private TestDatabase(String url) {
    this.url = url;
  }

  /** The database, found once per test run. */
  static synchronized TestDatabase get() {
    if (instance == null) {
      instance = new TestDatabase(TestDatabases.postgres().url());
    }
    return instance;
  }

  /** The JDBC URL. */
  String url() {
    return url;
  }

  /** A data source that opens a new connection per call (no pool: the tests want real sessions). */
  DataSource dataSource() {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(url);
    return ds;
  }

  /** A fresh Jdbi over {@link #dataSource()}. */
  Jdbi jdbi() {
    return Jdbi.create(dataSource());
  }

  /** The messages as new entries, as {@code Outbox.publish} would hand them to a storage. */
  static List<NewEntry> entries(List<Message> messages) {
    return messages.stream().map(m -> new NewEntry(UUID.randomUUID(), m, Instant.now())).toList();
  }

  /** Claims for {@code processor} with a fresh token. */
  static List<ClaimedEntry> claim(
      PostgresStorage storage, String processor, Instant now, int limit) {
    return storage.claim(
        new ClaimRequest(processor, UUID.randomUUID(), now, now.plusSeconds(30), limit));
  }

  /** Drops the table (and its dead letters) and creates it anew, for a clean test class. */
  static PostgresStorage freshStorage(Jdbi jdbi, String table) {
    jdbi.useHandle(
        h -> {
          h.execute("DROP TABLE IF EXISTS " + table + "_dead_letters");
          h.execute("DROP TABLE IF EXISTS " + table);
        });
    PostgresStorage storage = PostgresStorage.builder(jdbi).tableName(table).build();
    storage.createSchema();
    return storage;
  }
}
