package dev.outbox.jdbc;

import dev.outbox.Ordering;
import dev.outbox.ProcessorStorage;
import dev.outbox.testkit.OrderedStorageContract;
import java.sql.Connection;
import java.util.function.Consumer;

/**
 * The testkit's ordered storage contract on {@link JdbcStorage} built with an ordering, for each
 * database and mode (see the subclasses).
 */
abstract class JdbcOrderedStorageContract extends OrderedStorageContract<Connection> {

  private final JdbcContractGlue glue;

  JdbcOrderedStorageContract(TestDatabase.Kind kind, String table, Ordering ordering) {
    this.glue = new JdbcContractGlue(kind, table, ordering, LeaseMode.ROW);
  }

  @Override
  protected ProcessorStorage<Connection> newEmptyStorage() {
    return glue.emptyStorage();
  }

  @Override
  protected void inTransaction(Consumer<Connection> work) {
    glue.run(work, true);
  }

  @Override
  protected void inRolledBackTransaction(Consumer<Connection> work) {
    glue.run(work, false);
  }
}
