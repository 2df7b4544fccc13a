package dev.outbox.jdbc;

/** The storage contract on PostgreSQL with {@link LeaseMode#LOCK}. */
class PostgresLockJdbcStorageTest extends JdbcStorageContract {
  PostgresLockJdbcStorageTest() {
    super(TestDatabase.Kind.POSTGRES, TestDatabase.PREFIX + "contract_lock", LeaseMode.LOCK);
  }

  @Override
  protected int concurrentBacklogSize() {
    return 4000;
  }
}
