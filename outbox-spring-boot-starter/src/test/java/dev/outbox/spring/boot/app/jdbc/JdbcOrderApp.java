package dev.outbox.spring.boot.app.jdbc;

import dev.outbox.testkit.RecordingPublisher;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A Spring Boot application whose transactions are JDBC's: Boot's DataSourceTransactionManager,
 * JdbcTemplate writes, no JPA.
 */
@SpringBootApplication(
    excludeName = {
      "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration",
      "org.springframework.boot.data.jpa.autoconfigure.DataJpaRepositoriesAutoConfiguration"
    })
public class JdbcOrderApp {

  /** The application's own publisher bean: the outbox publishes to it. */
  @Bean
  RecordingPublisher publisher() {
    return new RecordingPublisher();
  }
}
