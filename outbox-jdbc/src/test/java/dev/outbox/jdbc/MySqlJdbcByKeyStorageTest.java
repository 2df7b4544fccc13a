package dev.outbox.jdbc;

import dev.outbox.Ordering;

/** The storage contract, its ordered section included, on MySql with Ordering.BY_KEY. */
class MySqlJdbcByKeyStorageTest extends JdbcOrderedStorageContract {
  MySqlJdbcByKeyStorageTest() {
    super(TestDatabase.Kind.MYSQL, TestDatabase.PREFIX + "ordered", Ordering.BY_KEY);
  }
}
