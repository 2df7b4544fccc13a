package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.outbox.ClaimedEntry;
import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.PublishException;
import dev.outbox.testkit.InMemoryStorage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The broker stopped in the middle of a batch: the entries Kafka did not acknowledge are reported
 * retryable, the call returns within the delivery timeout, and once the broker is back the retried
 * entries arrive: nothing is lost. And a running {@link Outbox} through an outage: it keeps every
 * entry, dead-letters none, and drains them all once the broker is back. The broker is this class's
 * own, since it is stopped.
 */
class BrokerOutageTest {

  private static TestBroker broker;

  @BeforeAll
  static void start() {
    broker = TestBroker.start(Map.of());
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  @Test
  void theBrokerStoppedMidBatchGivesRetryableFailuresAndNoLossOnceItIsBack() throws Exception {
    String topic = broker.createTopic("outage", 3, Map.of());
    Map<String, Object> config = broker.producerConfig();
    config.put("request.timeout.ms", 2_000);
    config.put("delivery.timeout.ms", 5_000);
    int batchSize = 400;
    int stopAt = 150;
    AtomicInteger routed = new AtomicInteger();
    try (KafkaPublisher publisher =
        KafkaPublisher.builder(config)
            .router(
                m -> {
                  // Stop the broker while the batch is being sent: entries before this one are on
                  // their way (some maybe acknowledged), the rest go to a broker that is gone.
                  if (routed.incrementAndGet() == stopAt) {
                    sleep(300); // time for the first ones to be acknowledged
                    broker.stop();
                  }
                  return KafkaRoute.topic(topic);
                })
            .build()) {
      // Warm up the producer's metadata so the outage hits sends, not the first metadata fetch.
      publisher.publish(List.of(entry("warm-up", 0)));
      routed.set(0);
      List<ClaimedEntry> batch = new ArrayList<>();
      for (int i = 0; i < batchSize; i++) {
        batch.add(entry("k" + (i % 10), i));
      }

      long start = System.nanoTime();
      PublishException failure =
          catchThrowableOfType(PublishException.class, () -> publisher.publish(batch));
      Duration took = Duration.ofNanos(System.nanoTime() - start);

      assertThat(failure).as("some entries were not acknowledged").isNotNull();
      assertThat(failure.failures().values()).noneMatch(PublishException.Failure::permanent);
      // Every entry routed after the stop failed.
      for (int i = stopAt - 1; i < batchSize; i++) {
        assertThat(failure.failed(batch.get(i).id())).as("entry %d failed", i).isTrue();
      }
      // delivery.timeout.ms (5 s) plus the broker's shutdown, not forever.
      assertThat(took).isLessThan(Duration.ofSeconds(30));

      broker.restart();
      List<ClaimedEntry> retry = batch.stream().filter(e -> failure.failed(e.id())).toList();
      // The processor would retry them; the publisher must now send them all.
      routed.set(Integer.MIN_VALUE);
      publisher.publish(retry);

      Set<UUID> got = new HashSet<>();
      List<ConsumerRecord<byte[], byte[]>> records =
          broker.readAll(topic, batchSize + 1, Duration.ofSeconds(30));
      records.forEach(r -> got.add(KafkaRecords.messageId(r)));
      assertThat(got).containsAll(batch.stream().map(ClaimedEntry::messageId).toList());
      System.out.printf(
          "broker stopped mid-batch: %d of %d entries reported retryable after %d ms; after the"
              + " restart and one retry %d records hold all %d messages (%d duplicates)%n",
          failure.errorCount(),
          batchSize,
          took.toMillis(),
          records.size(),
          batchSize,
          records.size() - got.size());
    }
  }

  @Test
  void anOutboxKeepsEverythingThroughAnOutageAndDrainsItOnceTheBrokerIsBack() throws Exception {
    String topic = broker.createTopic("outbox-outage", 3, Map.of());
    Map<String, Object> config = broker.producerConfig();
    config.put("request.timeout.ms", 2_000);
    config.put("delivery.timeout.ms", 5_000);
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    List<UUID> written = new ArrayList<>();
    try (KafkaPublisher publisher = KafkaPublisher.builder(config).topic(topic).build();
        Outbox<Object> outbox =
            Outbox.builder(storage, publisher)
                .batchSize(50)
                .processInterval(Duration.ofMillis(50))
                .errorBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                // Shorter than the delivery timeout: calls are abandoned and interrupted too.
                .publishTimeout(Duration.ofSeconds(2))
                .build()
                .start()) {
      Object txn = new Object();
      outbox.publish(txn, message("before", -1));
      awaitEmpty(storage, Duration.ofSeconds(20)); // the producer knows the topic now
      broker.stop();
      try {
        for (int i = 0; i < 120; i++) {
          outbox.publish(txn, message("k" + (i % 7), i));
        }
        outbox.wakeProcessor();
        Thread.sleep(6_000); // past one delivery timeout and several abandoned calls
        assertThat(storage.size()).as("nothing deleted while the broker is down").isEqualTo(120);
        assertThat(storage.deadLetters(0, 10)).as("nothing dead-lettered by an outage").isEmpty();
        storage.entries().forEach(e -> written.add(e.messageId()));
      } finally {
        broker.restart();
      }
      awaitEmpty(storage, Duration.ofSeconds(60));
      assertThat(storage.deadLetters(0, 10)).isEmpty();
    }
    Set<UUID> got = new HashSet<>();
    broker
        .readAll(topic, written.size() + 1, Duration.ofSeconds(30))
        .forEach(r -> got.add(KafkaRecords.messageId(r)));
    assertThat(written).hasSize(120);
    assertThat(got).containsAll(written);
  }

  private static void awaitEmpty(InMemoryStorage<Object> storage, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (storage.size() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(storage.size()).as("outbox drained within %s", timeout).isZero();
  }

  private static Message message(String key, int seq) {
    return Message.builder().namespace("x").key(key).payload("seq " + seq).build();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static ClaimedEntry entry(String key, int seq) {
    return KafkaPublisherBrokerTest.entry(
        Message.builder().namespace("x").key(key).payload("seq " + seq).build());
  }
}
