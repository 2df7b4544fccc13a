package dev.outbox.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.OutboxListener;
import dev.outbox.OutboxStats;
import dev.outbox.testkit.RecordingPublisher;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Four outboxes drain a backlog while two producers are still writing it: every entry is published
 * exactly once, and no deadlock or lock-wait timeout reaches the processing loops.
 */
class ConcurrentProcessingTest {

  private static final String TABLE = "jdbc_my_concurrent";
  private static final int PRODUCERS = 2;
  private static final int PROCESSORS = 4;
  private static final int TOTAL = 10_000;
  private static final int PER_TRANSACTION = 50;

  private Jdbi jdbi;

  @BeforeEach
  void emptyTables() {
    jdbi = TestDatabase.jdbi();
    MySqlStorage.builder(jdbi).tableName(TABLE).build().createSchema();
    jdbi.useHandle(
        h -> {
          h.execute("TRUNCATE TABLE " + TABLE);
          h.execute("TRUNCATE TABLE " + TABLE + "_dead_letters");
        });
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void fourProcessorsPublishEveryEntryOnceWhileProducersWrite() throws Exception {
    MySqlStorage storage = MySqlStorage.builder(jdbi).tableName(TABLE).build();
    RecordingPublisher publisher = new RecordingPublisher();
    Queue<Throwable> pumpErrors = new ConcurrentLinkedQueue<>();
    OutboxListener errors =
        new OutboxListener() {
          @Override
          public void onPumpError(Throwable error, Duration backoff) {
            pumpErrors.add(error);
          }
        };
    List<Outbox<Handle>> outboxes = new ArrayList<>();
    for (int i = 0; i < PROCESSORS; i++) {
      outboxes.add(
          Outbox.builder(storage, publisher)
              .processorId("processor-" + i)
              .batchSize(100)
              .processInterval(Duration.ofMillis(5))
              .listener(errors)
              .build());
    }
    ExecutorService producers = Executors.newFixedThreadPool(PRODUCERS);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<?>> writing = new ArrayList<>();
      for (int p = 0; p < PRODUCERS; p++) {
        Outbox<Handle> writer = outboxes.get(p);
        String producer = "producer-" + p;
        writing.add(producers.submit(() -> produce(writer, producer, start)));
      }
      outboxes.forEach(Outbox::start);
      start.countDown();

      publisher.awaitDistinct(TOTAL, Duration.ofSeconds(90));
      for (Future<?> f : writing) {
        f.get(10, TimeUnit.SECONDS); // a producer's failure fails the test
      }
    } finally {
      outboxes.forEach(Outbox::close);
      producers.shutdownNow();
    }

    OutboxStats after = storage.stats(Instant.now());
    System.out.printf(
        "%d processors published %d entries (%d deliveries) against %s; deadlock retries: %d%n",
        PROCESSORS,
        publisher.distinctCount(),
        publisher.count(),
        TestDatabase.description(),
        storage.deadlockRetries());
    assertThat(pumpErrors).as("errors that reached the processing loops").isEmpty();
    assertThat(publisher.distinctCount()).isEqualTo(TOTAL);
    assertThat(publisher.count()).as("no entry published twice").isEqualTo(TOTAL);
    assertThat(after.pending()).as("every published entry deleted").isZero();
  }

  /** Writes this producer's share in transactions of {@value #PER_TRANSACTION}. */
  private Void produce(Outbox<Handle> writer, String producer, CountDownLatch start)
      throws InterruptedException {
    start.await();
    int share = TOTAL / PRODUCERS;
    for (int from = 0; from < share; from += PER_TRANSACTION) {
      List<Message> batch =
          IntStream.range(from, Math.min(share, from + PER_TRANSACTION))
              .mapToObj(
                  i ->
                      Message.builder()
                          .namespace("load")
                          .key(producer + "-" + (i % 16))
                          .payload(producer + "-" + i)
                          .build())
              .toList();
      jdbi.useTransaction(h -> writer.publish(h, batch));
      writer.wakeProcessor();
    }
    return null;
  }
}
