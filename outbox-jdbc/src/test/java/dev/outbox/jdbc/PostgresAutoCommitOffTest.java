package dev.outbox.jdbc;

/** {@link AutoCommitOffContract} on PostgreSQL. */
class PostgresAutoCommitOffTest extends AutoCommitOffContract {
  PostgresAutoCommitOffTest() {
    super(TestDatabase.Kind.POSTGRES);
  }
}
