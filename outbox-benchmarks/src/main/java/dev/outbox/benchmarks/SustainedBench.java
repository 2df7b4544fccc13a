package dev.outbox.benchmarks;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.ProcessorStorage;
import dev.outbox.Publisher;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jdbi.v3.core.Handle;

/**
 * Sustained load: 8 writer threads offer a fixed rate, one message per transaction, while two
 * outboxes built with their defaults run {@code start()}ed over the default storage (coalesced
 * NOTIFY), woken by one {@code PostgresWakeupListener} as documented (MySQL/MariaDB: woken
 * in-process by each writer's {@code wakeProcessor()} after its commit). Measures the achieved
 * rate, commit-to-publish percentiles, the backlog's maximum (committed minus published, sampled
 * every 10 ms) and, at the end, the table's dead tuples and size.
 */
final class SustainedBench {

  static final int WRITERS = 8;
  static final int PROCESSORS = 2;

  /** How long a rate's relay may take to catch up after the writers stopped. */
  static final long DRAIN_WAIT_NANOS = 30_000_000_000L;

  /** One rate's outcome. */
  record Result(
      int rate,
      double achieved,
      double p50,
      double p99,
      long backlogMax,
      long backlogEnd,
      long deadTuples,
      long liveTuples,
      long tableBytes,
      long autovacuums,
      long unpublished) {

    /**
     * Bounded: the backlog never held more than a second of messages, ended small, and everything
     * was published in the end.
     */
    boolean bounded() {
      return backlogMax <= Math.max(rate, 100)
          && backlogEnd <= Math.max(rate / 10, 10)
          && unpublished == 0;
    }
  }

  private final OurStorage ours;
  private final SqlDatabase db;
  private final byte[] payload;

  SustainedBench(OurStorage ours, SqlDatabase db, byte[] payload) {
    this.ours = ours;
    this.db = db;
    this.payload = payload;
  }

  Result run(int rate, Duration duration) throws Exception {
    return run(rate, duration, null);
  }

