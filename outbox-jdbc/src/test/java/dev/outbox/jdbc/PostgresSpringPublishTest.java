package dev.outbox.jdbc;

/** {@link SpringPublishContract} on PostgreSQL. */
class PostgresSpringPublishTest extends SpringPublishContract {
  PostgresSpringPublishTest() {
    super(TestDatabase.Kind.POSTGRES);
  }
}
