package dev.outbox.spring.boot;

import dev.outbox.spring.boot.app.jdbc.JdbcOrderApp;
import dev.outbox.testing.TestDatabases;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The JDBC application (DataSourceTransactionManager, JdbcTemplate) on PostgreSQL. */
@SpringBootTest(
    classes = JdbcOrderApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "outbox.jdbc.table-name=spring_outbox_jdbc",
      "test.orders-table=spring_orders_jdbc"
    })
class PostgresJdbcAppTest extends OrderAppTestBase {

  /** The database from TestDatabases: the URL in the environment, else an embedded server. */
  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", () -> TestDatabases.postgres().url());
  }

  @Override
  String expectedTransactionManager() {
    return "org.springframework.jdbc.support.JdbcTransactionManager";
  }
}
