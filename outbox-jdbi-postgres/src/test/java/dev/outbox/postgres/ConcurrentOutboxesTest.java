package dev.outbox.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.testkit.RecordingPublisher;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Two processors, each with its own storage and connections, sharing one backlog. */
class ConcurrentOutboxesTest {

  private static final String TABLE = "jdbc_pg_concurrent";
  private static final int ENTRIES = 10_000;

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void twoOutboxesPublishEveryEntryOnceBetweenThem() {
    Jdbi writer = TestDatabase.get().jdbi();
    PostgresStorage writerStorage = TestDatabase.freshStorage(writer, TABLE);
    for (int batch = 0; batch < ENTRIES / 1000; batch++) {
      int first = batch * 1000;
      List<Message> messages =
          IntStream.range(first, first + 1000)
              .mapToObj(
                  i ->
                      Message.builder()
                          .namespace("load")
                          .key("k" + i % 13)
                          .payload("m" + i)
                          .build())
              .toList();
      writer.useTransaction(h -> writerStorage.publish(h, TestDatabase.entries(messages)));
    }

    RecordingPublisher publisherA = new RecordingPublisher();
    RecordingPublisher publisherB = new RecordingPublisher();
    try (Outbox<Handle> a = outbox("proc-a", publisherA);
        Outbox<Handle> b = outbox("proc-b", publisherB)) {
      a.start();
      b.start();

      awaitTotal(publisherA, publisherB, ENTRIES, Duration.ofSeconds(60));
    }

    Set<Long> idsA = publisherA.deliveries().keySet();
    Set<Long> idsB = publisherB.deliveries().keySet();
    Set<Long> all = new HashSet<>(idsA);
    all.addAll(idsB);
    System.out.printf(
        "two outboxes published %d entries: proc-a %d, proc-b %d%n",
        all.size(), idsA.size(), idsB.size());
    assertThat(all).hasSize(ENTRIES);
    assertThat(idsA).as("published by both").doesNotContainAnyElementsOf(idsB);
    assertThat(publisherA.deliveries().values()).as("published twice by proc-a").containsOnly(1);
    assertThat(publisherB.deliveries().values()).as("published twice by proc-b").containsOnly(1);
    long left =
        writer.withHandle(
            h -> h.createQuery("SELECT count(*) FROM " + TABLE).mapTo(Long.class).one());
    assertThat(left).as("entries left after both outboxes closed").isZero();
  }

  /** Each outbox gets its own storage over its own Jdbi, as two processes would. */
  private static Outbox<Handle> outbox(String processorId, RecordingPublisher publisher) {
    PostgresStorage storage =
        PostgresStorage.builder(TestDatabase.get().jdbi()).tableName(TABLE).build();
    return Outbox.builder(storage, publisher)
        .processorId(processorId)
        .batchSize(100)
        .claimDuration(Duration.ofMinutes(5))
        .processInterval(Duration.ofMillis(200))
        .build();
  }

  /** Bounded polling: the publishers wake the waiter as they record. */
  private static void awaitTotal(
      RecordingPublisher a, RecordingPublisher b, int total, Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    while (a.distinctCount() + b.distinctCount() < total) {
      if (System.nanoTime() > end) {
        throw new AssertionError(
            "published "
                + (a.distinctCount() + b.distinctCount())
                + " of "
                + total
                + " within "
                + timeout);
      }
      // Wait on whichever has further to go; awaitDistinct returns as soon as it records more.
      RecordingPublisher slower = a.distinctCount() <= b.distinctCount() ? a : b;
      try {
        slower.awaitDistinct(slower.distinctCount() + 1, Duration.ofMillis(50));
      } catch (AssertionError stillWaiting) {
        // the other one may be the one making progress; loop and re-check the total
      }
    }
  }
}
