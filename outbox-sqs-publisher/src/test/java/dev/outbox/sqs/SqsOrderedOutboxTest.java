package dev.outbox.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.Ordering;
import dev.outbox.Outbox;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.InMemoryStorage;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End to end with order: an {@link Outbox} over an ordered {@link InMemoryStorage} hands the FIFO
 * {@link SqsPublisher} whole runs of a key per call, SQS reports transient faults for some entries
 * ({@link FlakySqs}), and a consumer of the queue sees every key's messages, first deliveries, in
 * the order they were written.
 */
class SqsOrderedOutboxTest {

  private static final Object TXN = new Object();

  private static ElasticMq sqs;

  @BeforeAll
  static void startElasticMq() {
    sqs = ElasticMq.start();
  }

  @AfterAll
  static void stopElasticMq() {
    sqs.close();
  }

  @Test
  void everyKeysMessagesArriveInWriteOrderThroughTransientFailures() {
    int keys = 40;
    int perKey = 8;
    String url = sqs.createQueue("ordered", true);
    Map<String, Integer> failuresOf = new ConcurrentHashMap<>();
    AtomicInteger injected = new AtomicInteger();
    FlakySqs client =
        new FlakySqs(sqs.client())
            .failWhen(
                e -> {
                  // About one message in five fails on its first attempt.
                  String id = e.messageDeduplicationId();
                  if (Math.floorMod(id.hashCode(), 5) != 0) {
                    return false;
                  }
                  boolean fail = failuresOf.merge(id, 1, Integer::sum) == 1;
                  if (fail) {
                    injected.incrementAndGet();
                  }
                  return fail;
                });
    SqsPublisher publisher = SqsPublisher.builder(client).queueUrl(url).build();
    assertThat(publisher.keepsOrder()).isTrue();
    InMemoryStorage<Object> storage = new InMemoryStorage<>(Ordering.BY_KEY);
    FakeClock clock = new FakeClock();

    try (Outbox<Object> outbox =
        Outbox.builder(storage, publisher).clock(clock).batchSize(50).unlimitedAttempts().build()) {
      for (int seq = 0; seq < perKey; seq++) {
        for (int k = 0; k < keys; k++) {
          outbox.publish(
              TXN,
              Message.builder()
                  .namespace("ledger")
                  .key("account-" + k)
                  .payload(Integer.toString(seq))
                  .build());
        }
        // Some keys get a burst: runs longer than one, so calls carry several per key.
        for (int k = 0; k < keys; k += 7) {
          outbox.publish(
              TXN,
              Message.builder()
                  .namespace("ledger")
                  .key("account-" + k)
                  .payload(seq + ".5")
                  .build());
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
      for (var m : sqs.receive(url, written, Duration.ofSeconds(30))) {
        if (seen.add(SqsMessages.messageId(m))) {
          Message o = SqsMessages.toOutboxMessage(m);
          firstDeliveries
              .computeIfAbsent(o.keyAsString(), k -> new ArrayList<>())
              .add(o.payloadAsString());
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
    assertThat(client.requests.stream().mapToInt(r -> r.entries().size()).max().orElse(0))
        .as("requests were batched")
        .isGreaterThan(1);
  }
}
