package dev.outbox.jdbc;

import dev.outbox.Ordering;

/**
 * The storage contract, its ordered section included, on Postgres with Ordering.BY_KEY_BLOCKING.
 */
class PostgresJdbcByKeyBlockingStorageTest extends JdbcOrderedStorageContract {
  PostgresJdbcByKeyBlockingStorageTest() {
    super(TestDatabase.Kind.POSTGRES, TestDatabase.PREFIX + "blocking", Ordering.BY_KEY_BLOCKING);
  }
}