  /**
   * One rate; {@code tableOptions} (e.g. {@code autovacuum_vacuum_scale_factor=0}), when not null,
   * are set on the fresh table with {@code ALTER TABLE ... SET (...)} before the run.
   */
  Result run(int rate, Duration duration, String tableOptions) throws Exception {
    // A new table, so its statistics (dead tuples, autovacuum runs) are this run's alone.
    db.execute(
        "DROP TABLE IF EXISTS " + SqlDatabase.TABLE + ", " + SqlDatabase.TABLE + "_dead_letters");
    ours.createSchema();
    if (tableOptions != null && !ours.supportsNotify()) {
      throw new IllegalArgumentException("--sustained-table-options is for PostgreSQL only");
    }
    if (tableOptions != null) {
      db.execute("ALTER TABLE " + SqlDatabase.TABLE + " SET (" + tableOptions + ")");
    }
    int total = (int) Math.max(1, (long) rate * duration.toMillis() / 1000);
    long[] committedAt = new long[total];
    long[] publishedAt = new long[total];
    LongAdder published = new LongAdder();
    AtomicLong committed = new AtomicLong();
    Publisher recording =
        entries -> {
          long now = System.nanoTime();
          for (var e : entries) {
            byte[] key = e.message().key();
            publishedAt[
                    Integer.parseInt(
                        new String(key, 1, key.length - 1, StandardCharsets.US_ASCII))] =
                now;
          }
          published.add(entries.size());
        };
    ProcessorStorage<Handle> storage = ours.storage(OurStorage.Notify.COALESCED);
    List<Outbox<Handle>> outboxes = new ArrayList<>();
    for (int i = 0; i < PROCESSORS; i++) {
      outboxes.add(Outbox.builder(storage, recording).processorId("bench-sustained-" + i).build());
    }
    // PostgreSQL: the adapter's LISTEN/NOTIFY listener wakes both outboxes, as across processes.
    // MySQL/MariaDB have no such signal: each writer wakes both outboxes in-process after its
    // commit (wakeProcessor()), as a service that publishes and relays in one process does.
    boolean notify = ours.supportsNotify();
    AutoCloseable listener = notify ? ours.listen(storage, outboxes) : () -> {};
    try (listener) {
      outboxes.forEach(Outbox::start);
      Thread.sleep(50);
      PacedWriters writers =
          PacedWriters.start(
              "bench-sustained-writer",
              WRITERS,
              total,
              rate,
              seq -> {
                Message m =
                    Message.builder()
                        .namespace(SqlDatabase.NAMESPACE)
                        .key(SqlDatabase.key(seq))
                        .payload(payload)
                        .build();
                ours.jdbi.useTransaction(h -> outboxes.get(0).publish(h, m));
                committedAt[seq] = System.nanoTime();
                committed.incrementAndGet();
                if (!notify) {
                  outboxes.forEach(Outbox::wakeProcessor);
                }
              });
      long start = writers.start;
      long backlogMax = 0;
      while (writers.anyAlive()) {
        backlogMax = Math.max(backlogMax, committed.get() - published.sum());
        Thread.sleep(10);
      }
      writers.join("a sustained-load writer");
      long backlogEnd = committed.get() - published.sum();
      // A rate the relay cannot keep up with is an answer, not a failure: wait at most 30 s for
      // the rest, then count what is left as unpublished, each with the wait so far as its latency
      // (a lower bound), and the rate as not met.
      long deadline = System.nanoTime() + DRAIN_WAIT_NANOS;
      while (published.sum() < total && System.nanoTime() < deadline) {
        backlogMax = Math.max(backlogMax, committed.get() - published.sum());
        Thread.sleep(5);
      }
      long cutoff = System.nanoTime();
      long[] publishedSnapshot = publishedAt.clone();
      long unpublished = 0;
      long lastPublish = start;
      long[] latencies = new long[total];
      for (int i = 0; i < total; i++) {
        if (publishedSnapshot[i] == 0) {
          unpublished++;
          latencies[i] = cutoff - committedAt[i];
        } else {
          lastPublish = Math.max(lastPublish, publishedSnapshot[i]);
          latencies[i] = Math.max(0, publishedSnapshot[i] - committedAt[i]);
        }
      }
      double achieved = Bench.rate(total - unpublished, lastPublish - start);
      Arrays.sort(latencies);
      long[] stats = tableStats();
      return new Result(
          rate,
          achieved,
          Figure.percentile(latencies, total, 50) / 1e6,
          Figure.percentile(latencies, total, 99) / 1e6,
          backlogMax,
          backlogEnd,
          stats[0],
          stats[1],
          stats[2],
          stats[3],
          unpublished);
    } finally {
      outboxes.forEach(Outbox::close);
    }
  }

  /**
   * {dead tuples, live tuples, total relation bytes, autovacuum runs} of the outbox table; on
   * MySQL/MariaDB {-1, rows, data + index bytes, -1}: InnoDB keeps no dead-tuple count (old row
   * versions live in the undo log until purged) and has no autovacuum.
   */
  private long[] tableStats() throws Exception {
    if (!ours.supportsNotify()) {
      db.analyze(); // refreshes information_schema's sizes
      try (Connection c = db.ds.getConnection();
          PreparedStatement ps =
              c.prepareStatement(
                  "SELECT data_length + index_length FROM information_schema.tables"
                      + " WHERE table_schema = DATABASE() AND table_name = ?")) {
        ps.setString(1, SqlDatabase.TABLE);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw new IllegalStateException("no information_schema row for " + SqlDatabase.TABLE);
          }
          return new long[] {-1, db.count(), rs.getLong(1), -1};
        }
      }
    }
    // A backend flushes its table statistics at a transaction's end at most once a second, or
    // when idle for 10 s, or when it exits: close the pool's idle connections so the figures are
    // complete, then give the server a moment.
    if (db.ds instanceof com.zaxxer.hikari.HikariDataSource hikari) {
      hikari.getHikariPoolMXBean().softEvictConnections();
    }
    Thread.sleep(1_100);
    try (Connection c = db.ds.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT n_dead_tup, n_live_tup, pg_total_relation_size(relid), autovacuum_count"
                    + " FROM pg_stat_user_tables WHERE relid = CAST(? AS regclass)")) {
      ps.setString(1, SqlDatabase.TABLE);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("no statistics for " + SqlDatabase.TABLE);
        }
        return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)};
      }
    }
  }
}
