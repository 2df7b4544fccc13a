package dev.outbox.mysql;

import dev.outbox.testing.TestDatabases;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.jdbi.v3.core.ConnectionFactory;
import org.jdbi.v3.core.Jdbi;

/**
 * Finds the database the tests run against, in this order: the JDBC URL in {@value #ENV}; else a
 * MySQL 8 container when Docker is available; else an embedded MariaDB started from Maven artifacts
 * ({@link TestDatabases#mysql()}). When {@value #ENV} is set and the server cannot be reached, the
 * tests fail. Nothing is skipped.
 */
final class TestDatabase {

  static final String ENV = "OUTBOX_TEST_MYSQL_URL";

  private static Target target;

  private record Target(String url, String user, String password, String description) {}

  private TestDatabase() {}

  /**
   * A pooled Jdbi on the test database; skips the calling test when there is none. Call it from a
   * {@code @BeforeEach} method (not {@code @BeforeAll}) so that every skipped test is reported as
   * skipped, with the reason.
   */
  static Jdbi jdbi() {
    return jdbi("");
  }

  /** Like {@link #jdbi()}, with extra URL parameters ({@code "&a=b"}) appended. */
  static Jdbi jdbi(String extraUrlParameters) {
    Target t = target();
    String url = withParameters(t.url, extraUrlParameters);
    Jdbi jdbi = Jdbi.create(new PooledConnections(url, t.user, t.password));
    try {
      jdbi.useHandle(h -> h.execute("SELECT 1"));
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "cannot reach the test database " + t.description + "; check that the server is up", e);
    }
    return jdbi;
  }

  /** The JDBC URL of the test database (user and password on the URL). */
  static String url() {
    return target().url;
  }

  /** What the tests run against, for log lines. */
  static String description() {
    return target().description;
  }

  /**
   * The database from {@link TestDatabases#mysql()}: the URL in {@value #ENV} (unreachable, the
   * tests fail), else Testcontainers where Docker runs, else an embedded MariaDB; never skipped.
   */
  private static synchronized Target target() {
    if (target == null) {
      dev.outbox.testing.TestDatabase db = TestDatabases.mysql();
      target = new Target(db.url(), null, null, db.description());
    }
    return target;
  }

  private static String withParameters(String url, String extra) {
    if (extra.isEmpty()) {
      return url;
    }
    String params = extra.startsWith("&") ? extra.substring(1) : extra;
    return url + (url.contains("?") ? "&" : "?") + params;
  }

  /**
   * The simplest pool that works for tests: connections are kept and reused instead of closed, so
   * the concurrency tests measure the storage rather than TCP handshakes.
   */
  private static final class PooledConnections implements ConnectionFactory {
    private final String url;
    private final String user;
    private final String password;
    private final ConcurrentLinkedQueue<Connection> idle = new ConcurrentLinkedQueue<>();

    PooledConnections(String url, String user, String password) {
      this.url = url;
      this.user = user;
      this.password = password;
    }

    @Override
    public Connection openConnection() throws SQLException {
      Connection c;
      while ((c = idle.poll()) != null) {
        if (!c.isClosed()) {
          return c;
        }
      }
      return user == null
          ? DriverManager.getConnection(url)
          : DriverManager.getConnection(url, user, password);
    }

    @Override
    public void closeConnection(Connection conn) throws SQLException {
      if (conn.isClosed()) {
        return;
      }
      if (!conn.getAutoCommit()) {
        conn.rollback();
        conn.setAutoCommit(true);
      }
      idle.add(conn);
    }
  }
}
