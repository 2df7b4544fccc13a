package dev.outbox.jdbc;

/** {@link JdbcPublishContract} on MySQL/MariaDB. */
class MySqlJdbcPublishTest extends JdbcPublishContract {
  MySqlJdbcPublishTest() {
    super(TestDatabase.Kind.MYSQL);
  }
}
