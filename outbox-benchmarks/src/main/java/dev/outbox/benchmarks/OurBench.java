package dev.outbox.benchmarks;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.ProcessorStorage;
import dev.outbox.Publisher;
import dev.outbox.PumpResult;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.jdbi.v3.core.Handle;

/** Our outbox's figures: producer, drain and commit-to-publish latency. */
final class OurBench {

  /** Messages per producer transaction, as the issue asks. */
  static final int PRODUCER_TX_SIZE = 100;

  /** How the latency run's processor learns about new messages. */
  enum Wakeup {
    /**
     * The adapter's LISTEN/NOTIFY listener wakes the processor; the storage notifies its default
     * way, coalesced on its own connection after the publish (PostgreSQL).
     */
    NOTIFY("notify", Duration.ofSeconds(1)),
    /** The same, with pg_notify in each publishing transaction (the default before issue 17). */
    NOTIFY_IN_TX("notify_in_tx", Duration.ofSeconds(1)),
    /** The producer calls wakeProcessor() in-process after each commit. */
    WAKE("wake", Duration.ofSeconds(1)),
    /** No wake-up: the processor polls every 100 ms. */
    POLL_100MS("poll_100ms", Duration.ofMillis(100)),
    /** No wake-up: the processor polls every second (the core's default interval). */
    POLL_1S("poll_1s", Duration.ofSeconds(1));

    final String label;
    final Duration interval;

    Wakeup(String label, Duration interval) {
      this.label = label;
      this.interval = interval;
    }
  }

  private final OurStorage ours;
  private final SqlDatabase db;
  private final Options o;
  private final byte[] payload;

  OurBench(OurStorage ours, SqlDatabase db, Options o, byte[] payload) {
    this.ours = ours;
    this.db = db;
    this.o = o;
    this.payload = payload;
  }

  private Message message(int i) {
    return Message.builder()
        .namespace(SqlDatabase.NAMESPACE)
        .key(SqlDatabase.key(i))
        .payload(payload)
        .build();
  }

  // ------------------------------------------------------------------------------- producer

  /** Writes {@code n} messages with Outbox.publish, 100 per transaction, one thread; msgs/s. */
  double produceWithOutbox(int n, boolean notify) throws Exception {
    db.reset();
    ProcessorStorage<Handle> storage = ours.storage(notify);
    try (Outbox<Handle> outbox = Outbox.builder(storage, entries -> {}).build()) {
      long start = System.nanoTime();
      for (int first = 0; first < n; first += PRODUCER_TX_SIZE) {
        int count = Math.min(PRODUCER_TX_SIZE, n - first);
        List<Message> batch = new ArrayList<>(count);
        for (int i = first; i < first + count; i++) {
          batch.add(message(i));
        }
        ours.jdbi.useTransaction(h -> outbox.publish(h, batch));
      }
      long took = System.nanoTime() - start;
      checkWritten(n);
      return Bench.rate(n, took);
    }
  }

  /** Writes the same rows with a hand-written batched INSERT, 100 per transaction; msgs/s. */
  double produceWithInsert(int n) throws Exception {
    db.reset();
    long start;
    try (Connection c = db.ds.getConnection()) {
      start = System.nanoTime();
      for (int first = 0; first < n; first += PRODUCER_TX_SIZE) {
        db.insertBatch(c, first, Math.min(PRODUCER_TX_SIZE, n - first), payload);
      }
    }
    long took = System.nanoTime() - start;
    checkWritten(n);
    return Bench.rate(n, took);
  }

  private void checkWritten(int n) throws Exception {
    long rows = db.count();
    if (rows != n) {
      throw new IllegalStateException("the producer wrote " + rows + " rows for " + n);
    }
  }

  // ---------------------------------------------------------------------------------- drain

  /**
   * Loads a backlog and drains it with {@code processors} outboxes, each calling pumpOutbox() on
   * its own thread until a pass finds nothing, with a publisher that only counts.
   *
   * @return the rate and where the time went
   */
  DrainResult drain(int processors, int backlog) throws Exception {
    return drain(processors, backlog, ours.storage(false));
  }

  /**
   * The same with another storage over the benchmark's table, such as a {@code JdbcStorage} in
   * either lease mode.
   */
  <T> DrainResult drain(int processors, int backlog, ProcessorStorage<T> base) throws Exception {
    db.reset();
    db.loadBacklog(backlog, payload);
    LongAdder published = new LongAdder();
    return drainLoaded(
        db,
        o,
        processors,
        backlog,
        base,
        entries -> published.add(entries.size()),
        published,
        "bench-drain-",
        "our drain");
  }

