package dev.outbox.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.Ordering;
import dev.outbox.testing.TestDatabases;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumMap;
import java.util.Map;

/**
 * Where this module's tests find their databases: the JDBC URLs in {@code OUTBOX_TEST_POSTGRES_URL}
 * and {@code OUTBOX_TEST_MYSQL_URL}, else a server {@link TestDatabases} starts (Testcontainers, or
 * an embedded PostgreSQL / MariaDB); a given URL that is unreachable fails; nothing is skipped.
 * Every table the tests create starts with {@value #PREFIX}, so they never meet another suite's
 * tables on a shared server.
 */
final class TestDatabase {

  /** The prefix of every table of this module's tests. */
  static final String PREFIX = "jdbc_";

  /** A database the tests run against. */
  enum Kind {
    POSTGRES("OUTBOX_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres"),
    MYSQL(
        "OUTBOX_TEST_MYSQL_URL",
        "jdbc:mysql://127.0.0.1:3306/test?user=root&password=&rewriteBatchedStatements=true");

    final String env;
    final String example;

    Kind(String env, String example) {
      this.env = env;
      this.example = example;
    }

    JdbcDialect dialect() {
      return this == POSTGRES ? JdbcDialect.postgres() : JdbcDialect.mysql();
    }
  }

  private static final Map<Kind, HikariDataSource> POOLS = new EnumMap<>(Kind.class);

  private TestDatabase() {}

  /**
   * The JDBC URL, from {@link TestDatabases}: the URL in the environment variable when it is set
   * (unreachable, the tests fail), else Testcontainers where Docker runs, else an embedded server.
   */
  static synchronized String url(Kind kind) {
    return URLS.computeIfAbsent(
        kind,
        k -> k == Kind.POSTGRES ? TestDatabases.postgres().url() : TestDatabases.mysql().url());
  }

  private static final Map<Kind, String> URLS = new EnumMap<>(Kind.class);

  /** A shared pool (auto-commit on, as pools come by default), kept for the test JVM's life. */
  static synchronized HikariDataSource dataSource(Kind kind) {
    return POOLS.computeIfAbsent(kind, k -> pool(k, true, 8));
  }

  /** A new pool; the caller closes it. */
  static HikariDataSource pool(Kind kind, boolean autoCommit, int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url(kind));
    config.setAutoCommit(autoCommit);
    config.setMaximumPoolSize(size);
    config.setPoolName("test-" + kind + (autoCommit ? "" : "-manual-commit"));
    return new HikariDataSource(config);
  }

  /** A new unpooled connection in auto-commit mode. */
  static Connection connect(Kind kind) throws SQLException {
    return DriverManager.getConnection(url(kind));
  }

  /** Runs statements on a fresh auto-commit connection. */
  static void execute(Kind kind, String... statements) {
    try (Connection c = connect(kind);
        Statement st = c.createStatement()) {
      for (String s : statements) {
        st.execute(s);
      }
    } catch (SQLException e) {
      throw new AssertionError("test setup failed on " + kind + ": " + e.getMessage(), e);
    }
  }

  /** A long from a one-row, one-column query on a fresh connection. */
  static long queryLong(Kind kind, String query) {
    try (Connection c = connect(kind);
        Statement st = c.createStatement();
        var rs = st.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new AssertionError("query failed on " + kind + ": " + e.getMessage(), e);
    }
  }

  /** Drops the table and its dead letters, then builds a storage and creates its schema. */
  static JdbcStorage freshStorage(Kind kind, String table) {
    return freshStorage(kind, table, b -> {});
  }

  /** Like {@link #freshStorage(Kind, String)}, with an ordering. */
  static JdbcStorage freshStorage(Kind kind, String table, Ordering ordering) {
    return freshStorage(kind, table, b -> b.ordering(ordering));
  }

  /** The same, with more settings for the storage. */
  static JdbcStorage freshStorage(
      Kind kind, String table, java.util.function.Consumer<JdbcStorage.Builder> settings) {
    execute(
        kind,
        "DROP TABLE IF EXISTS " + table + "_dead_letters",
        "DROP TABLE IF EXISTS " + table,
        "DROP TABLE IF EXISTS " + table + "_key_locks");
    JdbcStorage.Builder b =
        JdbcStorage.builder(dataSource(kind)).dialect(kind.dialect()).tableName(table);
    settings.accept(b);
    JdbcStorage storage = b.build();
    storage.createSchema();
    return storage;
  }

  /** Empties the table and its dead letters. */
  static void truncate(Kind kind, String table) {
    execute(kind, "DELETE FROM " + table, "DELETE FROM " + table + "_dead_letters");
  }
}
