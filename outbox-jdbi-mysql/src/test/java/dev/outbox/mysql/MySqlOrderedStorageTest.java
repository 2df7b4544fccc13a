package dev.outbox.mysql;

import dev.outbox.Ordering;
import dev.outbox.ProcessorStorage;
import dev.outbox.testkit.OrderedStorageContract;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The storage contract, its ordered section included, on a MySqlStorage built with {@code
 * ordering(BY_KEY_BLOCKING)}: the option reaches the engine, and ordering, publish's lock and
 * blockedKeys go through the Jdbi binding.
 */
class MySqlOrderedStorageTest extends OrderedStorageContract<Handle> {

  private static final String TABLE = "jdbc_my_ordered";

  private static Jdbi jdbi;
  private static MySqlStorage mysql;

  @Override
  protected ProcessorStorage<Handle> newEmptyStorage() {
    if (jdbi == null) {
      jdbi = TestDatabase.jdbi();
      jdbi.useHandle(
          h -> {
            h.execute("DROP TABLE IF EXISTS " + TABLE + "_dead_letters");
            h.execute("DROP TABLE IF EXISTS " + TABLE);
            h.execute("DROP TABLE IF EXISTS " + TABLE + "_key_locks");
          });
      mysql =
          MySqlStorage.builder(jdbi).tableName(TABLE).ordering(Ordering.BY_KEY_BLOCKING).build();
      mysql.createSchema();
    }
    jdbi.useHandle(
        h -> {
          h.execute("TRUNCATE TABLE " + TABLE);
          h.execute("TRUNCATE TABLE " + TABLE + "_dead_letters");
        });
    return mysql;
  }

  @Override
  protected void inTransaction(Consumer<Handle> work) {
    jdbi.useTransaction(work::accept);
  }

  @Override
  protected void inRolledBackTransaction(Consumer<Handle> work) {
    jdbi.useHandle(
        h -> {
          h.begin();
          try {
            work.accept(h);
          } finally {
            h.rollback();
          }
        });
  }
}
