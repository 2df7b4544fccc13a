package dev.outbox.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.PumpResult;
import dev.outbox.testkit.FakeClock;
import dev.outbox.testkit.InMemoryStorage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 11, finding 1: two outboxes (two tables) feeding one FIFO queue. Each storage numbers its
 * entries from 1, so the row ids collide; SQS's deduplication must not see them as duplicates.
 */
class SqsTwoOutboxesFifoTest {

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
  void everyMessageOfTwoOutboxesArrivesExactlyOnce() {
    String url = sqs.createQueue("two-outboxes", true);
    SqsPublisher publisher = SqsPublisher.builder(sqs.client()).queueUrl(url).build();
    InMemoryStorage<Object> first = new InMemoryStorage<>();
    InMemoryStorage<Object> second = new InMemoryStorage<>();
    List<String> expected = new ArrayList<>();
    try (Outbox<Object> a =
            Outbox.builder(first, publisher).clock(new FakeClock()).processorId("a").build();
        Outbox<Object> b =
            Outbox.builder(second, publisher).clock(new FakeClock()).processorId("b").build()) {
      for (int i = 0; i < 100; i++) {
        for (String table : List.of("first", "second")) {
          String payload = table + " table, message " + i;
          expected.add(payload);
          Message m =
              Message.builder()
                  .namespace("orders")
                  .key("customer-" + (i % 7))
                  .payload(payload)
                  .build();
          (table.equals("first") ? a : b).publish(TXN, m);
        }
      }

      PumpResult fromFirst = a.pumpOutbox();
      PumpResult fromSecond = b.pumpOutbox();

      assertThat(fromFirst.published()).isEqualTo(100);
      assertThat(fromSecond.published()).isEqualTo(100);
      assertThat(first.size() + second.size()).as("both outboxes empty").isZero();
    }

    List<software.amazon.awssdk.services.sqs.model.Message> got =
        new ArrayList<>(sqs.receive(url, expected.size(), Duration.ofSeconds(20)));
    got.addAll(sqs.drain(url));
    List<String> payloads =
        got.stream().map(m -> new String(SqsMessages.payload(m), StandardCharsets.UTF_8)).toList();
    assertThat(payloads).as("every message exactly once").hasSize(200);
    assertThat(payloads).containsExactlyInAnyOrderElementsOf(expected);
  }
}
