package dev.outbox.jdbc;

/** {@link AutoCommitOffContract} on MySQL/MariaDB. */
class MySqlAutoCommitOffTest extends AutoCommitOffContract {
  MySqlAutoCommitOffTest() {
    super(TestDatabase.Kind.MYSQL);
  }
}
