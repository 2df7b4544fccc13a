package dev.outbox.jdbc;

/** {@link LockModeTest} on MySQL/MariaDB. */
class MySqlLockModeTest extends LockModeTest {
  MySqlLockModeTest() {
    super(TestDatabase.Kind.MYSQL);
  }
}
