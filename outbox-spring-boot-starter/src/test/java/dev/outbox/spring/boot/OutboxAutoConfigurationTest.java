package dev.outbox.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.OutboxConfig;
import dev.outbox.ProcessorStorage;
import dev.outbox.jdbc.JdbcStorage;
import dev.outbox.micrometer.OutboxMetrics;
import dev.outbox.spring.boot.app.Orders;
import dev.outbox.testing.TestDatabases;
import dev.outbox.testkit.InMemoryStorage;
import dev.outbox.testkit.RecordingPublisher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The auto-configuration's conditions, properties, transaction modes and lifecycle, each in a small
 * context over the machine's real PostgreSQL (table {@code spring_outbox_ctx}).
 */
class OutboxAutoConfigurationTest {

  static final String TABLE = "spring_outbox_ctx";
  static HikariDataSource postgresPool;
  static HikariDataSource mariadbPool;
  // The contexts' DataSource beans: not Closeable, so closing a context leaves the pools open.
  static DataSource postgres;
  static DataSource mariadb;

  final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  OutboxSqsAutoConfiguration.class,
                  OutboxAutoConfiguration.class,
                  OutboxHealthAutoConfiguration.class))
          .withPropertyValues(
              "outbox.jdbc.table-name=" + TABLE, "outbox.jdbc.initialize-schema=true");

  @BeforeAll
  static void dataSources() {
    postgresPool = pool(TestDatabases.postgres().url());
    mariadbPool = pool(TestDatabases.mysql().url());
    postgres = new DelegatingDataSource(postgresPool);
    mariadb = new DelegatingDataSource(mariadbPool);
  }

  static HikariDataSource pool(String url) {
    if (url == null) {
      throw new IllegalStateException(
          "set OUTBOX_TEST_POSTGRES_URL and OUTBOX_TEST_MYSQL_URL (see the README)");
    }
    HikariDataSource ds = new HikariDataSource();
    ds.setJdbcUrl(url);
    ds.setMaximumPoolSize(4);
    return ds;
  }

  @AfterAll
  static void close() {
    postgresPool.close();
    mariadbPool.close();
  }

  @BeforeEach
  void empty() {
    JdbcStorage.builder(postgres).tableName(TABLE).build().createSchema();
    new JdbcTemplate(postgres).update("DELETE FROM " + TABLE);
  }

  @Configuration(proxyBeanMethods = false)
  static class App {
    @Bean
    DataSource dataSource() {
      return postgres;
    }

    @Bean
    PlatformTransactionManager transactionManager(DataSource dataSource) {
      return new JdbcTransactionManager(dataSource);
    }

    @Bean
    RecordingPublisher publisher() {
      return new RecordingPublisher();
    }
  }

  /**
   * The live threads of the outbox with this processor id (loop, lease, publish, clock): other test
   * classes' cached application contexts run outboxes of their own in this JVM.
   */
  static List<String> outboxThreads(String processorId) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("outbox-") && n.endsWith("-" + processorId))
        .toList();
  }

  @Test
  void wiresStorageOutboxTransactionalOutboxAndProcessorAndEndsEveryThreadOnClose() {
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues("outbox.processor.processor-id=ctx-wiring")
        .run(
            ctx -> {
              assertThat(ctx).hasSingleBean(JdbcStorage.class);
              assertThat(ctx.getBean(JdbcStorage.class).dialect().name()).isEqualTo("PostgreSQL");
              assertThat(ctx).hasSingleBean(TransactionalOutbox.class);
              assertThat(ctx).hasSingleBean(OutboxProcessorLifecycle.class);
              assertThat(ctx).hasSingleBean(OutboxHealthIndicator.class);
              Outbox<?> outbox = ctx.getBean(Outbox.class);
              assertThat(outbox.isRunning()).isTrue();
              assertThat(outboxThreads("ctx-wiring")).contains("outbox-ctx-wiring");
            });
    assertThat(outboxThreads("ctx-wiring")).as("threads left after the context closed").isEmpty();
  }

  @Test
  void micrometerMetersAreBoundWhenARegistryExistsAndCountWhatThePipelinePublishes() {
    runner
        .withConfiguration(AutoConfigurations.of(OutboxMetricsAutoConfiguration.class))
        .withUserConfiguration(App.class)
        .withBean(SimpleMeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues(
            "outbox.processor.processor-id=ctx-metrics", "outbox.metrics.name=orders-outbox")
        .run(
            ctx -> {
              assertThat(ctx).hasSingleBean(OutboxMetrics.class);
              MeterRegistry registry = ctx.getBean(MeterRegistry.class);
              new TransactionTemplate(ctx.getBean(PlatformTransactionManager.class))
                  .executeWithoutResult(
                      s ->
                          ctx.getBean(TransactionalOutbox.class)
                              .publish(
                                  Message.builder().namespace("orders").payload("o-1").build()));
              RecordingPublisher publisher = ctx.getBean(RecordingPublisher.class);
              publisher.awaitDistinct(1, Duration.ofSeconds(10));
              long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
              Counter published = null;
              while (System.nanoTime() < end) {
                published =
                    registry
                        .find("outbox.messages.published")
                        .tag("outbox", "orders-outbox")
                        .counter();
                if (published != null && published.count() == 1) {
                  break;
                }
                Thread.onSpinWait();
              }
              assertThat(published).as("the published counter").isNotNull();
              assertThat(published.count()).isEqualTo(1);
              assertThat(
                      registry
                          .find("outbox.entries.pending")
                          .tag("outbox", "orders-outbox")
                          .gauge())
                  .as("the backlog gauges are bound to the outbox")
                  .isNotNull();
            });
    runner
        .withConfiguration(AutoConfigurations.of(OutboxMetricsAutoConfiguration.class))
        .withUserConfiguration(App.class)
        .withBean(SimpleMeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues("outbox.processor.enabled=false", "outbox.metrics.enabled=false")
        .run(ctx -> assertThat(ctx).doesNotHaveBean(OutboxMetrics.class));
  }

  @Test
  void processorSettingsComeFromPropertiesAndBadOnesAreNamed() {
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues(
            "outbox.processor.batch-size=7",
            "outbox.processor.max-attempts=3",
            "outbox.processor.retry-backoff-max=2m",
            "outbox.processor.enabled=false")
        .run(
            ctx -> {
              OutboxConfig c = ctx.getBean(Outbox.class).config();
              assertThat(c.batchSize()).isEqualTo(7);
              assertThat(c.maxAttempts()).isEqualTo(3);
              assertThat(c.retryBackoffMax()).hasMinutes(2);
              assertThat(c.retryBackoffInitial()).hasSeconds(1);
            });
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues("outbox.processor.batch-size=0")
        .run(
            ctx ->
                assertThat(ctx)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("batchSize is 0; allowed 1 to 10000"));
  }

  @Test
  void defaultsForHalfSetBackoffPairsAreTheCoresDefaults() {
    OutboxConfig core =
        Outbox.builder(new InMemoryStorage<Object>(), new RecordingPublisher()).build().config();
    OutboxConfigDefaults ours = OutboxConfigDefaults.INSTANCE;
    assertThat(ours.retryBackoffInitial).isEqualTo(core.retryBackoffInitial());
    assertThat(ours.retryBackoffMax).isEqualTo(core.retryBackoffMax());
    assertThat(ours.errorBackoffInitial).isEqualTo(core.errorBackoffInitial());
    assertThat(ours.errorBackoffMax).isEqualTo(core.errorBackoffMax());
  }

  @Test
  void processorOffWritesButRunsNoThread() {
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues(
            "outbox.processor.enabled=false", "outbox.processor.processor-id=ctx-off")
        .run(
            ctx -> {
              assertThat(ctx).doesNotHaveBean(OutboxProcessorLifecycle.class);
              Outbox<?> outbox = ctx.getBean(Outbox.class);
              assertThat(outbox.isRunning()).isFalse();
              new TransactionTemplate(ctx.getBean(PlatformTransactionManager.class))
                  .executeWithoutResult(
                      s -> ctx.getBean(TransactionalOutbox.class).publish(Orders.placed("o-off")));
              assertThat(outbox.stats().pending()).isEqualTo(1);
              assertThat(outboxThreads("ctx-off")).isEmpty();
              assertThat(ctx.getBean(OutboxHealthIndicator.class).health().getStatus().getCode())
                  .isEqualTo("UP");
            });
  }

  @Test
  void lazyInitializationStillRunsTheProcessorAndEndsItsThreads() {
    runner
        .withUserConfiguration(App.class)
        .withInitializer(
            c ->
                c.addBeanFactoryPostProcessor(
                    new org.springframework.boot.LazyInitializationBeanFactoryPostProcessor()))
        .withPropertyValues("outbox.processor.processor-id=ctx-lazy")
        .run(
            ctx -> {
              assertThat(ctx.getBean(Outbox.class).isRunning()).isTrue();
              assertThat(outboxThreads("ctx-lazy")).contains("outbox-ctx-lazy");
            });
    assertThat(outboxThreads("ctx-lazy")).isEmpty();
  }

  @Test
  void withoutAPublisherOnlyTheStorageIsConfigured() {
    runner
        .withBean(DataSource.class, () -> postgres)
        .run(
            ctx -> {
              assertThat(ctx).hasSingleBean(JdbcStorage.class);
              assertThat(ctx).doesNotHaveBean(Outbox.class);
              assertThat(ctx).doesNotHaveBean(TransactionalOutbox.class);
              assertThat(ctx).doesNotHaveBean(OutboxProcessorLifecycle.class);
            });
  }

  @Test
  void withoutADataSourceNothingIsConfigured() {
    runner
        .withBean(RecordingPublisher.class, RecordingPublisher::new)
        .run(ctx -> assertThat(ctx).doesNotHaveBean(Outbox.class).hasNotFailed());
  }

  @Test
  void outboxEnabledFalseTurnsEverythingOff() {
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues("outbox.enabled=false")
        .run(
            ctx ->
                assertThat(ctx)
                    .doesNotHaveBean(JdbcStorage.class)
                    .doesNotHaveBean(Outbox.class)
                    .doesNotHaveBean(OutboxHealthIndicator.class));
  }

  @Test
  void aUserStorageBeanReplacesTheJdbcStorage() {
    JdbcStorage own = JdbcStorage.builder(postgres).tableName(TABLE).build();
    runner
        .withUserConfiguration(App.class)
        .withBean("ownStorage", ProcessorStorage.class, () -> own)
        .run(
            ctx -> {
              assertThat(ctx).getBeans(ProcessorStorage.class).hasSize(1).containsValue(own);
              assertThat(ctx).hasSingleBean(Outbox.class);
            });
  }

  @Test
  void dialectCanBeNamedInsteadOfDetected() {
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues("outbox.jdbc.dialect=postgresql", "outbox.processor.enabled=false")
        .run(
            ctx ->
                assertThat(ctx.getBean(JdbcStorage.class).dialect().name())
                    .isEqualTo("PostgreSQL"));
  }

  @Test
  void healthIndicatorCanBeSwitchedOff() {
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues("management.health.outbox.enabled=false")
        .run(ctx -> assertThat(ctx).doesNotHaveBean(OutboxHealthIndicator.class));
  }

  @Test
  void aZeroMaxBacklogAgeTurnsTheAgeCheckOff() {
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues("outbox.processor.enabled=false")
        .run(
            ctx ->
                assertThat(
                        ctx.getBean(OutboxHealthIndicator.class)
                            .health()
                            .getDetails()
                            .get("maxBacklogAge"))
                    .isEqualTo("PT10M"));
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues("outbox.processor.enabled=false", "outbox.health.max-backlog-age=0")
        .run(
            ctx ->
                assertThat(ctx.getBean(OutboxHealthIndicator.class).health().getDetails())
                    .doesNotContainKey("maxBacklogAge"));
  }

  @Test
  void requiredModeOpensATransactionWhenNoneIsActive() {
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues("outbox.transaction-mode=required", "outbox.processor.enabled=false")
        .run(
            ctx -> {
              ctx.getBean(TransactionalOutbox.class).publish(Orders.placed("o-required"));
              assertThat(ctx.getBean(Outbox.class).stats().pending()).isEqualTo(1);
            });
  }

  @Test
  void mandatoryModeRefusesToWriteWithoutATransaction() {
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues("outbox.processor.enabled=false")
        .run(
            ctx -> {
              TransactionalOutbox outbox = ctx.getBean(TransactionalOutbox.class);
              assertThatThrownBy(() -> outbox.publish(Orders.placed("o-mandatory")))
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessageContaining("none is active");
              assertThat(ctx.getBean(Outbox.class).stats().pending()).isZero();
            });
  }

  @Test
  void aReadOnlyTransactionIsRefusedByName() {
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues("outbox.processor.enabled=false")
        .run(
            ctx -> {
              TransactionTemplate readOnly =
                  new TransactionTemplate(ctx.getBean(PlatformTransactionManager.class));
              readOnly.setReadOnly(true);
              readOnly.setName("reportQuery");
              assertThatThrownBy(
                      () ->
                          readOnly.executeWithoutResult(
                              s ->
                                  ctx.getBean(TransactionalOutbox.class)
                                      .publish(Orders.placed("o-ro"))))
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessageContaining("read-only transaction (reportQuery)");
            });
  }

  /** The outbox's DataSource is PostgreSQL; the transaction is MariaDB's. */
  @Configuration(proxyBeanMethods = false)
  static class TwoDatabases {
    @Bean
    @Primary
    DataSource dataSource() {
      return postgres;
    }

    @Bean
    DataSource otherDataSource() {
      return mariadb;
    }

    @Bean
    PlatformTransactionManager otherTransactionManager() {
      return new JdbcTransactionManager(mariadb);
    }

    @Bean
    RecordingPublisher publisher() {
      return new RecordingPublisher();
    }
  }

  @Test
  void aTransactionOfAnotherDataSourceIsRefusedAndNothingIsWritten() {
    runner
        .withUserConfiguration(TwoDatabases.class)
        .withPropertyValues("outbox.processor.enabled=false")
        .run(
            ctx -> {
              TransactionTemplate other =
                  new TransactionTemplate(ctx.getBean(PlatformTransactionManager.class));
              assertThatThrownBy(
                      () ->
                          other.executeWithoutResult(
                              s ->
                                  ctx.getBean(TransactionalOutbox.class)
                                      .publish(Orders.placed("o-other"))))
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessageContaining("is not part of it");
              assertThat(ctx.getBean(Outbox.class).stats().pending()).isZero();
            });
  }

  /** Publishes while it stops, in the phase of the web server's graceful shutdown. */
  static final class InFlightRequest implements org.springframework.context.SmartLifecycle {
    private final TransactionalOutbox outbox;
    private final PlatformTransactionManager tm;
    private volatile boolean running;
    volatile Throwable failure;
    volatile boolean published;

    InFlightRequest(TransactionalOutbox outbox, PlatformTransactionManager tm) {
      this.outbox = outbox;
      this.tm = tm;
    }

    @Override
    public void start() {
      running = true;
    }

    @Override
    public void stop() {
      try {
        new TransactionTemplate(tm)
            .executeWithoutResult(s -> outbox.publish(Orders.placed("o-during-shutdown")));
        published = true;
      } catch (RuntimeException e) {
        failure = e;
      }
      running = false;
    }

    @Override
    public boolean isRunning() {
      return running;
    }

    @Override
    public int getPhase() {
      return DEFAULT_PHASE - 1024; // WebServerGracefulShutdownLifecycle's phase
    }
  }

  @Test
  void requestsFinishingDuringGracefulShutdownCanStillPublish() {
    InFlightRequest[] request = new InFlightRequest[1];
    RecordingPublisher[] publisher = new RecordingPublisher[1];
    runner
        .withUserConfiguration(App.class)
        .withPropertyValues("outbox.processor.processor-id=ctx-shutdown")
        .run(
            ctx -> {
              request[0] =
                  new InFlightRequest(
                      ctx.getBean(TransactionalOutbox.class),
                      ctx.getBean(PlatformTransactionManager.class));
              ctx.getBeanFactory().registerSingleton("inFlightRequest", request[0]);
              request[0].start();
              publisher[0] = ctx.getBean(RecordingPublisher.class);
              assertThat(ctx.getBean(Outbox.class).isRunning()).isTrue();
            });
    assertThat(request[0].failure).isNull();
    assertThat(request[0].published).isTrue();
    // The processor, still running then, may have been woken by that commit and published it;
    // otherwise it waits in the table for the next processor. Either way: exactly one.
    long pending =
        new JdbcTemplate(postgres).queryForObject("SELECT COUNT(*) FROM " + TABLE, Long.class);
    assertThat(pending + publisher[0].count()).isEqualTo(1);
    assertThat(outboxThreads("ctx-shutdown")).isEmpty();
  }
}
