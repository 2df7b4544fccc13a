package dev.outbox.postgres;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.NewEntry;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Assumptions;
import org.postgresql.ds.PGSimpleDataSource;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;

/**
 * Finds the PostgreSQL the tests run against, in this order:
 *
 * <ol>
 *   <li>the JDBC URL in {@value #ENV} (CI sets it); when it is set but the server cannot be
 *       reached, the tests fail;
 *   <li>a Testcontainers PostgreSQL 15, when a Docker engine is available;
 *   <li>otherwise the tests are skipped, with a message saying how to provide a database.
 * </ol>
 */
final class TestDatabase {

  static final String ENV = "OUTBOX_TEST_POSTGRES_URL";

  private static TestDatabase instance;
  private static String unavailable; // why there is no database, once discovery found none

  private final String url;

  private TestDatabase(String url) {
    this.url = url;
  }

  /** The database, found once per test run; skips the calling test when there is none. */
  static synchronized TestDatabase get() {
    Assumptions.assumeTrue(unavailable == null, () -> unavailable);
    if (instance == null) {
      instance = new TestDatabase(discoverUrl());
    }
    return instance;
  }

  private static String discoverUrl() {
    String url = System.getenv(ENV);
    if (url != null && !url.isBlank()) {
      try {
        DriverManager.getConnection(url).close();
        return url;
      } catch (SQLException e) {
        throw new AssertionError(
            ENV
                + " is set to "
                + url
                + " but PostgreSQL cannot be reached there: "
                + e.getMessage(),
            e);
      }
    }
    if (dockerAvailable()) {
      return Container.url();
    }
    unavailable =
        "No PostgreSQL to test against: set "
            + ENV
            + " to a JDBC URL (e.g. jdbc:postgresql://127.0.0.1:5432/test?user=postgres), or"
            + " start a Docker engine so Testcontainers can run PostgreSQL 15";
    return Assumptions.abort(unavailable);
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
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

  /** The container, started on first use and stopped by Testcontainers' reaper at JVM exit. */
  private static final class Container {
    static String url() {
      PostgreSQLContainer<?> pg = new PostgreSQLContainer<>("postgres:15-alpine");
      pg.start();
      return pg.getJdbcUrl() + "&user=" + pg.getUsername() + "&password=" + pg.getPassword();
    }
  }
}
