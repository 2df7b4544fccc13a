package dev.outbox.spring.boot;

import dev.outbox.spring.boot.app.jpa.JpaOrderApp;
import org.springframework.boot.test.context.SpringBootTest;

/** The JPA application (JpaTransactionManager, Hibernate writes the order) on PostgreSQL. */
@SpringBootTest(
    classes = JpaOrderApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "spring.datasource.url=${OUTBOX_TEST_POSTGRES_URL}",
      "outbox.jdbc.table-name=spring_outbox_jpa"
    })
class PostgresJpaAppTest extends OrderAppTestBase {
  @Override
  String expectedTransactionManager() {
    return "org.springframework.orm.jpa.JpaTransactionManager";
  }
}
