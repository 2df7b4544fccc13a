package dev.outbox.benchmarks;

import dev.outbox.Message;
import dev.outbox.Outbox;
import dev.outbox.ProcessorStorage;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.jdbi.v3.core.Handle;

/**
 * Concurrent writers, one message per transaction, as most services write: {@code Outbox.publish}
 * against a hand-written single-row INSERT of the same row shape, from the same number of threads
 * for the same time, each transaction on a connection of the shared pool.
 */
final class WritersBench {

  /** What each writer transaction does. */
  enum Mode {
    /** A hand-written INSERT of one row and a commit: the baseline. */
    INSERT("insert", "hand-written INSERT of one row per transaction"),
    /** Outbox.publish of one message with the storage's defaults (PostgreSQL: coalesced NOTIFY). */
    OUTBOX("outbox", "Outbox.publish, 1 message per transaction, default storage"),
    /** Outbox.publish without any notification: isolates the coalesced NOTIFY's cost. */
    OUTBOX_NO_NOTIFY("outbox_nonotify", "the same with notifyMode(NONE)"),
    /** Outbox.publish with pg_notify inside each transaction (the default before issue 17). */
    OUTBOX_NOTIFY_IN_TX(
        "outbox_notify_in_tx", "the same with pg_notify in each transaction (old default)");

    final String label;
    final String what;

    Mode(String label, String what) {
      this.label = label;
      this.what = what;
    }
  }

  private final OurStorage ours;
  private final SqlDatabase db;
  private final byte[] payload;

  WritersBench(OurStorage ours, SqlDatabase db, byte[] payload) {
    this.ours = ours;
    this.db = db;
    this.payload = payload;
  }

  /** Commits per second of {@code threads} writers doing {@code mode} for {@code duration}. */
  double run(Mode mode, int threads, Duration duration) throws Exception {
    db.reset();
    ProcessorStorage<Handle> storage =
        switch (mode) {
          case INSERT -> null;
          case OUTBOX -> ours.storage(OurStorage.Notify.COALESCED);
          case OUTBOX_NO_NOTIFY -> ours.storage(OurStorage.Notify.NONE);
          case OUTBOX_NOTIFY_IN_TX -> ours.storage(OurStorage.Notify.IN_TRANSACTION);
        };
    Outbox<Handle> outbox = storage == null ? null : Outbox.builder(storage, entries -> {}).build();
    AtomicInteger next = new AtomicInteger();
    long durationNanos = duration.toNanos();
    try {
      long[] r =
          Parallel.run(
              threads,
              t ->
                  () -> {
                    long end = System.nanoTime() + durationNanos;
                    long written = 0;
                    while (System.nanoTime() < end) {
                      int seq = next.getAndIncrement();
                      if (outbox == null) {
                        db.insertOne(seq, payload);
                      } else {
                        Message m =
                            Message.builder()
                                .namespace(SqlDatabase.NAMESPACE)
                                .key(SqlDatabase.key(seq))
                                .payload(payload)
                                .build();
                        ours.jdbi.useTransaction(h -> outbox.publish(h, m));
                      }
                      written++;
                    }
                    return written;
                  });
      long rows = db.count();
      if (rows != r[1]) {
        throw new IllegalStateException(
            "writers ("
                + mode.label
                + ") committed "
                + r[1]
                + " transactions but "
                + rows
                + " rows are in the table");
      }
      return Bench.rate(r[1], r[0]);
    } finally {
      if (outbox != null) {
        outbox.close();
      }
    }
  }
}
