package dev.outbox.jdbc;

/** The storage contract on MySQL/MariaDB with {@link LeaseMode#LOCK}. */
class MySqlLockJdbcStorageTest extends JdbcStorageContract {
  MySqlLockJdbcStorageTest() {
    super(TestDatabase.Kind.MYSQL, TestDatabase.PREFIX + "contract_lock", LeaseMode.LOCK);
  }
}
