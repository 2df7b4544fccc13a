package dev.outbox.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * A database server that tests (or the example) run against: its JDBC URL, where it came from, and
 * a line saying so for logs and reports.
 *
 * @param url the JDBC URL, with user and password as URL parameters
 * @param source how it was found
 * @param description one line for logs: the source, the server version and where it listens (no
 *     password)
 */
public record TestDatabase(String url, Source source, String description) {

  /** How a {@link TestDatabase} was found, in the order {@link TestDatabases} tries them. */
  public enum Source {
    /** A JDBC URL given by the user, for example in an environment variable. */
    GIVEN_URL,
    /** A container Testcontainers started, when a Docker engine is available. */
    TESTCONTAINERS,
    /** A server started in this JVM from Maven artifacts, stopped when the JVM exits. */
    EMBEDDED
  }

  /**
   * Checks the fields.
   *
   * @throws NullPointerException if a field is null
   */
  public TestDatabase {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(description, "description");
  }

  /**
   * Opens a new connection (no pool).
   *
   * @return a connection the caller closes
   * @throws SQLException if the server cannot be reached
   */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(url);
  }

  /**
   * A data source that opens a new connection per call (no pool: tests want real sessions; wrap it
   * in a pool where one is wanted).
   *
   * @return the driver's own simple data source for {@link #url()}
   * @throws IllegalStateException if the URL is neither PostgreSQL's nor MySQL's/MariaDB's
   */
  public DataSource dataSource() {
    if (url.startsWith("jdbc:postgresql:")) {
      org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
      ds.setURL(url);
      return ds;
    }
    if (url.startsWith("jdbc:mysql:") || url.startsWith("jdbc:mariadb:")) {
      com.mysql.cj.jdbc.MysqlDataSource ds = new com.mysql.cj.jdbc.MysqlDataSource();
      ds.setURL(url.replaceFirst("^jdbc:mariadb:", "jdbc:mysql:"));
      return ds;
    }
    throw new IllegalStateException(
        "no data source for JDBC URL '" + url + "': expected jdbc:postgresql: or jdbc:mysql:");
  }

  @Override
  public String toString() {
    return description;
  }
}
