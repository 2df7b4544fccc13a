package dev.outbox.spring.boot;

import dev.outbox.Outbox;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures the {@link OutboxHealthIndicator} (named {@code outbox}) when Spring Boot's
 * health support is on the class path and an {@link Outbox} bean exists, unless {@code
 * management.health.outbox.enabled=false}.
 */
@AutoConfiguration(after = OutboxAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@EnableConfigurationProperties(OutboxProperties.class)
public class OutboxHealthAutoConfiguration {

  /** Creates the auto-configuration. */
  public OutboxHealthAutoConfiguration() {}

  /** The health indicator. */
  @Bean
  @ConditionalOnMissingBean(name = "outboxHealthIndicator")
  @ConditionalOnBean(Outbox.class)
  @ConditionalOnEnabledHealthIndicator("outbox")
  public OutboxHealthIndicator outboxHealthIndicator(
      Outbox<?> outbox,
      ObjectProvider<OutboxProcessorLifecycle> processor,
      OutboxProperties properties) {
    java.time.Duration maxAge = properties.getHealth().getMaxBacklogAge();
    return new OutboxHealthIndicator(
        outbox,
        processor.getIfAvailable() != null,
        maxAge == null || maxAge.isZero() ? null : maxAge);
  }
}
