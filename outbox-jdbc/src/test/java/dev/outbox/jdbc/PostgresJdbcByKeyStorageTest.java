package dev.outbox.jdbc;

import dev.outbox.Ordering;

/** The storage contract, its ordered section included, on Postgres with Ordering.BY_KEY. */
class PostgresJdbcByKeyStorageTest extends JdbcOrderedStorageContract {
  PostgresJdbcByKeyStorageTest() {
    super(TestDatabase.Kind.POSTGRES, TestDatabase.PREFIX + "ordered", Ordering.BY_KEY);
  }
}
