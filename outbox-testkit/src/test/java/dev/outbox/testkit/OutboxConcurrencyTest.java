package dev.outbox.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.Outbox;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Several processors and producers on one storage, on real threads and the real clock, with a
 * publisher that fails every 7th entry and leases short enough to expire mid-run.
 */
class OutboxConcurrencyTest {

  private static final int PRODUCERS = 4;
  private static final int PER_PRODUCER = 2_500;
  private static final int PROCESSORS = 4;

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void everyMessageIsPublishedAtLeastOnceAndNoneIsLost() throws Exception {
    InMemoryStorage<Object> storage = new InMemoryStorage<>();
    RecordingPublisher publisher = new RecordingPublisher().failEveryNth(7);
    List<Outbox<Object>> processors = new ArrayList<>();
    for (int i = 0; i < PROCESSORS; i++) {
      processors.add(
          Outbox.builder(storage, publisher)
              .processorId("processor-" + i)
              .batchSize(50)
              .claimDuration(Duration.ofMillis(200))
              .processInterval(Duration.ofMillis(5))
              .retryBackoff(Duration.ZERO, Duration.ZERO)
              .build()
              .start());
    }
    ExecutorService producers = Executors.newFixedThreadPool(PRODUCERS);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int p = 0; p < PRODUCERS; p++) {
        int producer = p;
        Outbox<Object> via = processors.get(p % PROCESSORS);
        done.add(
            producers.submit(
                () -> {
                  for (int i = 0; i < PER_PRODUCER; i += 25) {
                    List<Message> tx = new ArrayList<>();
                    for (int j = i; j < i + 25; j++) {
                      tx.add(
                          Message.builder()
                              .namespace("n")
                              .key("p" + producer)
                              .payload(producer + ":" + j)
                              .build());
                    }
                    via.publish(new Object(), tx);
                    via.wakeProcessor();
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }

      publisher.awaitDistinct(PRODUCERS * PER_PRODUCER, Duration.ofSeconds(60));
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (storage.size() > 0 && System.nanoTime() < end) {
        processors.forEach(Outbox::wakeProcessor);
        Thread.onSpinWait();
      }
    } finally {
      producers.shutdownNow();
      processors.forEach(Outbox::close);
    }

    List<String> payloads = publisher.messages().stream().map(Message::payloadAsString).toList();
    List<String> expected = new ArrayList<>();
    for (int p = 0; p < PRODUCERS; p++) {
      for (int i = 0; i < PER_PRODUCER; i++) {
        expected.add(p + ":" + i);
      }
    }
    assertThat(payloads).as("every message published at least once").containsAll(expected);
    assertThat(storage.size()).as("nothing left behind").isZero();
    assertThat(publisher.seen())
        .as("the publisher really failed some")
        .isGreaterThan(expected.size());
    System.out.printf(
        "concurrency: %d messages, %d deliveries, %d duplicates, %d failed attempts%n",
        expected.size(),
        payloads.size(),
        payloads.size() - publisher.distinctCount(),
        publisher.seen() - payloads.size());
  }
}
