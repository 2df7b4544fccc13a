package dev.outbox.spring.boot;

import dev.outbox.spring.boot.app.jdbc.JdbcOrderApp;
import org.springframework.boot.test.context.SpringBootTest;

/** The JDBC application (DataSourceTransactionManager, JdbcTemplate) on PostgreSQL. */
@SpringBootTest(
    classes = JdbcOrderApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "spring.datasource.url=${OUTBOX_TEST_POSTGRES_URL}",
      "outbox.jdbc.table-name=spring_outbox_jdbc",
      "test.orders-table=spring_orders_jdbc"
    })
class PostgresJdbcAppTest extends OrderAppTestBase {
  @Override
  String expectedTransactionManager() {
    return "org.springframework.jdbc.support.JdbcTransactionManager";
  }
}
