package dev.outbox.spring.boot;

import dev.outbox.spring.boot.app.jpa.JpaOrderApp;
import dev.outbox.testing.TestDatabases;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The JPA application (JpaTransactionManager, Hibernate writes the order) on PostgreSQL. */
@SpringBootTest(
    classes = JpaOrderApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"outbox.jdbc.table-name=spring_outbox_jpa"})
class PostgresJpaAppTest extends OrderAppTestBase {

  /** The database from TestDatabases: the URL in the environment, else an embedded server. */
  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", () -> TestDatabases.postgres().url());
  }

  @Override
  String expectedTransactionManager() {
    return "org.springframework.orm.jpa.JpaTransactionManager";
  }
}
