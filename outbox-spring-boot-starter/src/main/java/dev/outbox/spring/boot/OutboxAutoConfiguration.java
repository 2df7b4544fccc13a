package dev.outbox.spring.boot;

import dev.outbox.Clock;
import dev.outbox.Outbox;
import dev.outbox.OutboxListener;
import dev.outbox.ProcessorStorage;
import dev.outbox.Publisher;
import dev.outbox.jdbc.JdbcDialect;
import dev.outbox.jdbc.JdbcStorage;
import java.sql.Connection;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * Auto-configures the transactional outbox over the application's single {@code DataSource}:
 *
 * <ul>
 *   <li>a {@link JdbcStorage} for its database (PostgreSQL or MySQL/MariaDB), unless a {@link
 *       ProcessorStorage} bean exists (it must be a {@code ProcessorStorage<Connection>});
 *   <li>an {@link Outbox} over that storage and the application's {@link Publisher} bean (one of
 *       its own or one a publisher module's auto-configuration made), with the {@code
 *       outbox.processor.*} settings, a {@link Clock} bean if there is one, every {@link
 *       OutboxListener} bean (metrics modules contribute theirs this way) and every {@link
 *       OutboxBuilderCustomizer};
 *   <li>a {@link TransactionalOutbox} that writes in the caller's Spring-managed transaction;
 *   <li>an {@link OutboxProcessorLifecycle} that runs the processor with the application, unless
 *       {@code outbox.processor.enabled=false}.
 * </ul>
 *
 * <p>Without a {@code Publisher} bean only the storage is configured. {@code outbox.enabled=false}
 * turns all of it off.
 */
@AutoConfiguration(
    after = {OutboxSqsAutoConfiguration.class, OutboxKafkaAutoConfiguration.class},
    afterName = {
      "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
      "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
      "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration",
      "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration"
    })
@ConditionalOnClass({Outbox.class, JdbcStorage.class, DataSource.class, DataSourceUtils.class})
@ConditionalOnSingleCandidate(DataSource.class)
@ConditionalOnBooleanProperty(name = "outbox.enabled", matchIfMissing = true)
@EnableConfigurationProperties(OutboxProperties.class)
public class OutboxAutoConfiguration {

  /** Creates the auto-configuration. */
  public OutboxAutoConfiguration() {}

  /**
   * The JDBC storage on the application's {@code DataSource}, with its tables created first when
   * {@code outbox.jdbc.initialize-schema} is true.
   */
  @Bean
  @ConditionalOnMissingBean(ProcessorStorage.class)
  public JdbcStorage outboxStorage(DataSource dataSource, OutboxProperties properties) {
    OutboxProperties.Jdbc jdbc = properties.getJdbc();
    JdbcStorage.Builder builder =
        JdbcStorage.builder(dataSource).tableName(jdbc.getTableName()).ordering(jdbc.getOrdering());
    switch (jdbc.getDialect()) {
      case POSTGRESQL -> builder.dialect(JdbcDialect.postgres());
      case MYSQL -> builder.dialect(JdbcDialect.mysql());
      case AUTO -> builder.dialect(JdbcDialect.detect(dataSource));
    }
    JdbcStorage storage = builder.build();
    if (jdbc.isInitializeSchema()) {
      storage.createSchema();
    }
    return storage;
  }

  /** The outbox; closed (every thread of it ended) when the context closes. */
  @Bean
  @ConditionalOnMissingBean(Outbox.class)
  @ConditionalOnBean(Publisher.class)
  public Outbox<Connection> outbox(
      ProcessorStorage<Connection> storage,
      Publisher publisher,
      OutboxProperties properties,
      ObjectProvider<Clock> clock,
      ObjectProvider<OutboxListener> listeners,
      ObjectProvider<OutboxBuilderCustomizer> customizers) {
    Outbox.Builder<Connection> builder = Outbox.builder(storage, publisher);
    apply(properties.getProcessor(), builder);
    Clock c = clock.getIfUnique();
    if (c != null) {
      builder.clock(c);
    }
    listeners.orderedStream().forEach(builder::listener);
    customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
    return builder.build();
  }

  static void apply(OutboxProperties.Processor p, Outbox.Builder<?> b) {
    if (p.getProcessorId() != null) {
      b.processorId(p.getProcessorId());
    }
    if (p.getBatchSize() != null) {
      b.batchSize(p.getBatchSize());
    }
    if (p.getClaimDuration() != null) {
      b.claimDuration(p.getClaimDuration());
    }
    if (p.getProcessInterval() != null) {
      b.processInterval(p.getProcessInterval());
    }
    if (p.getBusyInterval() != null) {
      b.busyInterval(p.getBusyInterval());
    }
    if (p.getMaxAttempts() != null) {
      b.maxAttempts(p.getMaxAttempts());
    }
    if (p.getRetryBackoffInitial() != null || p.getRetryBackoffMax() != null) {
      OutboxConfigDefaults d = OutboxConfigDefaults.INSTANCE;
      b.retryBackoff(
          p.getRetryBackoffInitial() != null ? p.getRetryBackoffInitial() : d.retryBackoffInitial,
          p.getRetryBackoffMax() != null ? p.getRetryBackoffMax() : d.retryBackoffMax);
    }
    if (p.getRetryJitter() != null) {
      b.retryJitter(p.getRetryJitter());
    }
    if (p.getErrorBackoffInitial() != null || p.getErrorBackoffMax() != null) {
      OutboxConfigDefaults d = OutboxConfigDefaults.INSTANCE;
      b.errorBackoff(
          p.getErrorBackoffInitial() != null ? p.getErrorBackoffInitial() : d.errorBackoffInitial,
          p.getErrorBackoffMax() != null ? p.getErrorBackoffMax() : d.errorBackoffMax);
    }
    if (p.getMaxMessageBytes() != null) {
      b.maxMessageBytes(p.getMaxMessageBytes());
    }
    if (p.getShutdownTimeout() != null) {
      b.shutdownTimeout(p.getShutdownTimeout());
    }
    if (p.getPublishTimeout() != null) {
      b.publishTimeout(p.getPublishTimeout());
    }
  }

  /** Writes messages in the caller's Spring-managed transaction. */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnBean(Outbox.class)
  public TransactionalOutbox transactionalOutbox(
      Outbox<Connection> outbox,
      DataSource dataSource,
      OutboxProperties properties,
      ObjectProvider<PlatformTransactionManager> transactionManager) {
    OutboxProperties.TransactionMode mode = properties.getTransactionMode();
    return new TransactionalOutbox(
        outbox,
        dataSource,
        mode,
        mode == OutboxProperties.TransactionMode.REQUIRED ? transactionManager.getIfUnique() : null,
        properties.isWakeOnCommit());
  }

  /** Runs the processor with the application. */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnBean(Outbox.class)
  @ConditionalOnBooleanProperty(name = "outbox.processor.enabled", matchIfMissing = true)
  public OutboxProcessorLifecycle outboxProcessorLifecycle(Outbox<?> outbox) {
    return new OutboxProcessorLifecycle(outbox);
  }
}
