package dev.outbox.jdbc;

/** {@link SpringPublishContract} on MySQL/MariaDB. */
class MySqlSpringPublishTest extends SpringPublishContract {
  MySqlSpringPublishTest() {
    super(TestDatabase.Kind.MYSQL);
  }
}
