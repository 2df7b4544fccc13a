package dev.outbox.mysql;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.jdbi.v3.core.ConnectionFactory;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.MySQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Finds the database the tests run against, in this order: the JDBC URL in {@value #ENV}; else a
 * MySQL 8 container when Docker is available; else the calling test class is skipped with a message
 * saying how to provide one. When {@value #ENV} is set and the server cannot be reached, the tests
 * fail.
 */
final class TestDatabase {

  static final String ENV = "OUTBOX_TEST_MYSQL_URL";
  static final String IMAGE = "mysql:8.0";

  private static Target target;
  private static String unavailable;

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

  private static synchronized Target target() {
    if (target != null) {
      return target;
    }
    if (unavailable != null) {
      Assumptions.abort(unavailable);
    }
    String url = System.getenv(ENV);
    if (url != null && !url.isBlank()) {
      target = new Target(url, null, null, ENV + "=" + masked(url));
    } else if (DockerClientFactory.instance().isDockerAvailable()) {
      target = startContainer();
    } else {
      unavailable =
          "no MySQL or MariaDB to test against: set "
              + ENV
              + " (for example jdbc:mysql://127.0.0.1:3306/test?user=root&password="
              + "&rewriteBatchedStatements=true) or make a Docker engine available for"
              + " Testcontainers ("
              + IMAGE
              + ")";
      Assumptions.abort(unavailable);
    }
    return target;
  }

  @SuppressWarnings("resource") // lives as long as the test JVM; Testcontainers' reaper stops it
  private static Target startContainer() {
    MySQLContainer<?> mysql =
        new MySQLContainer<>(DockerImageName.parse(IMAGE))
            .withUrlParam("rewriteBatchedStatements", "true");
    mysql.start();
    return new Target(
        mysql.getJdbcUrl(),
        mysql.getUsername(),
        mysql.getPassword(),
        "Testcontainers " + IMAGE + " at " + mysql.getJdbcUrl());
  }

  private static String withParameters(String url, String extra) {
    if (extra.isEmpty()) {
      return url;
    }
    String params = extra.startsWith("&") ? extra.substring(1) : extra;
    return url + (url.contains("?") ? "&" : "?") + params;
  }

  private static String masked(String url) {
    return url.replaceAll("(?i)(password=)[^&]*", "$1***");
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
