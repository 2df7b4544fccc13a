package dev.outbox.jdbc;

import dev.outbox.Ordering;

/** The storage contract, its ordered section included, on MySql with Ordering.BY_KEY. */
class MySqlJdbcByKeyStorageTest extends JdbcStorageContract {
  MySqlJdbcByKeyStorageTest() {
    super(TestDatabase.Kind.MYSQL, TestDatabase.PREFIX + "ordered", Ordering.BY_KEY);
  }
}
