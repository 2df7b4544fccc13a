package dev.outbox.jdbc;

/** The storage contract on PostgreSQL, through plain JDBC connections. */
class PostgresJdbcStorageTest extends JdbcStorageContract {
  PostgresJdbcStorageTest() {
    super(TestDatabase.Kind.POSTGRES, TestDatabase.PREFIX + "contract");
  }

  @Override
  protected int concurrentBacklogSize() {
    return 4000;
  }
}
