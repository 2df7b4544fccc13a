package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.jdbc.JdbcDialect;
import dev.outbox.jdbc.JdbcStorage;
import dev.outbox.testing.TestDatabases;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * End to end: producer threads write messages through {@link Outbox} into PostgreSQL in JDBC
 * transactions they commit or roll back, the processor drains the table into the real broker with
 * {@link KafkaPublisher}, and an independent consumer checks that every committed message arrived,
 * deduplicated by message id, in order per key, and no rolled-back one did.
 */
class OutboxToKafkaTest {

  private static final String TABLE = "kafka_e2e_outbox";

  /** The URL in OUTBOX_TEST_POSTGRES_URL, else a server TestDatabases starts. */
  static String postgresUrl() {
    return TestDatabases.postgres().url();
  }

  @Test
  void everyCommittedMessageIsConsumedOnceByIdAndInKeyOrderAndNoRolledBackOne() throws Exception {
    TestBroker broker = TestBroker.shared();
    String topic = broker.createTopic("orders", 4, Map.of());
    Map<String, Object> config = broker.producerConfig();
    config.put("max.request.size", 100_000);
    HikariConfig hikari = new HikariConfig();
    hikari.setJdbcUrl(postgresUrl());
    hikari.setMaximumPoolSize(8);
    HikariDataSource dataSource = new HikariDataSource(hikari);
    JdbcStorage storage =
        JdbcStorage.builder(dataSource).dialect(JdbcDialect.postgres()).tableName(TABLE).build();
    storage.createSchema();
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement()) {
      st.execute("DELETE FROM " + TABLE);
      st.execute("DELETE FROM " + storage.deadLetterTableName());
    }
    int producers = 4;
    int txPerProducer = 150;
    Set<String> committed = ConcurrentHashMap.newKeySet();
    Set<String> rolledBack = ConcurrentHashMap.newKeySet();

    try (KafkaPublisher publisher =
            KafkaPublisher.builder(config).routes(Map.of("order-created", topic)).build();
        Outbox<Connection> outbox =
            Outbox.builder(storage, publisher)
                .batchSize(100)
                .processInterval(Duration.ofMillis(20))
                .build()
                .start()) {
      // The publisher's limit is enforced inside the writer's transaction.
      try (Connection refused = dataSource.getConnection()) {
        refused.setAutoCommit(false);
        assertThatThrownBy(
                () ->
                    outbox.publish(
                        refused,
                        Message.builder()
                            .namespace("order-created")
                            .payload(new byte[100_000])
                            .build()))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("max.request.size is 100000");
        refused.rollback();
      }

      ExecutorService pool = Executors.newFixedThreadPool(producers);
      List<Future<?>> done = new ArrayList<>();
      for (int p = 0; p < producers; p++) {
        int producer = p;
        done.add(
            pool.submit(
                () -> {
                  int seq = 0;
                  for (int t = 0; t < txPerProducer; t++) {
                    Connection tx = dataSource.getConnection();
                    tx.setAutoCommit(false);
                    boolean rollBack = t % 7 == 3;
                    List<String> written = new ArrayList<>();
                    for (int m = 0; m <= t % 3; m++) {
                      String key = "customer-" + producer + "-" + (t % 5);
                      String body = key + ":" + seq++;
                      outbox.publish(
                          tx,
                          Message.builder()
                              .namespace("order-created")
                              .key(key)
                              .payload(body)
                              .header("producer", Integer.toString(producer))
                              .build());
                      written.add(body);
                    }
                    if (rollBack) {
                      tx.rollback();
                      rolledBack.addAll(written);
                    } else {
                      tx.commit();
                      committed.addAll(written);
                      outbox.wakeProcessor();
                    }
                    tx.close();
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
      pool.shutdown();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (storage.stats(Instant.now()).pending() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(storage.stats(Instant.now()).pending()).as("outbox drained").isZero();
      assertThat(storage.deadLetters(0, 10)).as("dead letters").isEmpty();
    } finally {
      dataSource.close();
    }

    List<ConsumerRecord<byte[], byte[]>> records =
        broker.readAll(topic, committed.size(), Duration.ofSeconds(30));
    // A consumer deduplicating by message id, as the README says.
    Map<UUID, String> byId = new LinkedHashMap<>();
    Map<String, List<Integer>> seqByKey = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      String body = new String(r.value(), StandardCharsets.UTF_8);
      if (byId.putIfAbsent(KafkaRecords.messageId(r), body) == null) {
        String key = new String(r.key(), StandardCharsets.UTF_8);
        assertThat(body).startsWith(key + ":");
        assertThat(KafkaRecords.namespace(r)).isEqualTo("order-created");
        seqByKey
            .computeIfAbsent(key, k -> new ArrayList<>())
            .add(Integer.parseInt(body.substring(key.length() + 1)));
      }
    }
    Set<String> consumed = new HashSet<>(byId.values());
    assertThat(consumed).hasSize(byId.size()).isEqualTo(committed);
    assertThat(consumed).doesNotContainAnyElementsOf(rolledBack);
    assertThat(rolledBack).isNotEmpty();
    seqByKey.forEach((key, seqs) -> assertThat(seqs).as("order of %s", key).isSorted());
  }
}
