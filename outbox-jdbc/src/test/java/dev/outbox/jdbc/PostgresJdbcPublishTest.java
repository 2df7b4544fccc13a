package dev.outbox.jdbc;

/** {@link JdbcPublishContract} on PostgreSQL. */
class PostgresJdbcPublishTest extends JdbcPublishContract {
  PostgresJdbcPublishTest() {
    super(TestDatabase.Kind.POSTGRES);
  }
}
