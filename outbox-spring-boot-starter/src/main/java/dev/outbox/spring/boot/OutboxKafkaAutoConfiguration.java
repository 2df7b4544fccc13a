package dev.outbox.spring.boot;

import dev.outbox.Publisher;
import dev.outbox.kafka.KafkaPublisher;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;

/**
 * Auto-configures a {@link KafkaPublisher} as the outbox's publisher when outbox-kafka-publisher is
 * on the class path, the application has no {@link Publisher} bean of its own, and {@code
 * outbox.kafka.topic} or {@code outbox.kafka.routes} is set. The publisher builds its own
 * idempotent producer from {@code outbox.kafka.producer.*} (at least {@code bootstrap.servers}) and
 * closes it with the context.
 */
@AutoConfiguration
@ConditionalOnClass(KafkaPublisher.class)
@ConditionalOnBooleanProperty(name = "outbox.enabled", matchIfMissing = true)
@EnableConfigurationProperties(OutboxProperties.class)
public class OutboxKafkaAutoConfiguration {

  /** Creates the auto-configuration. */
  public OutboxKafkaAutoConfiguration() {}

  /** The Kafka publisher, routed by {@code outbox.kafka.*}. */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(Publisher.class)
  @Conditional(KafkaRouting.class)
  public KafkaPublisher outboxKafkaPublisher(OutboxProperties properties) {
    OutboxProperties.Kafka kafka = properties.getKafka();
    Map<String, Object> producer = new LinkedHashMap<>(kafka.getProducer());
    if (!producer.containsKey("bootstrap.servers")) {
      throw new IllegalArgumentException(
          "outbox.kafka.producer.bootstrap.servers is not set; the Kafka publisher needs the"
              + " brokers to connect to");
    }
    KafkaPublisher.Builder builder = KafkaPublisher.builder(producer);
    boolean hasTopic = kafka.getTopic() != null && !kafka.getTopic().isBlank();
    if (hasTopic) {
      builder.topic(kafka.getTopic());
    }
    if (kafka.getRoutes() != null && !kafka.getRoutes().isEmpty()) {
      builder.routes(kafka.getRoutes());
    }
    return builder.build();
  }

  /** Matches when {@code outbox.kafka.topic} or {@code outbox.kafka.routes} is set. */
  static final class KafkaRouting extends PublisherRouting {
    KafkaRouting() {
      super("outbox.kafka.topic", "outbox.kafka.routes");
    }
  }
}
