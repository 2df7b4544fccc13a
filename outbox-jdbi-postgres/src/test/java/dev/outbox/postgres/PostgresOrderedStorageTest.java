package dev.outbox.postgres;

import dev.outbox.Ordering;
import dev.outbox.ProcessorStorage;
import dev.outbox.testkit.OrderedStorageContract;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The storage contract, its ordered section included, on a PostgresStorage built with {@code
 * ordering(BY_KEY_BLOCKING)}: the option reaches the engine, and ordering, publish's lock and
 * blockedKeys go through the Jdbi binding.
 */
class PostgresOrderedStorageTest extends OrderedStorageContract<Handle> {

  private static final String TABLE = "jdbc_pg_ordered";

  private static Jdbi jdbi;
  private static PostgresStorage postgres;

  @Override
  protected ProcessorStorage<Handle> newEmptyStorage() {
    if (jdbi == null) {
      jdbi = TestDatabase.get().jdbi();
      TestDatabase.freshStorage(jdbi, TABLE); // drops and creates the tables
      postgres =
          PostgresStorage.builder(jdbi).tableName(TABLE).ordering(Ordering.BY_KEY_BLOCKING).build();
      postgres.createSchema();
    }
    jdbi.useHandle(h -> h.execute("TRUNCATE " + TABLE + ", " + TABLE + "_dead_letters"));
    return postgres;
  }

  @Override
  protected void inTransaction(Consumer<Handle> work) {
    jdbi.useTransaction(work::accept);
  }

  @Override
  protected void inRolledBackTransaction(Consumer<Handle> work) {
    try (Handle h = jdbi.open()) {
      h.begin();
      work.accept(h);
      h.rollback();
    }
  }
}
