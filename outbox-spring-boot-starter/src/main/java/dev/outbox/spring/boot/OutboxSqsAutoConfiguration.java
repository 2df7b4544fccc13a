package dev.outbox.spring.boot;

import dev.outbox.Publisher;
import dev.outbox.sqs.SqsPublisher;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

/**
 * Auto-configures an {@link SqsPublisher} as the outbox's publisher when outbox-sqs-publisher is on
 * the class path, the application has one {@link SqsAsyncClient} bean (its own, or Spring Cloud
 * AWS's), no {@link Publisher} bean of its own, and {@code outbox.sqs.queue-url} or {@code
 * outbox.sqs.routes} is set. The client stays the application's: the publisher never closes it.
 */
@AutoConfiguration(afterName = "io.awspring.cloud.autoconfigure.sqs.SqsAutoConfiguration")
@ConditionalOnClass({SqsPublisher.class, SqsAsyncClient.class})
@ConditionalOnBooleanProperty(name = "outbox.enabled", matchIfMissing = true)
@EnableConfigurationProperties(OutboxProperties.class)
public class OutboxSqsAutoConfiguration {

  /** Creates the auto-configuration. */
  public OutboxSqsAutoConfiguration() {}

  /** The SQS publisher, routed by {@code outbox.sqs.*}. */
  @Bean
  @ConditionalOnMissingBean(Publisher.class)
  @ConditionalOnSingleCandidate(SqsAsyncClient.class)
  @Conditional(SqsRouting.class)
  public SqsPublisher outboxSqsPublisher(SqsAsyncClient client, OutboxProperties properties) {
    OutboxProperties.Sqs sqs = properties.getSqs();
    SqsPublisher.Builder builder = SqsPublisher.builder(client);
    boolean hasQueue = sqs.getQueueUrl() != null && !sqs.getQueueUrl().isBlank();
    boolean hasRoutes = sqs.getRoutes() != null && !sqs.getRoutes().isEmpty();
    if (hasQueue && hasRoutes) {
      throw new IllegalArgumentException(
          "outbox.sqs.queue-url ("
              + sqs.getQueueUrl()
              + ") and outbox.sqs.routes "
              + sqs.getRoutes().keySet()
              + " are both set; set one of them");
    }
    if (hasQueue) {
      builder.queueUrl(sqs.getQueueUrl());
    } else {
      builder.routes(sqs.getRoutes());
    }
    if (sqs.getMaxMessageBytes() != null) {
      builder.maxMessageBytes(sqs.getMaxMessageBytes());
    }
    return builder.build();
  }

  /** Matches when {@code outbox.sqs.queue-url} or {@code outbox.sqs.routes} is set. */
  static final class SqsRouting extends PublisherRouting {
    SqsRouting() {
      super("outbox.sqs.queue-url", "outbox.sqs.routes");
    }
  }
}
