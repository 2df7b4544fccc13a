package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.Ordering;
import dev.outbox.Outbox;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.InMemoryStorage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * End to end with order: an {@link Outbox} over an ordered {@link InMemoryStorage} hands {@link
 * KafkaPublisher} whole runs of a key per call; about one message in five fails transiently on its
 * first attempt (its router sends it to a topic that does not exist, so the producer gives up on
 * the topic's metadata, a retriable TimeoutException); a consumer of the real topic sees every
 * key's messages, first deliveries, in the order they were written.
 */
class KafkaOrderedOutboxTest {

  private static final Object TXN = new Object();

  @Test
  void everyKeysMessagesArriveInWriteOrderThroughTransientFailures() {
    TestBroker broker = TestBroker.shared();
    String topic = broker.createTopic("ordered", 4, Map.of());
    String missing = "missing-" + topic;
    int keys = 40;
    int perKey = 8;
    Map<String, Integer> attempts = new ConcurrentHashMap<>();
    AtomicInteger injected = new AtomicInteger();
    Map<String, Object> config = broker.producerConfig();
    config.put("max.block.ms", 1_000);
    InMemoryStorage<Object> storage = new InMemoryStorage<>(Ordering.BY_KEY);
    FakeClock clock = new FakeClock();

    try (KafkaPublisher publisher =
            KafkaPublisher.builder(config)
                .router(
                    m -> {
                      String body = m.payloadAsString();
                      boolean fail =
                          Math.floorMod(body.hashCode(), 5) == 0
                              && attempts.merge(body, 1, Integer::sum) == 1;
                      if (fail) {
                        injected.incrementAndGet();
                      }
                      return KafkaRoute.topic(fail ? missing : topic);
                    })
                .build();
        Outbox<Object> outbox =
            Outbox.builder(storage, publisher)
                .clock(clock)
                .batchSize(50)
                .unlimitedAttempts()
                .build()) {
      assertThat(publisher.keepsOrder()).isTrue();
      for (int seq = 0; seq < perKey; seq++) {
        for (int k = 0; k < keys; k++) {
          outbox.publish(TXN, message(k, Integer.toString(seq)));
        }
        // Some keys get a burst: runs longer than one, so calls carry several per key.
        for (int k = 0; k < keys; k += 7) {
          outbox.publish(TXN, message(k, seq + ".5"));
        }
      }
      int written = storage.size();
      for (int pass = 0; pass < 500 && storage.size() > 0; pass++) {
        outbox.pumpOutbox();
        clock.advance(Duration.ofMinutes(5));
      }
      assertThat(storage.size()).as("outbox drained").isZero();
      assertThat(outbox.deadLetters().list(10)).as("nothing dead-lettered").isEmpty();

      Map<String, List<String>> firstDeliveries = new LinkedHashMap<>();
      Set<UUID> seen = new HashSet<>();
      for (ConsumerRecord<byte[], byte[]> r :
          broker.readAll(topic, written, Duration.ofSeconds(30))) {
        if (seen.add(KafkaRecords.messageId(r))) {
          String body = new String(r.value(), StandardCharsets.UTF_8);
          firstDeliveries
              .computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>())
              .add(body.substring(body.indexOf(':') + 1));
        }
      }
      assertThat(seen).as("every message arrived").hasSize(written);
      for (int k = 0; k < keys; k++) {
        List<String> expected = new ArrayList<>();
        for (int seq = 0; seq < perKey; seq++) {
          expected.add(Integer.toString(seq));
          if (k % 7 == 0) {
            expected.add(seq + ".5");
          }
        }
        assertThat(firstDeliveries.get("account-" + k))
            .as("first deliveries of account-%d, in order", k)
            .containsExactlyElementsOf(expected);
      }
    }
    assertThat(injected.get()).as("transient failures were injected").isGreaterThan(20);
  }

  private static Message message(int key, String seq) {
    return Message.builder()
        .namespace("ledger")
        .key("account-" + key)
        .payload("account-" + key + ":" + seq)
        .build();
  }
}
