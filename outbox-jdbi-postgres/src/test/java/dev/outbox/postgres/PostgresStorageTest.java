package dev.outbox.postgres;

import dev.outbox.ProcessorStorage;
import dev.outbox.testkit.ProcessorStorageContract;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/** The testkit's storage contract, on a real PostgreSQL. */
class PostgresStorageTest extends ProcessorStorageContract<Handle> {

  private static final String TABLE = "jdbc_pg_contract";

  private static Jdbi jdbi;
  private static PostgresStorage postgres;

  @Override
  protected ProcessorStorage<Handle> newEmptyStorage() {
    if (jdbi
        == null) { // once per class; here so that each test reports the skip without a database
      jdbi = TestDatabase.get().jdbi();
      postgres = TestDatabase.freshStorage(jdbi, TABLE);
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

  @Override
  protected int concurrentBacklogSize() {
    return 4000;
  }
}
