package dev.outbox.jdbc;

/** {@link LockModeTest} on PostgreSQL. */
class PostgresLockModeTest extends LockModeTest {
  PostgresLockModeTest() {
    super(TestDatabase.Kind.POSTGRES);
  }
}
