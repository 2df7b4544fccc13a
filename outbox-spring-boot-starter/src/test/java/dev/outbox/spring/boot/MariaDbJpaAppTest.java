package dev.outbox.spring.boot;

import dev.outbox.spring.boot.app.jpa.JpaOrderApp;
import dev.outbox.testing.TestDatabases;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The JPA application (JpaTransactionManager, Hibernate writes the order) on MariaDB. */
@SpringBootTest(
    classes = JpaOrderApp.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "outbox.jdbc.table-name=spring_outbox_jpa",
      // Hibernate 7.2 detects the dialect with a query on information_schema.KEYWORDS.RESERVED,
      // a column MariaDB 11.4 (the embedded fallback) lacks; naming the dialect skips it.
      "spring.jpa.properties.hibernate.dialect=org.hibernate.dialect.MariaDBDialect"
    })
class MariaDbJpaAppTest extends OrderAppTestBase {

  /** The database from TestDatabases: the URL in the environment, else an embedded server. */
  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", () -> TestDatabases.mysql().url());
  }

  @Override
  String expectedTransactionManager() {
    return "org.springframework.orm.jpa.JpaTransactionManager";
  }
}
