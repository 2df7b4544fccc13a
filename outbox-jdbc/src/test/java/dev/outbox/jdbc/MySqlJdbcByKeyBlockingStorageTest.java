package dev.outbox.jdbc;

import dev.outbox.Ordering;

/** The storage contract, its ordered section included, on MySql with Ordering.BY_KEY_BLOCKING. */
class MySqlJdbcByKeyBlockingStorageTest extends JdbcOrderedStorageContract {
  MySqlJdbcByKeyBlockingStorageTest() {
    super(TestDatabase.Kind.MYSQL, TestDatabase.PREFIX + "blocking", Ordering.BY_KEY_BLOCKING);
  }
}
