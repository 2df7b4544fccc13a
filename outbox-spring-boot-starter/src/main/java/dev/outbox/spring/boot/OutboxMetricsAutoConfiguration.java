package dev.outbox.spring.boot;

import dev.outbox.Outbox;
import dev.outbox.micrometer.OutboxMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Binds the outbox's Micrometer meters ({@code outbox-micrometer}) when that module and a {@link
 * MeterRegistry} are present: an {@link OutboxMetrics} bean, which the outbox picks up as one of
 * its listeners, and its backlog gauges once the outbox exists. The gauges read a cached {@code
 * stats()} refreshed every {@code outbox.metrics.stats-refresh-interval} (default 10 s), so a
 * scrape never reaches the database. Turn it off with {@code outbox.metrics.enabled=false}.
 *
 * <p>The publish-duration timer needs the publisher wrapped ({@code
 * metrics.instrument(publisher)}), which changes the publisher bean's type; define your {@code
 * Publisher} bean that way if you want it.
 */
@AutoConfiguration(
    before = OutboxAutoConfiguration.class,
    afterName = {
      "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"
    })
@ConditionalOnClass({OutboxMetrics.class, MeterRegistry.class})
@ConditionalOnBooleanProperty(name = "outbox.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "outbox.metrics.enabled", matchIfMissing = true)
@EnableConfigurationProperties(OutboxProperties.class)
public class OutboxMetricsAutoConfiguration {

  /** Creates the auto-configuration. */
  public OutboxMetricsAutoConfiguration() {}

  /** The meters, named after {@code outbox.metrics.name} (default {@code outbox}). */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(OutboxMetrics.class)
  @ConditionalOnSingleCandidate(MeterRegistry.class)
  public OutboxMetrics outboxMetrics(MeterRegistry registry, OutboxProperties properties) {
    OutboxProperties.Metrics m = properties.getMetrics();
    return OutboxMetrics.builder(registry, m.getName())
        .statsRefreshInterval(m.getStatsRefreshInterval())
        .build();
  }

  /**
   * Starts the backlog gauges once every singleton, the outbox included, exists; nothing when the
   * application has no outbox (no publisher).
   */
  @Bean
  @ConditionalOnSingleCandidate(MeterRegistry.class)
  public SmartInitializingSingleton outboxMetricsMonitor(
      ObjectProvider<OutboxMetrics> metrics, ObjectProvider<Outbox<?>> outbox) {
    return () -> {
      OutboxMetrics m = metrics.getIfUnique();
      Outbox<?> o = outbox.getIfUnique();
      if (m != null && o != null) {
        m.monitor(o);
      }
    };
  }
}
