package dev.outbox.spring.boot;

import dev.outbox.Outbox;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures the {@link OutboxEndpoint} when Actuator is on the class path, an {@link Outbox}
 * bean exists and the endpoint is available (enabled and exposed: {@code
 * management.endpoints.web.exposure.include=outbox,...}).
 */
@AutoConfiguration(after = OutboxAutoConfiguration.class)
@ConditionalOnClass({Endpoint.class, ConditionalOnAvailableEndpoint.class})
public class OutboxEndpointAutoConfiguration {

  /** Creates the auto-configuration. */
  public OutboxEndpointAutoConfiguration() {}

  /** The endpoint. */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnBean(Outbox.class)
  @ConditionalOnAvailableEndpoint(OutboxEndpoint.class)
  public OutboxEndpoint outboxEndpoint(
      Outbox<?> outbox, ObjectProvider<OutboxProcessorLifecycle> processor) {
    return new OutboxEndpoint(outbox, processor.getIfAvailable() != null);
  }
}
