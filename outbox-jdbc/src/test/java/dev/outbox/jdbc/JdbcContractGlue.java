package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Ordering;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * What the storage contract needs of a database, shared by {@link JdbcStorageContract} (unordered)
 * and {@link JdbcOrderedStorageContract}: the storage, built once per test class and emptied per
 * test, and plain JDBC transactions.
 */
final class JdbcContractGlue {

  private final TestDatabase.Kind kind;
  private final String table;
  private final Ordering ordering;
  private final LeaseMode leaseMode;
  private JdbcStorage jdbc;

  JdbcContractGlue(TestDatabase.Kind kind, String table, Ordering ordering, LeaseMode leaseMode) {
    this.kind = kind;
    this.table = table;
    this.ordering = ordering;
    this.leaseMode = leaseMode;
  }

  TestDatabase.Kind kind() {
    return kind;
  }

  String table() {
    return table;
  }

  /** The storage over empty tables. */
  JdbcStorage emptyStorage() {
    if (jdbc == null) {
      // LOCK: a hold limit longer than any test, so the suite sees lock-held claims, not
      // conversions; the suite never calls finish, so the last test's claims are ended here.
      jdbc =
          TestDatabase.freshStorage(
              kind,
              table,
              b -> b.ordering(ordering).leaseMode(leaseMode).lockHoldLimit(Duration.ofMinutes(1)));
      assertThat(jdbc.leaseMode()).isEqualTo(leaseMode);
      assertThat(jdbc.ordering()).isEqualTo(ordering);
    }
    jdbc.finishLockedClaims();
    TestDatabase.truncate(kind, table);
    return jdbc;
  }

  /** The suite never calls finish: ends the test's lock-held claims. */
  void finishLockedClaims() {
    if (jdbc != null) {
      jdbc.finishLockedClaims();
    }
  }

  /** Runs work in a transaction of its own, committed or rolled back. */
  void run(Consumer<Connection> work, boolean commit) {
    DataSource ds = TestDatabase.dataSource(kind);
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try {
        work.accept(c);
        if (commit) {
          c.commit();
        } else {
          c.rollback();
        }
      } catch (RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }
}
