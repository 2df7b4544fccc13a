package dev.outbox.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.Publisher;
import dev.outbox.kafka.KafkaPublisher;
import dev.outbox.kafka.KafkaRecords;
import dev.outbox.kafka.TestBroker;
import dev.outbox.testing.TestDatabases;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The Kafka publisher from properties alone, against the Kafka module's in-process KRaft broker: a
 * message published in a Spring-managed transaction reaches the topic, with its message id.
 */
class OutboxKafkaAutoConfigurationTest {

  static HikariDataSource pool;
  static DataSource postgres;

  @BeforeAll
  static void dataSource() {
    pool = OutboxAutoConfigurationTest.pool(TestDatabases.postgres().url());
    postgres = new DelegatingDataSource(pool);
  }

  @AfterAll
  static void close() {
    pool.close();
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
  }

  final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  OutboxKafkaAutoConfiguration.class, OutboxAutoConfiguration.class))
          .withUserConfiguration(App.class)
          .withPropertyValues(
              "outbox.jdbc.table-name=spring_outbox_kafka", "outbox.jdbc.initialize-schema=true");

  @Test
  void aTopicAndTheBrokersMakeTheKafkaPublisherAndMessagesReachTheTopic() {
    TestBroker broker = TestBroker.shared();
    String topic = broker.createTopic("spring-orders");
    runner
        .withPropertyValues(
            "outbox.kafka.topic=" + topic,
            "outbox.kafka.producer.bootstrap.servers=" + broker.bootstrapServers(),
            "outbox.kafka.producer.delivery.timeout.ms=20000",
            "outbox.kafka.producer.request.timeout.ms=10000",
            "outbox.processor.processor-id=ctx-kafka")
        .run(
            ctx -> {
              assertThat(ctx).hasSingleBean(KafkaPublisher.class);
              assertThat(ctx.getBean(Publisher.class)).isInstanceOf(KafkaPublisher.class);
              assertThat(ctx.getBean(Outbox.class).isRunning()).isTrue();
              new TransactionTemplate(ctx.getBean(PlatformTransactionManager.class))
                  .executeWithoutResult(
                      s ->
                          ctx.getBean(TransactionalOutbox.class)
                              .publish(
                                  Message.builder()
                                      .namespace("orders")
                                      .key("order-1")
                                      .payload("created")
                                      .build()));

              List<ConsumerRecord<byte[], byte[]>> records =
                  broker.readAll(topic, 1, Duration.ofSeconds(30));

              assertThat(records).hasSize(1);
              assertThat(new String(records.get(0).key(), StandardCharsets.UTF_8))
                  .isEqualTo("order-1");
              assertThat(new String(records.get(0).value(), StandardCharsets.UTF_8))
                  .isEqualTo("created");
              assertThat(KafkaRecords.messageId(records.get(0))).isNotNull();
              assertThat(KafkaRecords.namespace(records.get(0))).isEqualTo("orders");
            });
  }

  @Test
  void withoutATopicOrRoutesNoKafkaPublisherIsMadeAndAMissingBrokerListIsNamed() {
    runner.run(ctx -> assertThat(ctx).doesNotHaveBean(KafkaPublisher.class));
    runner
        .withPropertyValues("outbox.kafka.topic=orders")
        .run(
            ctx ->
                assertThat(ctx)
                    .hasFailed()
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("outbox.kafka.producer.bootstrap.servers is not set"));
  }
}
