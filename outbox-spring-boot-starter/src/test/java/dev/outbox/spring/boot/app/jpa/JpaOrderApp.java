package dev.outbox.spring.boot.app.jpa;

import dev.outbox.testkit.RecordingPublisher;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A Spring Boot application on JPA/Hibernate: Boot's JpaTransactionManager, business rows written
 * by Hibernate.
 */
@SpringBootApplication
public class JpaOrderApp {

  /** The application's own publisher bean: the outbox publishes to it. */
  @Bean
  RecordingPublisher publisher() {
    return new RecordingPublisher();
  }
}