  /**
   * Drains a loaded backlog of {@code backlog} entries with {@code processors} outboxes over {@code
   * base} (timed), each calling pumpOutbox() on its own thread until a pass claims nothing, and
   * checks that the table is empty and the publisher saw every entry once ({@code published} counts
   * what {@code publisher} was handed).
   */
  static <T> DrainResult drainLoaded(
      SqlDatabase db,
      Options o,
      int processors,
      int backlog,
      ProcessorStorage<T> base,
      Publisher publisher,
      LongAdder published,
      String processorIdPrefix,
      String what)
      throws Exception {
    Timings timings = new Timings();
    ProcessorStorage<T> storage = new TimedStorage<>(base, timings);
    List<Outbox<T>> outboxes = new ArrayList<>();
    for (int i = 0; i < processors; i++) {
      outboxes.add(
          Outbox.builder(storage, publisher)
              .processorId(processorIdPrefix + i)
              .batchSize(o.batch())
              .build());
    }
    try {
      long[] r =
          Parallel.run(
              processors,
              i ->
                  () -> {
                    long total = 0;
                    PumpResult pass;
                    do {
                      pass = outboxes.get(i).pumpOutbox();
                      total += pass.published();
                    } while (pass.claimed() > 0);
                    return total;
                  });
      Checks.drained(db, backlog, r[1], what);
      if (published.sum() != backlog) {
        throw new IllegalStateException(
            "the publisher saw " + published.sum() + " messages of " + backlog);
      }
      return DrainResult.of(backlog, r, timings);
    } finally {
      outboxes.forEach(Outbox::close);
    }
  }

  // -------------------------------------------------------------------------------- latency

  /**
   * Offers {@code rate} msgs/s, one message per transaction, for {@code duration} to a started
   * outbox, and measures commit-to-publish: from the moment the producer's commit returns to the
   * moment the publisher is handed the entry.
   *
   * @return {p50 ms, p99 ms, achieved msgs/s}
   */
  double[] latency(Wakeup wakeup, int rate, Duration duration) throws Exception {
    db.reset();
    int total = (int) Math.max(1, rate * duration.toMillis() / 1000);
    long[] committedAt = new long[total];
    long[] publishedAt = new long[total];
    LongAdder published = new LongAdder();
    Publisher recording =
        entries -> {
          long now = System.nanoTime();
          for (var e : entries) {
            byte[] key = e.message().key();
            publishedAt[
                    Integer.parseInt(
                        new String(
                            key, 1, key.length - 1, java.nio.charset.StandardCharsets.US_ASCII))] =
                now;
          }
          published.add(entries.size());
        };
    ProcessorStorage<Handle> storage =
        ours.storage(
            switch (wakeup) {
              case NOTIFY -> OurStorage.Notify.COALESCED;
              case NOTIFY_IN_TX -> OurStorage.Notify.IN_TRANSACTION;
              default -> OurStorage.Notify.NONE;
            });
    boolean listens = wakeup == Wakeup.NOTIFY || wakeup == Wakeup.NOTIFY_IN_TX;
    Outbox<Handle> outbox =
        Outbox.builder(storage, recording)
            .processorId("bench-latency")
            .batchSize(o.batch())
            .processInterval(wakeup.interval)
            .build();
    AutoCloseable listener = listens ? ours.listen(storage, outbox) : () -> {};
    try (outbox;
        listener) {
      outbox.start();
      Thread.sleep(50); // the loop's first (empty) pass
      PacedWriters producers =
          PacedWriters.start(
              "bench-producer",
              4,
              total,
              rate,
              seq -> {
                Message m = message(seq);
                ours.jdbi.useTransaction(h -> outbox.publish(h, m));
                committedAt[seq] = System.nanoTime();
                if (wakeup == Wakeup.WAKE) {
                  outbox.wakeProcessor();
                }
              });
      long start = producers.start;
      producers.join("a latency producer");
      long lastCommit = Arrays.stream(committedAt).max().orElse(start);
      double achieved = Bench.rate(total, lastCommit - start);
      long deadline = System.nanoTime() + wakeup.interval.toNanos() * 3 + 10_000_000_000L;
      while (published.sum() < total) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "only " + published.sum() + " of " + total + " messages were published in time");
        }
        Thread.sleep(5);
      }
      long[] latencies = new long[total];
      for (int i = 0; i < total; i++) {
        // The publisher may see an entry a hair before the producer's commit() returns.
        latencies[i] = Math.max(0, publishedAt[i] - committedAt[i]);
      }
      Arrays.sort(latencies);
      return new double[] {
        Figure.percentile(latencies, total, 50) / 1e6,
        Figure.percentile(latencies, total, 99) / 1e6,
        achieved
      };
    }
  }
}
