package dev.outbox.jdbc;

/** The storage contract on MySQL/MariaDB, through plain JDBC connections. */
class MySqlJdbcStorageTest extends JdbcStorageContract {
  MySqlJdbcStorageTest() {
    super(TestDatabase.Kind.MYSQL, TestDatabase.PREFIX + "contract");
  }
}
