package dev.outbox.jdbc;

import dev.outbox.ProcessorStorage;
import dev.outbox.testkit.ProcessorStorageContract;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * The testkit's storage contract on {@link JdbcStorage} with plain JDBC transactions, for each
 * database (see the subclasses).
 */
abstract class JdbcStorageContract extends ProcessorStorageContract<Connection> {

  private final TestDatabase.Kind kind;
  private final String table;
  private JdbcStorage jdbc;

  JdbcStorageContract(TestDatabase.Kind kind, String table) {
    this.kind = kind;
    this.table = table;
  }

  @Override
  protected ProcessorStorage<Connection> newEmptyStorage() {
    if (jdbc == null) {
      jdbc = TestDatabase.freshStorage(kind, table);
    }
    TestDatabase.truncate(kind, table);
    return jdbc;
  }

  @Override
  protected void inTransaction(Consumer<Connection> work) {
    run(work, true);
  }

  @Override
  protected void inRolledBackTransaction(Consumer<Connection> work) {
    run(work, false);
  }

  private void run(Consumer<Connection> work, boolean commit) {
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
